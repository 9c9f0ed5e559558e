// §5 third parties: records of provision and receipt (APPI Arts. 29, 30), and the public external-transmission notice (§4).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { countEvents } from "../api/helpers.js";
import { type TestServer, startTestServer } from "../support/harness.js";
import { PARTNER_SG, publishWithRecipients } from "./support.js";
import { recordConsentMutation } from "../support/common.js";

let srv: TestServer;
beforeAll(async () => {
  srv = await startTestServer();
});
afterAll(() => srv.close());

const RECORD = recordConsentMutation(`subject { version }`);
const TRANSFER = `mutation($input: ThirdPartyTransferInput!) { recordThirdPartyTransfer(input: $input) {
  id subjectId direction counterparty { id country } purposeId dataCategories basis occurredAt recordedAt retainUntil } }`;
const TRANSFERS = `query($s: ID!) { thirdPartyTransfers(subjectId: $s) { id direction basis occurredAt retainUntil counterparty { id } } }`;

describe("§5 third parties: transfer records", () => {
  let version = 0;
  beforeAll(async () => {
    version = await publishWithRecipients(srv, [PARTNER_SG]);
    for (const s of ["tina", "tom"]) await srv.gql(RECORD, { input: { policyVersion: version, acceptPolicy: true, grant: s === "tina" ? ["third-party-provision"] : [] } }, await srv.token(s, "consent:self"));
  });
  const input = (over: Record<string, unknown> = {}) => ({
    subjectIds: ["tina"],
    direction: "PROVIDED",
    counterpartyId: PARTNER_SG.id,
    purposeId: "third-party-provision",
    dataCategories: ["profile", "contact"],
    basis: "CONSENT",
    ...over,
  });

  it("need transfer:write", async () => {
    expect((await srv.gql(TRANSFER, { input: input() }, await srv.token("svc", "consent:write ledger:read"))).code).toBe("FORBIDDEN");
    expect((await srv.gql(TRANSFER, { input: input() })).code).toBe("UNAUTHENTICATED");
  });

  it("a consented provision is recorded once per subject and kept three years", async () => {
    const r = await srv.gql<{ recordThirdPartyTransfer: Record<string, unknown>[] }>(TRANSFER, { input: input() }, await srv.token("ops", "transfer:write"));
    expect(r.errors).toBeUndefined();
    const [t] = r.data!.recordThirdPartyTransfer;
    expect(t).toMatchObject({ subjectId: "tina", direction: "PROVIDED", counterparty: { id: "partner-sg", country: "SG" }, basis: "CONSENT" });
    const occurred = new Date(String(t!["occurredAt"]));
    const retain = new Date(String(t!["retainUntil"]));
    expect(retain.getUTCFullYear() - occurred.getUTCFullYear()).toBe(3);
    expect(retain.getUTCMonth()).toBe(occurred.getUTCMonth());
    expect(retain.getUTCDate()).toBe(occurred.getUTCDate());
  });

  it("refuses with TRANSFER_NOT_PERMITTED and appends nothing when one subject's consent does not cover it", async () => {
    const before = await countEvents(srv, await srv.token("auditor", "ledger:read"));
    const r = await srv.gql(TRANSFER, { input: input({ subjectIds: ["tina", "tom"] }) }, await srv.token("ops", "transfer:write"));
    expect(r.code).toBe("TRANSFER_NOT_PERMITTED");
    expect(JSON.stringify(r.errors)).not.toContain("tom");
    expect(await countEvents(srv, await srv.token("auditor", "ledger:read"))).toBe(before);
    // Another basis (an exception of §5) does not need the subject's consent.
    const ok = await srv.gql<{ recordThirdPartyTransfer: unknown[] }>(TRANSFER, { input: input({ subjectIds: ["tom"], basis: "LAW" }) }, await srv.token("ops", "transfer:write"));
    expect(ok.errors).toBeUndefined();
    expect(ok.data!.recordThirdPartyTransfer).toHaveLength(1);
  });

  it("a provision dated before the grant is not covered by it", async () => {
    const r = await srv.gql(TRANSFER, { input: input({ occurredAt: "2025-01-01T00:00:00Z" }) }, await srv.token("ops", "transfer:write"));
    expect(r.code).toBe("TRANSFER_NOT_PERMITTED");
  });

  it("refuses an unknown counterparty and a consent basis without a purpose", async () => {
    expect((await srv.gql(TRANSFER, { input: input({ counterpartyId: "nobody" }) }, await srv.token("ops", "transfer:write"))).code).toBe("NOT_FOUND");
    expect((await srv.gql(TRANSFER, { input: input({ purposeId: null }) }, await srv.token("ops", "transfer:write"))).code).toBe("BAD_USER_INPUT");
  });

  it("are read by ledger:read or by the subject itself, are in subjectExport, and survive erasure", async () => {
    expect((await srv.gql(TRANSFERS, { s: "tina" }, await srv.token("tom", "consent:self"))).code).toBe("FORBIDDEN");
    const own = await srv.gql<{ thirdPartyTransfers: { basis: string }[] }>(TRANSFERS, { s: "tina" }, await srv.token("tina", "consent:self"));
    expect(own.data!.thirdPartyTransfers.map((t) => t.basis)).toEqual(["CONSENT"]);
    const admin = await srv.token("officer", "subject:admin ledger:read");
    expect((await srv.gql(`mutation { eraseSubject(subjectId: "tina") { status } }`, {}, admin)).errors).toBeUndefined();
    const after = await srv.gql<{ thirdPartyTransfers: { basis: string; counterparty: { id: string } }[] }>(TRANSFERS, { s: "tina" }, admin);
    expect(after.data!.thirdPartyTransfers).toMatchObject([{ basis: "CONSENT", counterparty: { id: "partner-sg" } }]);
    const x = await srv.gql<{ subjectExport: { thirdPartyTransfers: { basis: string; retainUntil: string }[] } }>(`query { subjectExport(subjectId: "tina") }`, {}, admin);
    expect(x.data!.subjectExport.thirdPartyTransfers).toMatchObject([{ basis: "CONSENT", retainUntil: expect.any(String) }]);
  });
});

