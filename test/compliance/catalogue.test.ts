// §5 and the controller: the catalogue is what the ledger publishes; an edited published version stops the start (finding 5).
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { startTestServer } from "../support/harness.js";
import { receiptPayload } from "./support.js";
import { makeTempDir } from "../support/common.js";

const root = makeTempDir("ledger-catalogue-");
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A copy of the shipped catalogue (and the text it points at), changed by `edit`. */
function catalogue(name: string, edit: (v1: Record<string, unknown>) => void): string {
  const dir = join(root, name, "policies");
  mkdirSync(dir, { recursive: true });
  copyFileSync("data/privacy-policy.ja.txt", join(root, name, "privacy-policy.ja.txt"));
  const v1 = JSON.parse(readFileSync("data/policies/clavis-privacy.v1.json", "utf8")) as Record<string, unknown>;
  edit(v1);
  writeFileSync(join(dir, "clavis-privacy.v1.json"), JSON.stringify(v1));
  return dir;
}

describe("the catalogue and the controller", () => {
  it("finding 5: recipients added to a published version's file without a new text stop the start with a one-line reason", async () => {
    const dataDir = join(root, "data");
    const srv = await startTestServer({ dataDir });
    await srv.close();
    const edited = catalogue("edited", (v1) => {
      const purposes = v1["purposes"] as { id: string; recipients: unknown[] }[];
      purposes.find((p) => p.id === "third-party-provision")!.recipients.push({ id: "partner-sg", name: "Partner", kind: "THIRD_PARTY", country: "SG" });
    });
    const start = startTestServer({ dataDir, env: { CATALOG_DIR: edited } });
    await expect(start).rejects.toThrow(/differs from version 1 published with the same text.*publish a new version/);
    const message = await start.catch((e: Error) => e.message);
    expect(message).not.toContain("\n");
    // The unchanged catalogue still starts.
    const again = await startTestServer({ dataDir });
    await again.close();
  });

  it("receipts and exports name the controller the catalogue gives, nothing hard-coded", async () => {
    const dir = catalogue("controller", (v1) => {
      v1["controller"] = {
        name: "中電クラビス株式会社",
        address: "名古屋市東区東新町1番地",
        contact: "個人情報お問い合わせ窓口",
        email: "privacy@example.jp",
        phone: "052-000-0000",
        url: "https://example.jp/privacy",
        requestProcedure: "https://example.jp/privacy/requests",
      };
    });
    const srv = await startTestServer({ env: { CATALOG_DIR: dir } });
    try {
      const r = await srv.gql<{ recordConsent: { receipt: string } }>(
        `mutation { recordConsent(input: { policyVersion: 1, acceptPolicy: true }) { receipt } }`,
        {},
        await srv.token("ctl", "consent:self"),
      );
      expect(r.errors).toBeUndefined();
      const payload = receiptPayload(r.data!.recordConsent.receipt);
      expect(payload.piiControllers).toEqual([
        {
          piiController: "中電クラビス株式会社",
          address: "名古屋市東区東新町1番地",
          contact: "個人情報お問い合わせ窓口",
          email: "privacy@example.jp",
          phone: "052-000-0000",
          piiControllerUrl: "https://example.jp/privacy",
          requestProcedure: "https://example.jp/privacy/requests",
        },
      ]);
      // The version names no document URL: the controller's page is the policy's address.
      expect(payload["policyUrl"]).toBe("https://example.jp/privacy");
      const x = await srv.gql<{ subjectExport: { parties: { piiController: { address: string } } } }>(`query { subjectExport(subjectId: "ctl") }`, {}, await srv.token("a", "ledger:read"));
      expect(x.data!.subjectExport.parties.piiController.address).toBe("名古屋市東区東新町1番地");
      const v = await srv.gql<{ policy: { versions: { controller: { requestProcedure: string } }[] } }>(
        `query { policy(id: "clavis-privacy") { versions { controller { requestProcedure } } } }`,
        {},
        await srv.token("a", "consent:read"),
      );
      expect(v.data!.policy.versions[0]!.controller.requestProcedure).toBe("https://example.jp/privacy/requests");
    } finally {
      await srv.close();
    }
  });
});
