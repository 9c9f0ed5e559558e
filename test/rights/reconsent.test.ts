// reconsentPending: the projection's queue agrees with the domain's standing rule for every subject, page by page.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { standingOf } from "../../src/domain/catalog.js";
import { subjectStream } from "../../src/domain/events.js";
import { foldSubject } from "../../src/domain/subject.js";
import type { Ledger } from "../../src/ledger.js";
import { SUBJECTS, commandBatches, ledgerWithCatalog, run, sqlite } from "../support/ledger-commands.js";
import { type TestServer, startTestServer } from "../support/harness.js";

/** Every page of the queue, `first` at a time. */
async function allPages(ledger: Ledger, policyId: string, first: number): Promise<string[]> {
  const out: string[] = [];
  for (let after = ""; ; ) {
    const page = (await ledger.reconsentPending(policyId, after, first));
    out.push(...page);
    if (page.length < first) return out;
    after = page.at(-1)!;
  }
}

/** The domain's answer: subjects still served (ACTIVE or SUSPENDED; a MERGED id answers for another) whose standing needs re-consent. */
function expected(ledger: Ledger, policyId: string): string[] {
  const policy = ledger.catalog.get(policyId)!;
  const asOf = ledger.asOf();
  return SUBJECTS.filter((id) => {
    const s = foldSubject(id, sqlite(ledger).store.readStream(subjectStream(id)));
    if (s.version === 0 || s.status === "LEFT" || s.status === "ERASED" || s.status === "MERGED") return false;
    return standingOf(policy, s.acceptances.get(policyId)?.version ?? 0, asOf).reconsentVersion !== null;
  }).sort();
}

describe("reconsentPending", () => {
  it("lists exactly the served subjects whose standing needs re-consent, after any history", async () => {
    let listedSomeone = 0;
    let listedNoOne = 0;
    await fc.assert(
      fc.asyncProperty(commandBatches, fc.integer({ min: 1, max: 3 }), async (batches, first) => {
        const { ledger, clock } = await ledgerWithCatalog();
        try {
          await run(ledger, clock, batches);
          const want = expected(ledger, "clavis-privacy");
          expect(await allPages(ledger, "clavis-privacy", first)).toEqual(want);
          if (want.length > 0) listedSomeone++;
          else listedNoOne++;
          // Time passing may bring a published version into effect; the queue follows without new events.
          clock.advance(40 * 86_400_000);
          expect(await allPages(ledger, "clavis-privacy", first)).toEqual(expected(ledger, "clavis-privacy"));
        } finally {
          await ledger.close();
        }
      }),
      { numRuns: 40 },
    );
    // The runs covered both a non-empty and an empty queue (over 40 random runs, both are near certain).
    expect(listedSomeone).toBeGreaterThan(0);
    expect(listedNoOne).toBeGreaterThan(0);
  });
});

describe("reconsentPending over the API", () => {
  let srv: TestServer;
  it("pages with first/after, for consent:read or ledger:read", async () => {
    srv = await startTestServer();
    try {
      for (const s of ["u1", "u2", "u3", "u4"]) {
        const t = await srv.token(s, "consent:self");
        await srv.gql(`mutation($i: RecordConsentInput!) { recordConsent(input: $i) { subject { id } } }`, { i: { policyVersion: 1, acceptPolicy: s !== "u2", grant: ["location"] } }, t);
      }
      // u2's grant is refused (version 1 requires consent and it did not accept): it has no history and is not listed.
      await srv.gql(`mutation($i: OpenDataRequestInput!) { openDataRequest(input: $i) { id } }`, { i: { kind: "DISCLOSURE" } }, await srv.token("u5", "consent:self"));
      const q = `query($p: ID!, $f: Int, $a: String) { reconsentPending(policyId: $p, first: $f, after: $a) }`;
      const reader = await srv.token("dpo", "consent:read");
      // u5 is known (it opened a request) and has not accepted version 1, which requires consent.
      expect((await srv.gql<{ reconsentPending: string[] }>(q, { p: "clavis-privacy" }, reader)).data?.reconsentPending).toEqual(["u5"]);
      expect((await srv.gql(q, { p: "clavis-privacy" }, await srv.token("u1", "consent:self"))).code).toBe("FORBIDDEN");
      expect((await srv.gql(q, { p: "no-such-policy" }, reader)).code).toBe("UNKNOWN_POLICY");
      await srv.gql(`mutation($i: OpenDataRequestInput!) { openDataRequest(input: $i) { id } }`, { i: { kind: "DISCLOSURE" } }, await srv.token("u6", "consent:self"));
      const p1 = await srv.gql<{ reconsentPending: string[] }>(q, { p: "clavis-privacy", f: 1 }, reader);
      expect(p1.data?.reconsentPending).toEqual(["u5"]);
      const p2 = await srv.gql<{ reconsentPending: string[] }>(q, { p: "clavis-privacy", f: 1, a: "u5" }, await srv.token("auditor", "ledger:read"));
      expect(p2.data?.reconsentPending).toEqual(["u6"]);
    } finally {
      await srv.close();
    }
  });
});
