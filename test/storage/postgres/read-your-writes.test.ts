// Read your writes across two replicas on one PostgreSQL database: a change made through replica A is
// in every answer replica B gives to a read carrying A's Ledger-Position as Ledger-Min-Position.
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestClock } from "../../support/clock.js";
import { makeTempDir } from "../../support/common.js";
import { type TestServer, startTestServer } from "../../support/harness.js";
import { sendWithHeaders as send } from "../../support/send-with-headers.js";
import { BASE_POLICY, RECORD_CONSENT, type RecordPayload, freshId, iso, onboard } from "../../api/helpers.js";

/** The real time, as a clock no test moves. */
class RealTimeClock extends TestClock {
  override readonly now = (): number => Date.now();
}

const PERMISSION = `query($s: ID!) { permission(subjectId: $s, purposeId: "location") { permitted } }`;
const V1_PURPOSES = (JSON.parse(readFileSync("data/policies/clavis-privacy.v1.json", "utf8")) as { purposes: unknown[] }).purposes;
const PUBLISH = `mutation($input: PublishPolicyVersionInput!) { publishPolicyVersion(input: $input) { number } }`;
const VERSIONS = `query($id: ID!) { policy(id: $id) { versions { number } } }`;

describe("read your writes across two replicas on one PostgreSQL database", () => {
  let a: TestServer;
  let b: TestServer;
  let reader: string;
  const dataDir = makeTempDir("ledger-replicas-ryw-");

  beforeAll(async () => {
    // One data folder: the same database and the same dev signing keys, as replicas share a JWKS.
    a = await startTestServer({ dataDir, backend: "postgres" });
    // B keeps the real time but its clock never reports a move, so a wait for a position never runs
    // out: on a loaded machine the assertions are about what B answers, never about how fast.
    b = await startTestServer({ dataDir, backend: "postgres", clock: new RealTimeClock() });
    reader = await b.token("svc", "consent:read");
  }, 60_000);
  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  it("never answers permission on B from before a withdrawal or grant made through A, given A's position", async () => {
    const subjectId = freshId();
    await onboard(a, subjectId, ["location"]);
    const self = await a.token(subjectId, "consent:self");
    await fc.assert(
      fc.asyncProperty(fc.array(fc.boolean(), { minLength: 1, maxLength: 6 }), async (grants) => {
        for (const grant of grants) {
          const w = await send<RecordPayload>(a, RECORD_CONSENT, { input: { policyVersion: 1, ...(grant ? { grant: ["location"] } : { withdraw: ["location"] }) } }, self);
          expect(w.status).toBe(200);
          const position = w.headers.get("ledger-position")!;
          expect(position).toBe(w.data!.recordConsent.events.at(-1)!.position);
          const read = await send<{ permission: { permitted: boolean } }>(b, PERMISSION, { s: subjectId }, reader, { "Ledger-Min-Position": position });
          expect(read.status).toBe(200);
          expect(read.data!.permission.permitted).toBe(grant);
        }
      }),
      { numRuns: 12 },
    );
  });

  it("answers B's reads of the catalogue from a state with a version published through A", async () => {
    const officer = await a.token("officer", "policy:write");
    for (let i = 0; i < 5; i++) {
      const w = await send<{ publishPolicyVersion: { number: number } }>(
        a,
        PUBLISH,
        { input: { policyId: BASE_POLICY, title: "プライバシーポリシー", effectiveAt: iso(-1000), requiresConsent: true, documentDigest: String(i).repeat(64), changeSummary: `revision ${i}`, purposes: V1_PURPOSES } },
        officer,
      );
      expect(w.status).toBe(200);
      const number = w.data!.publishPolicyVersion.number;
      // The catalogue is held in each replica's memory and kept by the change feed: the header makes B wait for it.
      const read = await send<{ policy: { versions: { number: number }[] } }>(b, VERSIONS, { id: BASE_POLICY }, reader, { "Ledger-Min-Position": w.headers.get("ledger-position")! });
      expect(read.status).toBe(200);
      expect(read.data!.policy.versions.map((v) => v.number)).toContain(number);
    }
  });
});