describe("§4 external transmission: the Art. 27-12 notice", () => {
  const QUERY = `query { externalTransmissions { purposeId recipient { id name country } dataCategories recipientPurpose optOutPurposeId } }`;

  it("externalTransmissions needs no token, and is generated from the catalogue", async () => {
    const r = await srv.gql<{ externalTransmissions: { purposeId: string; recipient: { id: string; country: string }; dataCategories: string[]; optOutPurposeId: string }[] }>(QUERY);
    expect(r.errors).toBeUndefined();
    expect(r.data!.externalTransmissions).toMatchObject([
      { purposeId: "external-analytics", recipient: { id: "google-analytics", country: "US" }, dataCategories: ["cookie", "access-log"], optOutPurposeId: "external-analytics" },
    ]);
    // Asking for anything else without a token is still refused.
    expect((await srv.gql(`query { externalTransmissions { purposeId } policies { id } }`)).code).toBe("UNAUTHENTICATED");
  });

  it("GET /notices/external-transmission answers the same list as JSON, and a Japanese page for text/html", async () => {
    const base = srv.url.replace(/\/graphql$/, "");
    const json = await fetch(`${base}/notices/external-transmission`);
    expect(json.status).toBe(200);
    const list = (await json.json()) as { purposeId: string; recipient: { id: string }; optOutPurposeId: string }[];
    expect(list.map((t) => [t.purposeId, t.recipient.id, t.optOutPurposeId])).toEqual([["external-analytics", "google-analytics", "external-analytics"]]);
    const html = await fetch(`${base}/notices/external-transmission`, { headers: { accept: "text/html" } });
    expect(html.headers.get("content-type")).toContain("text/html");
    const page = await html.text();
    expect(page).toContain('<html lang="ja">');
    for (const words of ["外部送信", "送信される情報", "送信先", "利用目的", "オプトアウト", "グーグル合同会社", "クッキー", "アクセスログ", "external-analytics"]) expect(page).toContain(words);
    // What a reader sees (the text outside tags) names categories by their labels, never by their ids.
    const text = page.replace(/<[^>]*>/g, " ");
    for (const id of ["cookie", "access-log"]) expect(text).not.toContain(id);
    expect(page).toContain('<consent-opt-out policy="clavis-privacy" purpose="external-analytics"');
  });
});
