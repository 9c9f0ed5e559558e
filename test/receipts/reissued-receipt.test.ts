// Subject.receipt: the signed receipt of an earlier recordConsent call, issued again from its stored
// events, on SQLite and on PostgreSQL: same receipt id and content, verifiable with the published key,
// and nothing of another subject's record.
import { type JSONWebKeySet, createLocalJWKSet, decodeJwt, jwtVerify } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freshId, ok, recordConsent } from "../api/helpers.js";
import { type TestServer, startTestServer } from "../support/harness.js";
import { freshDatabase } from "../support/postgres.js";

const BACKENDS: [string, () => Promise<Record<string, string>>][] = [
  ["SQLite", async () => ({})],
  ["PostgreSQL", async () => ({ DATABASE_URL: await freshDatabase("reissued_receipt") })],
];

const ME_RECEIPT = `query($eventId: ID!) { me { receipt(eventId: $eventId) } }`;
const SUBJECT_RECEIPT = `query($id: ID!, $eventId: ID!) { subject(id: $id) { receipt(eventId: $eventId) } }`;

describe.each(BACKENDS)("a consent receipt issued again on %s", (_name, env) => {
  let srv: TestServer;
  let verify: (jws: string) => Promise<Record<string, unknown>>;
  beforeAll(async () => {
    srv = await startTestServer({ env: await env() });
    const jwks = createLocalJWKSet((await (await fetch(new URL("/.well-known/jwks.json", srv.url))).json()) as JSONWebKeySet);
    verify = async (jws) => (await jwtVerify(jws, jwks, { typ: "consent-receipt+jwt" })).payload as Record<string, unknown>;
  });
  afterAll(() => srv.close());

  it("carries the original's receipt id and content, for the subject and for consent:read, whichever of the call's events names it", async () => {
    const alice = freshId("alice");
    const self = await srv.token(alice, "consent:self");
    const evidence = { channel: "preference-centre", locale: "ja-JP", userAgent: "test" };
    const first = ok(await recordConsent(srv, self, { policyVersion: 1, acceptPolicy: true, grant: ["location", "linked-accounts"], evidence })).recordConsent;
    const second = ok(await recordConsent(srv, self, { policyVersion: 1, withdraw: ["location", "access-analytics"], evidence: { channel: "banner", locale: "en" } })).recordConsent;
    const reader = await srv.token("processor", "consent:read");

    for (const call of [first, second]) {
      const original = await verify(call.receipt);
      for (const e of call.events) {
        const mine = ok(await srv.gql<{ me: { receipt: string } }>(ME_RECEIPT, { eventId: e.id }, self)).me.receipt;
        const theirs = ok(await srv.gql<{ subject: { receipt: string } }>(SUBJECT_RECEIPT, { id: alice, eventId: e.id }, reader)).subject.receipt;
        for (const again of [mine, theirs]) {
          const payload = await verify(again);
          expect(payload).toEqual(original);
          expect(payload["consentReceiptID"]).toBe(call.events[0]!.id);
        }
      }
    }
    // The two calls are told apart although the same subject made them one after the other.
    expect(decodeJwt(first.receipt)["grants"]).toEqual(["location", "linked-accounts"]);
    expect(decodeJwt(second.receipt)["withdrawals"]).toEqual(["location", "access-analytics"]);
  });

  it("issues a coming back's receipt, numbered by the return, from the acceptance that came with it", async () => {
    const dan = freshId("dan");
    const self = await srv.token(dan, "consent:self");
    ok(await recordConsent(srv, self, { policyVersion: 1, acceptPolicy: true }));
    ok(await srv.gql(`mutation { leaveService { id status } }`, {}, self));
    const back = ok(await recordConsent(srv, self, { policyVersion: 1, acceptPolicy: true, grant: ["location"] })).recordConsent;
    expect(back.events.map((e) => e.type)).toEqual(["SubjectReturned", "PolicyAccepted", "ConsentGranted"]);
    const again = ok(await srv.gql<{ me: { receipt: string } }>(ME_RECEIPT, { eventId: back.events[1]!.id }, self)).me.receipt;
    expect(await verify(again)).toEqual(await verify(back.receipt));
    expect(decodeJwt(again)["consentReceiptID"]).toBe(back.events[0]!.id);
  });

  it("after erasure keeps the consent facts and drops what the person's client said, which went with the key", async () => {
    const erin = freshId("erin");
    const call = ok(
      await recordConsent(srv, await srv.token(erin, "consent:self"), {
        policyVersion: 1,
        acceptPolicy: true,
        grant: ["location"],
        evidence: { channel: "preference-centre", locale: "en-GB" },
      }),
    ).recordConsent;
    ok(await srv.gql(`mutation($id: ID!) { eraseSubject(subjectId: $id) { status } }`, { id: erin }, await srv.token("dpo", "subject:admin")));
    const reader = await srv.token("processor", "consent:read");
    const again = await verify(ok(await srv.gql<{ subject: { receipt: string } }>(SUBJECT_RECEIPT, { id: erin, eventId: call.events[0]!.id }, reader)).subject.receipt);
    const original = await verify(call.receipt);
    expect(original).toMatchObject({ language: "en-GB", collectionMethod: "preference-centre" });
    const { language: _l, collectionMethod: _c, ...facts } = original;
    expect(again).toMatchObject(facts);
    expect(again).toMatchObject({ language: "ja", collectionMethod: "self-service" });
  });

  it("answers NOT_FOUND for another subject's event, an unknown id and an event no consent call wrote, and FORBIDDEN for another subject without consent:read", async () => {
    const bob = freshId("bob");
    const carol = freshId("carol");
    const bobToken = await srv.token(bob, "consent:self");
    const carolCall = ok(await recordConsent(srv, await srv.token(carol, "consent:self"), { policyVersion: 1, acceptPolicy: true, grant: ["location"] })).recordConsent;
    ok(await recordConsent(srv, bobToken, { policyVersion: 1, acceptPolicy: true }));
    const notice = await srv.gql<{ recordNoticeShown: { id: string } }>(
      `mutation { recordNoticeShown(input: { policyVersion: 1, channel: "web", locale: "ja" }) { id } }`,
      {},
      bobToken,
    );
    const codes = async (query: string, vars: Record<string, unknown>, token: string) => {
      const r = await srv.gql<{ me?: { receipt: string } | null }>(query, vars, token);
      expect(JSON.stringify(r.data ?? {})).not.toContain("eyJ");
      return r.errors?.map((e) => (e.extensions as { code?: string } | undefined)?.code);
    };
    const forCarol = carolCall.events[0]!.id;
    expect(await codes(ME_RECEIPT, { eventId: forCarol }, bobToken)).toEqual(["NOT_FOUND"]);
    expect(await codes(ME_RECEIPT, { eventId: "no-such-event" }, bobToken)).toEqual(["NOT_FOUND"]);
    expect(await codes(ME_RECEIPT, { eventId: ok(notice).recordNoticeShown.id }, bobToken)).toEqual(["NOT_FOUND"]);
    // Asking under Carol's own id is the same refusal as for any other subject, whatever the event.
    expect(await codes(SUBJECT_RECEIPT, { id: carol, eventId: forCarol }, bobToken)).toEqual(["FORBIDDEN"]);
    expect(await codes(SUBJECT_RECEIPT, { id: carol, eventId: "no-such-event" }, bobToken)).toEqual(["FORBIDDEN"]);
    // consent:read reaches Carol's record, yet never one subject's event under another's id.
    expect(await codes(SUBJECT_RECEIPT, { id: bob, eventId: forCarol }, await srv.token("processor", "consent:read"))).toEqual(["NOT_FOUND"]);
  });
});

