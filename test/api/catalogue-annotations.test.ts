// Consent Mode types, GPC and data-category labels in the catalogue: validated, published, shown.
import { mkdirSync, readFileSync, writeFileSync, copyFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeTempDir } from "../support/common.js";
import { type TestServer, startTestServer } from "../support/harness.js";
import { ok } from "./helpers.js";

const PURPOSES = `query($id: ID!) { policy(id: $id) { currentVersion { number dataCategories { id label } purposes { id mode consentModeTypes gpcApplies dataCategories dataCategoryLabels } } } }`;
interface Purposes {
  policy: {
    currentVersion: {
      number: number;
      dataCategories: { id: string; label: string }[];
      purposes: { id: string; mode: string; consentModeTypes: string[]; gpcApplies: boolean; dataCategories: string[]; dataCategoryLabels: string[] }[];
    };
  };
}

const PUBLISH = `mutation($input: PublishPolicyVersionInput!) { publishPolicyVersion(input: $input) { number } }`;
const purpose = (extra: Record<string, unknown>) => ({ id: "p", title: "t", mode: "OPT_OUT", basis: "LEGITIMATE_INTEREST", dataCategories: ["cookie"], ...extra });
const input = (purposes: unknown[], extra: Record<string, unknown> = {}) => ({
  policyId: "site-extra",
  title: "追加",
  effectiveAt: "2024-01-01T00:00:00Z",
  // An OPT_OUT purpose is a change that needs consent: it is published as one.
  requiresConsent: true,
  documentDigest: "a".repeat(64),
  purposes,
  ...extra,
});

describe("catalogue annotations", () => {
  let srv: TestServer;
  let reader: string;
  let writer: string;
  beforeAll(async () => {
    srv = await startTestServer();
    reader = await srv.token("reader", "consent:read");
    writer = await srv.token("publisher", "policy:write");
  });
  afterAll(() => srv.close());

  it("the shipped external-analytics maps to analytics_storage, GPC applies to it, and every category has a Japanese label", async () => {
    const v = ok(await srv.gql<Purposes>(PURPOSES, { id: "clavis-privacy" }, reader)).policy.currentVersion;
    const ea = v.purposes.find((p) => p.id === "external-analytics")!;
    expect(ea).toMatchObject({ consentModeTypes: ["analytics_storage"], gpcApplies: true });
    expect(ea.dataCategoryLabels).toHaveLength(ea.dataCategories.length);
    expect(v.purposes.find((p) => p.id === "location")).toMatchObject({ consentModeTypes: [], gpcApplies: false });
    for (const c of v.dataCategories) {
      expect(c.label, c.id).not.toBe(c.id);
      expect(c.label, c.id).toMatch(/[\u3040-\u30ff\u4e00-\u9fff]/);
    }
  });

  it("refuses an unknown Consent Mode type, GPC on a purpose that is not OPT_OUT, and a label for a category no purpose lists", async () => {
    for (const bad of [
      input([purpose({ consentModeTypes: ["analytics_storage", "analytics_storage"] })]),
      input([purpose({ mode: "OPT_IN", basis: "CONSENT", gpcApplies: true })]),
      input([purpose({})], { dataCategories: [{ id: "location", label: "位置情報" }] }),
      input([purpose({})], { dataCategories: [{ id: "cookie", label: " " }] }),
    ]) {
      const r = await srv.gql(PUBLISH, { input: bad }, writer);
      expect(r.code, JSON.stringify(bad)).toBe("BAD_USER_INPUT");
    }
    expect((await srv.gql(PUBLISH, { input: input([purpose({ consentModeTypes: ["cookies"] })]) }, writer)).code).toBe("BAD_USER_INPUT");
  });

  it("publishes them through the API and shows the label in place of the id", async () => {
    ok(await srv.gql(PUBLISH, { input: input([purpose({ consentModeTypes: ["ad_storage", "ad_user_data"], gpcApplies: true })], { dataCategories: [{ id: "cookie", label: "クッキー" }] }) }, writer));
    const v = ok(await srv.gql<Purposes>(PURPOSES, { id: "site-extra" }, reader)).policy.currentVersion;
    expect(v.purposes[0]).toMatchObject({ consentModeTypes: ["ad_storage", "ad_user_data"], gpcApplies: true, dataCategoryLabels: ["クッキー"] });
    // A later version that labels nothing keeps the labels given before; a category new to it shows its id.
    ok(await srv.gql(PUBLISH, { input: input([purpose({ dataCategories: ["cookie", "ad-id"] })], { effectiveAt: "2024-02-01T00:00:00Z" }) }, writer));
    const v2 = ok(await srv.gql<Purposes>(PURPOSES, { id: "site-extra" }, reader)).policy.currentVersion;
    expect(v2.number).toBe(2);
    expect(v2.purposes[0]).toMatchObject({ consentModeTypes: [], gpcApplies: false, dataCategoryLabels: ["クッキー", "ad-id"] });
    expect(v2.dataCategories).toEqual([{ id: "cookie", label: "クッキー" }, { id: "ad-id", label: "ad-id" }]);
  });
});

it("a ledger holding the shipped version without annotations still starts with the annotated catalogue", async () => {
  const dataDir = makeTempDir();
  const plain = join(dataDir, "plain-catalogue");
  mkdirSync(plain);
  const v1 = JSON.parse(readFileSync("data/policies/clavis-privacy.v1.json", "utf8")) as { dataCategories?: unknown; purposes: Record<string, unknown>[]; document: string };
  delete v1.dataCategories;
  for (const p of v1.purposes) {
    delete p["consentModeTypes"];
    delete p["gpcApplies"];
  }
  v1.document = "privacy-policy.ja.txt";
  copyFileSync("data/privacy-policy.ja.txt", join(plain, "privacy-policy.ja.txt"));
  writeFileSync(join(plain, "clavis-privacy.v1.json"), JSON.stringify(v1));
  const before = await startTestServer({ dataDir, env: { CATALOG_DIR: plain } });
  await before.close();
  const after = await startTestServer({ dataDir });
  try {
    const v = ok(await after.gql<Purposes>(PURPOSES, { id: "clavis-privacy" }, await after.token("r", "consent:read"))).policy.currentVersion;
    expect(v.number).toBe(1);
    // The version keeps what it was published with: the ids stand for themselves until a new version labels them.
    expect(v.purposes.find((p) => p.id === "external-analytics")).toMatchObject({ consentModeTypes: [], gpcApplies: false, dataCategoryLabels: ["cookie", "access-log"] });
  } finally {
    await after.close();
  }
});
