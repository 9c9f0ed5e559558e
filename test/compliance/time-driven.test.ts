// §1(4) location and §6 changes: expiries and versions taking effect reach consentChanged by themselves (finding 3).
// The service runs on a test clock: a test moves it past the due instant, and the scheduler records the change.
import { rmSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { DAY_MS } from "../../src/domain/time.js";
import { type TestServer, startTestServer } from "../support/harness.js";
import { Collected, untilSubscriptions, wsClient } from "../subscriptions/ws-client.js";
import { publishWithRecipients } from "./support.js";
import { TestClock } from "../support/clock.js";
import { makeTempDir, recordConsentMutation } from "../support/common.js";

interface Change {
  cursor: string;
  subjectId: string;
  purposeId: string;
  previous: string | null;
  current: { status: string; permitted: boolean; reason: string };
  event: { type: string; occurredAt: string; recordedAt: string };
}
const CHANGES = `subscription($s: ID, $p: [ID!], $after: String) { consentChanged(subjectId: $s, purposeIds: $p, after: $after) {
  cursor subjectId purposeId previous current { status permitted reason } event { type occurredAt recordedAt } } }`;
const RECORD = recordConsentMutation(`events { position }`);
const LOCATION_TTL_MS = 365 * DAY_MS;

/** A location grant (accepting v1 a year ago) dated so that it expires `inMs` from now. */
async function grantExpiringIn(srv: TestServer, subjectId: string, inMs: number) {
  const now = srv.app.services.ledger.now();
  const r = await srv.gql(
    RECORD,
    { input: { subjectId, policyVersion: 1, acceptPolicy: true, grant: ["location"], occurredAt: new Date(now - LOCATION_TTL_MS + inMs).toISOString() } },
    await srv.token("importer", "consent:write"),
  );
  expect(r.errors).toBeUndefined();
  return now + inMs;
}

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const HOUR_MS = 3_600_000;

/** Subscribes to the subject's changes of `purposes` and waits until the subscription is live. */
async function follow(srv: TestServer, subjectId: string, purposes: string[], after?: string) {
  const client = wsClient(srv.url, await srv.token("svc", "consent:read"));
  const before = srv.app.services.changes.size;
  const sub = new Collected<Change>(client, CHANGES, { s: subjectId, p: purposes, ...(after ? { after } : {}) }, "consentChanged");
  await untilSubscriptions(srv.app.services.changes, before + 1);
  return { client, sub };
}

/**
 * Records a change the subscription will see and waits for it: everything recorded before it has
 * then been delivered, so what the subscription holds is complete up to that point.
 */
async function sentinel(srv: TestServer, sub: Collected<Change>, subjectId: string, input: Record<string, unknown>): Promise<Change> {
  const have = sub.items.length;
  const r = await srv.gql<{ recordConsent: { events: { position: string }[] } }>(RECORD, { input: { subjectId, policyVersion: 1, ...input } }, await srv.token("importer", "consent:write"));
  expect(r.errors).toBeUndefined();
  await sub.count(have + 1);
  return sub.items.at(-1)!;
}

describe("§1(4) location: an expiring grant", () => {
  it("finding 3: the expiry reaches consentChanged when it falls due, once, as a ConsentExpired with a cursor", async () => {
    const clock = new TestClock();
    const srv = await startTestServer({ clock });
    try {
      const { client, sub } = await follow(srv, "exp-1", ["location"]);
      const expiresAt = await grantExpiringIn(srv, "exp-1", HOUR_MS);
      await sub.count(1);
      clock.advance(HOUR_MS);
      await sub.count(2);
      const [granted, expired] = sub.items;
      expect(granted).toMatchObject({ current: { status: "GRANTED", permitted: true } });
      expect(expired).toMatchObject({ previous: "GRANTED", current: { status: "EXPIRED", permitted: false, reason: "EXPIRED" }, event: { type: "ConsentExpired" } });
      expect(Date.parse(expired!.event.occurredAt)).toBe(expiresAt);
      expect(Date.parse(expired!.event.recordedAt)).toBe(expiresAt); // recorded at the instant it fell due
      expect(expired!.cursor > granted!.cursor).toBe(true);
      // Exactly once: a later change arrives right after the expiry, with nothing between.
      clock.advance(HOUR_MS);
      const regranted = await sentinel(srv, sub, "exp-1", { grant: ["location"] });
      expect(sub.items.map((c) => c.event.type)).toEqual(["ConsentGranted", "ConsentExpired", "ConsentGranted"]);
      expect(regranted.current.status).toBe("GRANTED");
      const p = await srv.gql<{ permission: { reason: string } }>(`query { permission(subjectId: "exp-1", purposeId: "location", at: "${new Date(expiresAt).toISOString()}") { reason } }`, {}, await srv.token("svc", "consent:read"));
      expect(p.data!.permission.reason).toBe("EXPIRED");
      await client.dispose();
    } finally {
      await srv.close();
    }
  });

  it("finding 3: an expiry due while the service was down is delivered when it comes back, once", async () => {
    const dataDir = makeTempDir("ledger-due-");
    dirs.push(dataDir);
    const clock = new TestClock();
    let srv = await startTestServer({ dataDir, clock });
    const first = await follow(srv, "exp-2", ["location"]);
    await grantExpiringIn(srv, "exp-2", HOUR_MS);
    await first.sub.count(1);
    const cursor = first.sub.items[0]!.cursor;
    await first.client.dispose();
    await srv.close();
    clock.advance(2 * HOUR_MS); // the grant expires while the service is down
    srv = await startTestServer({ dataDir, clock });
    try {
      const { client, sub } = await follow(srv, "exp-2", ["location"], cursor);
      await sub.count(1);
      expect(sub.items[0]).toMatchObject({ current: { status: "EXPIRED" }, event: { type: "ConsentExpired" } });
      await sentinel(srv, sub, "exp-2", { grant: ["location"] });
      expect(sub.items.map((c) => c.event.type)).toEqual(["ConsentExpired", "ConsentGranted"]);
      const log = await srv.gql<{ events: { edges: { node: { type: string } }[] } }>(`query { events(first: 500, types: ["ConsentExpired"]) { edges { node { type } } } }`, {}, await srv.token("a", "ledger:read"));
      expect(log.data!.events.edges).toHaveLength(1);
      await client.dispose();
    } finally {
      await srv.close();
    }
  });
});

describe("§6 changes: a version coming into effect", () => {
  it("finding 3: a version that drops traffic-analysis reaches its subscribers when it takes effect", async () => {
    const clock = new TestClock();
    const srv = await startTestServer({ clock });
    try {
      await srv.gql(RECORD, { input: { policyVersion: 1, acceptPolicy: true } }, await srv.token("ver-1", "consent:self"));
      const { client, sub } = await follow(srv, "ver-1", ["traffic-analysis", "location"]);
      await publishWithRecipients(srv, [], { effectiveInMs: HOUR_MS, drop: ["traffic-analysis"] });
      // Not yet in effect: a later change of another purpose arrives first and alone.
      await sentinel(srv, sub, "ver-1", { grant: ["location"] });
      expect(sub.items.map((c) => c.purposeId)).toEqual(["location"]);
      clock.advance(HOUR_MS);
      await sub.count(2);
      expect(sub.items[1]).toMatchObject({
        subjectId: "ver-1",
        purposeId: "traffic-analysis",
        previous: "NOT_ASKED",
        current: { permitted: false, reason: "NOT_IN_APPLICABLE_POLICY" },
        event: { type: "PolicyVersionEffective" },
      });
      // Once: the next change comes right after it.
      await sentinel(srv, sub, "ver-1", { withdraw: ["location"] });
      expect(sub.items.map((c) => [c.purposeId, c.event.type])).toEqual([
        ["location", "ConsentGranted"],
        ["traffic-analysis", "PolicyVersionEffective"],
        ["location", "ConsentWithdrawn"],
      ]);
      await client.dispose();
    } finally {
      await srv.close();
    }
  });
});
