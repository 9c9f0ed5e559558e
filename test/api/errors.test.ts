// recordConsent's error codes through HTTP, and that a failed call appends nothing.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestServer, startTestServer } from "../support/harness.js";
import { countEvents, freshId, iso, ok, onboard, recordConsent } from "./helpers.js";

let srv: TestServer;
let ledgerToken: string;

beforeAll(async () => {
  srv = await startTestServer();
  ledgerToken = await srv.token("auditor", "ledger:read");
});
afterAll(() => srv.close());

/** Runs a call that must fail with `code`, and checks the log holds as many events after it as before. */
async function refusedWithNothingAppended(token: string, input: Record<string, unknown>, code: string) {
  const before = await countEvents(srv, ledgerToken);
  const r = await recordConsent(srv, token, input);
  expect(r.code, JSON.stringify(r.errors)).toBe(code);
  expect(r.data).toBeNull();
  expect(r.errors).toHaveLength(1);
  expect(await countEvents(srv, ledgerToken)).toBe(before);
  return r;
}

describe("recordConsent refusals, each appending nothing", () => {
  it("UNKNOWN_POLICY for a policy that is not published", async () => {
    const me = freshId();
    await refusedWithNothingAppended(await srv.token(me, "consent:self"), { policyId: "no-such-policy", policyVersion: 1, acceptPolicy: true }, "UNKNOWN_POLICY");
  });

  it("UNKNOWN_POLICY_VERSION for a version not published", async () => {
    const me = freshId();
    await refusedWithNothingAppended(await srv.token(me, "consent:self"), { policyVersion: 99, acceptPolicy: true }, "UNKNOWN_POLICY_VERSION");
  });

  it("UNKNOWN_PURPOSE for a purpose not in that version, even beside valid ones (all or nothing)", async () => {
    const me = freshId();
    const r = await refusedWithNothingAppended(
      await srv.token(me, "consent:self"),
      { policyVersion: 1, acceptPolicy: true, grant: ["location", "no-such-purpose"] },
      "UNKNOWN_PURPOSE",
    );
    expect(r.errors![0]!.message).toContain("no-such-purpose");
  });

  it("REQUIRED_PURPOSE for withdrawing a REQUIRED purpose", async () => {
    const me = freshId();
    await onboard(srv, me);
    await refusedWithNothingAppended(await srv.token(me, "consent:self"), { policyVersion: 1, withdraw: ["support"] }, "REQUIRED_PURPOSE");
  });

  it("POLICY_NOT_ACCEPTED for granting under a version that requires consent without accepting it", async () => {
    const me = freshId();
    await refusedWithNothingAppended(await srv.token(me, "consent:self"), { policyVersion: 1, grant: ["location"] }, "POLICY_NOT_ACCEPTED");
  });

  it("SUBJECT_INACTIVE for a subject that has left", async () => {
    const me = freshId();
    await onboard(srv, me);
    const token = await srv.token(me, "consent:self");
    ok(await srv.gql(`mutation { leaveService { id status } }`, {}, token));
    await refusedWithNothingAppended(token, { policyVersion: 1, grant: ["location"] }, "SUBJECT_INACTIVE");
  });

  it("SUBJECT_INACTIVE for a subject that has been erased", async () => {
    const me = freshId();
    await onboard(srv, me);
    const admin = await srv.token("officer", "subject:admin");
    ok(await srv.gql(`mutation($id: ID!) { eraseSubject(subjectId: $id) { status } }`, { id: me }, admin));
    await refusedWithNothingAppended(await srv.token(me, "consent:self"), { policyVersion: 1, acceptPolicy: true }, "SUBJECT_INACTIVE");
  });

  it("VERSION_CONFLICT when expectedVersion is not the subject's version, naming both", async () => {
    const me = freshId();
    const first = await onboard(srv, me);
    expect(first.subject.version).toBe(1);
    const r = await refusedWithNothingAppended(await srv.token(me, "consent:self"), { policyVersion: 1, grant: ["location"], expectedVersion: 0 }, "VERSION_CONFLICT");
    expect(r.errors![0]!.extensions).toMatchObject({ expectedVersion: 0, actualVersion: 1 });
    // The matching version goes through.
    const good = ok(await recordConsent(srv, await srv.token(me, "consent:self"), { policyVersion: 1, grant: ["location"], expectedVersion: 1 }));
    expect(good.recordConsent.subject.version).toBe(2);
  });

  it("IDEMPOTENCY_CONFLICT when a key is reused with other input", async () => {
    const me = freshId();
    const token = await srv.token(me, "consent:self");
    ok(await recordConsent(srv, token, { policyVersion: 1, acceptPolicy: true, grant: ["location"], idempotencyKey: "k-1" }));
    await refusedWithNothingAppended(token, { policyVersion: 1, acceptPolicy: true, grant: ["linked-accounts"], idempotencyKey: "k-1" }, "IDEMPOTENCY_CONFLICT");
  });

  it("the same key with the same input replays the first payload: same events, same receipt, nothing appended", async () => {
    const me = freshId();
    const token = await srv.token(me, "consent:self");
    const input = { policyVersion: 1, acceptPolicy: true, grant: ["location"], evidence: { channel: "web", locale: "ja-JP" }, idempotencyKey: "replay-1" };
    const first = ok(await recordConsent(srv, token, input)).recordConsent;
    const before = await countEvents(srv, ledgerToken);
    const again = ok(await recordConsent(srv, token, input)).recordConsent;
    expect(await countEvents(srv, ledgerToken)).toBe(before);
    expect(again).toEqual(first);
    expect(again.receipt).toBe(first.receipt);
    // A fresh token (another request, same caller) replays too.
    const third = ok(await recordConsent(srv, await srv.token(me, "consent:self"), input)).recordConsent;
    expect(third.events).toEqual(first.events);
    expect(third.receipt).toBe(first.receipt);
  });

  it("a replay after later calls still returns the first call's payload, subject version included", async () => {
    const me = freshId();
    const token = await srv.token(me, "consent:self");
    const input = { policyVersion: 1, acceptPolicy: true, idempotencyKey: "replay-later" };
    const first = ok(await recordConsent(srv, token, input)).recordConsent;
    ok(await recordConsent(srv, token, { policyVersion: 1, grant: ["location"] }));
    const again = ok(await recordConsent(srv, token, input)).recordConsent;
    expect(again.subject.version).toBe(first.subject.version);
    expect(again).toEqual(first);
  });

  it("an idempotency key belongs to its subject: another subject may use the same key", async () => {
    const a = freshId();
    const b = freshId();
    const ra = ok(await recordConsent(srv, await srv.token(a, "consent:self"), { policyVersion: 1, acceptPolicy: true, idempotencyKey: "shared" })).recordConsent;
    const rb = ok(await recordConsent(srv, await srv.token(b, "consent:self"), { policyVersion: 1, acceptPolicy: true, idempotencyKey: "shared" })).recordConsent;
    expect(rb.subject.id).toBe(b);
    expect(rb.events[0]!.id).not.toBe(ra.events[0]!.id);
  });

  describe("BAD_USER_INPUT for malformed calls", () => {
    const cases: [string, () => Promise<Record<string, unknown>>][] = [
      ["the same purpose in grant and withdraw", async () => ({ policyVersion: 1, acceptPolicy: true, grant: ["location"], withdraw: ["location"] })],
      ["an empty call (nothing accepted, granted or withdrawn)", async () => ({ policyVersion: 1 })],
      ["an oversized value (a 10 KB userAgent)", async () => ({ policyVersion: 1, acceptPolicy: true, evidence: { userAgent: "M".repeat(10_240) } })],
      ["too many purposes", async () => ({ policyVersion: 1, acceptPolicy: true, grant: Array.from({ length: 201 }, (_, i) => `p${i}`) })],
      ["a purpose named twice", async () => ({ policyVersion: 1, acceptPolicy: true, grant: ["location", "location"] })],
      ["a policyVersion below 1", async () => ({ policyVersion: 0, acceptPolicy: true })],
      ["an oversized idempotency key", async () => ({ policyVersion: 1, acceptPolicy: true, idempotencyKey: "k".repeat(201) })],
      ["a malformed purpose id", async () => ({ policyVersion: 1, acceptPolicy: true, grant: ["../etc/passwd"] })],
    ];
    it.each(cases)("%s", async (_name, input) => {
      await refusedWithNothingAppended(await srv.token(freshId(), "consent:self"), await input(), "BAD_USER_INPUT");
    });

    it("an occurredAt more than 5 minutes ahead of the server clock (consent:write)", async () => {
      const writer = await srv.token("importer", "consent:write");
      await refusedWithNothingAppended(writer, { subjectId: freshId(), policyVersion: 1, acceptPolicy: true, occurredAt: iso(6 * 60_000) }, "BAD_USER_INPUT");
      // Within the allowed skew it is accepted.
      const r = ok(await recordConsent(srv, writer, { subjectId: freshId(), policyVersion: 1, acceptPolicy: true, occurredAt: iso(60_000) }));
      expect(r.recordConsent.events).toHaveLength(1);
    });

    it("a subjectId omitted by a caller without consent:self", async () => {
      await refusedWithNothingAppended(await srv.token("importer", "consent:write"), { policyVersion: 1, acceptPolicy: true }, "BAD_USER_INPUT");
    });

    it("a wrongly typed input (policyVersion as a string) is refused before any resolver runs", async () => {
      const before = await countEvents(srv, ledgerToken);
      const r = await recordConsent(srv, await srv.token(freshId(), "consent:self"), { policyVersion: "one", acceptPolicy: true });
      expect(r.code).toBe("BAD_USER_INPUT");
      expect(r.status).toBe(400);
      expect(r.errors![0]!.message).toContain("policyVersion");
      expect(await countEvents(srv, ledgerToken)).toBe(before);
    });
  });

  it("a successful call appends exactly its events, chained to the log", async () => {
    const me = freshId();
    const before = await countEvents(srv, ledgerToken);
    const r = await onboard(srv, me, ["location", "linked-accounts"]);
    expect(r.events.map((e) => e.type)).toEqual(["PolicyAccepted", "ConsentGranted", "ConsentGranted"]);
    expect(await countEvents(srv, ledgerToken)).toBe(before + 3);
    expect(r.events[1]!.prevHash).toBe(r.events[0]!.hash);
    expect(r.events[2]!.prevHash).toBe(r.events[1]!.hash);
  });
});
