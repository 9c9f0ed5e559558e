// The per-subscription record of reads on a live feed (noteFeedReveals): once per subscription and
// subject, bounded, never for the subject's own feed, and never failing the delivery.
import { describe, expect, it, vi } from "vitest";
import type { Caller } from "../../src/auth/scopes.js";
import { FEED_READS_REMEMBERED, markFeedReveal, noteFeedReveals } from "../../src/graphql/access-log.js";
import type { GraphQLContext } from "../../src/graphql/context.js";

const SEALED = { evidence: { sealed: "x" }, policyId: "p" };
const READ = "sealed evidence in the ledgerEvents feed";

function subscriber(subject: string, scopes: string[], record: (...args: unknown[]) => Promise<void> = async () => undefined) {
  const recordPersonalDataAccessed = vi.fn(record);
  const warn = vi.fn();
  const caller: Caller = { subject, scopes: new Set(scopes), expiresAt: null };
  const ctx = { caller, requestId: subject, services: { ledger: { recordPersonalDataAccessed }, logger: { warn } } } as unknown as GraphQLContext;
  return { ctx, recordPersonalDataAccessed, warn };
}

/** One change of the feed about `subjectId`, executed in `by`'s context. */
function delivered(by: GraphQLContext, subjectId: string | null, data: object = SEALED): object {
  const root = {};
  markFeedReveal(root, by, subjectId, data, READ);
  return root;
}

describe("noteFeedReveals", () => {
  it("records once per subscription and subject, naming the reader as an officer", () => {
    const officer = subscriber("kato", ["ledger:read"]);
    const other = subscriber("sato", ["ledger:read"]);
    for (let i = 0; i < 3; i++) {
      const root = delivered(officer.ctx, "alice");
      noteFeedReveals(officer.ctx, root, officer.ctx);
      // A second subscriber sharing the execution is recorded for itself.
      noteFeedReveals(other.ctx, root, officer.ctx);
    }
    expect(officer.recordPersonalDataAccessed.mock.calls).toEqual([["alice", READ, null, { kind: "OFFICER", id: "kato" }]]);
    expect(other.recordPersonalDataAccessed.mock.calls).toEqual([["alice", READ, null, { kind: "OFFICER", id: "sato" }]]);
    noteFeedReveals(officer.ctx, delivered(officer.ctx, "bob"), officer.ctx);
    expect(officer.recordPersonalDataAccessed).toHaveBeenCalledTimes(2);
  });

  it("records nothing for the subject's own feed, for evidence it may not open, for none sealed, or for no subject", () => {
    const alice = subscriber("alice", ["consent:self"]);
    const officer = subscriber("kato", ["ledger:read"]);
    const reader = subscriber("svc", ["consent:read"]);
    const root = delivered(alice.ctx, "alice");
    noteFeedReveals(alice.ctx, root, alice.ctx);
    expect(alice.recordPersonalDataAccessed).not.toHaveBeenCalled();
    // The same execution shared with an officer is the officer's read.
    noteFeedReveals(officer.ctx, root, alice.ctx);
    expect(officer.recordPersonalDataAccessed).toHaveBeenCalledTimes(1);
    noteFeedReveals(reader.ctx, delivered(reader.ctx, "bob"), reader.ctx);
    noteFeedReveals(officer.ctx, delivered(officer.ctx, "carol", { evidence: { erased: true }, policyId: "p" }), officer.ctx);
    noteFeedReveals(officer.ctx, delivered(officer.ctx, "dave", { read: "subjectExport" }), officer.ctx);
    noteFeedReveals(officer.ctx, delivered(officer.ctx, null), officer.ctx);
    noteFeedReveals(officer.ctx, {}, officer.ctx);
    expect(reader.recordPersonalDataAccessed).not.toHaveBeenCalled();
    expect(officer.recordPersonalDataAccessed).toHaveBeenCalledTimes(1);
  });

  it(`remembers ${FEED_READS_REMEMBERED} subjects per subscription, then records the one noted longest ago again`, () => {
    const officer = subscriber("kato", ["ledger:read"]);
    const note = (s: string) => noteFeedReveals(officer.ctx, delivered(officer.ctx, s), officer.ctx);
    for (let i = 0; i < FEED_READS_REMEMBERED; i++) note(`s${i}`);
    note("s0");
    expect(officer.recordPersonalDataAccessed).toHaveBeenCalledTimes(FEED_READS_REMEMBERED);
    note("one-more"); // forgets s0, the oldest
    note("s1");
    note("s0");
    expect(officer.recordPersonalDataAccessed.mock.calls.slice(FEED_READS_REMEMBERED).map((c) => c[0])).toEqual(["one-more", "s0"]);
  });

  it("logs a record that fails at warn, without throwing to the delivery", async () => {
    const officer = subscriber("kato", ["ledger:read"], async () => {
      throw new Error("store unavailable");
    });
    expect(() => noteFeedReveals(officer.ctx, delivered(officer.ctx, "alice"), officer.ctx)).not.toThrow();
    await vi.waitFor(() => expect(officer.warn).toHaveBeenCalledWith(expect.objectContaining({ subjectId: "alice" }), expect.any(String)));
  });
});