describe("receipts issued again when the clock stands still", () => {
  // Every call is recorded at the same instant: the calls are told apart by what each one writes.
  const clock = () => Date.parse("2026-12-06T12:00:30Z");
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startTestServer({ clock });
  });
  afterAll(() => srv.close());

  it("gives a visitor session each of its calls' own receipt, though all were recorded at one instant", async () => {
    const res = await fetch(`${srv.url.replace(/\/graphql$/, "")}/visitor-session`, { method: "POST" });
    expect(res.status).toBe(200);
    const visitor = (await res.json()) as { subjectId: string; token: string };
    const banner = { channel: "banner", locale: "ja" };
    const calls = [
      ok(await recordConsent(srv, visitor.token, { policyVersion: 1, acceptPolicy: true, withdraw: ["external-analytics"], evidence: banner })).recordConsent,
      // A grant after a withdrawal starts a new call: one call writes its grants before its withdrawals.
      ok(await recordConsent(srv, visitor.token, { policyVersion: 1, grant: ["location"], evidence: banner })).recordConsent,
      // A withdrawal with other evidence is another call too.
      ok(await recordConsent(srv, visitor.token, { policyVersion: 1, withdraw: ["location"], evidence: { channel: "preference-centre", locale: "ja" } })).recordConsent,
      ok(await recordConsent(srv, visitor.token, { policyVersion: 1, grant: ["location"], evidence: { channel: "preference-centre", locale: "ja" } })).recordConsent,
      // Grants after grants, with the same evidence: one call never names a purpose twice.
      ok(await recordConsent(srv, visitor.token, { policyVersion: 1, grant: ["location", "linked-accounts"], evidence: { channel: "preference-centre", locale: "ja" } }))
        .recordConsent,
    ];
    expect(new Set(calls.flatMap((c) => c.events.map((e) => e.recordedAt))).size).toBe(1);
    for (const call of calls)
      for (const e of call.events) {
        const again = ok(await srv.gql<{ me: { receipt: string } }>(ME_RECEIPT, { eventId: e.id }, visitor.token)).me.receipt;
        expect(decodeJwt(again)).toEqual(decodeJwt(call.receipt));
        expect(decodeJwt(again)["piiPrincipalId"]).toBe(visitor.subjectId);
      }
  });
});
