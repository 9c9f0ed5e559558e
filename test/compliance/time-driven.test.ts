// §1(4) location and §6 changes: expiries and versions taking effect reach consentChanged by themselves (finding 3).
import { rmSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { DAY_MS } from "../../src/domain/time.js";
import { type TestServer, startTestServer } from "../support/harness.js";
import { Collected, wsClient } from "../subscriptions/ws-client.js";
import { publishWithRecipients } from "./support.js";
import { sleep, makeTempDir, recordConsentMutation } from "../support/common.js";

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

describe("§1(4) location: an expiring grant", () => {
  it("finding 3: the expiry reaches consentChanged within 5 s, once, as a ConsentExpired with a cursor", async () => {
    const srv = await startTestServer();
    try {
      const client = wsClient(srv.url, await srv.token("svc", "consent:read"));
      const sub = new Collected<Change>(client, CHANGES, { s: "exp-1", p: ["location"] }, "consentChanged");
      await sleep(300);
      const expiresAt = await grantExpiringIn(srv, "exp-1", 1_500);
      await sub.count(2, 15_000);
      const [granted, expired] = sub.items;
      expect(granted).toMatchObject({ current: { status: "GRANTED", permitted: true } });
      expect(expired).toMatchObject({ previous: "GRANTED", current: { status: "EXPIRED", permitted: false, reason: "EXPIRED" }, event: { type: "ConsentExpired" } });
      expect(Date.parse(expired!.event.occurredAt)).toBe(expiresAt);
      expect(Date.parse(expired!.event.recordedAt) - expiresAt).toBeLessThan(5_000);
      expect(expired!.cursor > granted!.cursor).toBe(true);
      await sleep(1_000);
      expect(sub.items).toHaveLength(2); // exactly once
      const p = await srv.gql<{ permission: { reason: string } }>(`query { permission(subjectId: "exp-1", purposeId: "location") { reason } }`, {}, await srv.token("svc", "consent:read"));
      expect(p.data!.permission.reason).toBe("EXPIRED");
      await client.dispose();
    } finally {
      await srv.close();
    }
  });

  it("finding 3: an expiry due while the service was down is delivered when it comes back, once", async () => {
    const dataDir = makeTempDir("ledger-due-");
    dirs.push(dataDir);
    let srv = await startTestServer({ dataDir });
    const reader = await srv.token("svc", "consent:read");
    const first = wsClient(srv.url, reader);
    const before = new Collected<Change>(first, CHANGES, { s: "exp-2", p: ["location"] }, "consentChanged");
    await sleep(300);
    await grantExpiringIn(srv, "exp-2", 800);
    await before.count(1);
    const cursor = before.items[0]!.cursor;
    await first.dispose();
    await srv.close();
    await sleep(1_200); // the grant expires while the service is down
    srv = await startTestServer({ dataDir });
    try {
      const client = wsClient(srv.url, await srv.token("svc", "consent:read"));
      const sub = new Collected<Change>(client, CHANGES, { s: "exp-2", p: ["location"], after: cursor }, "consentChanged");
      await sub.count(1, 10_000);
      expect(sub.items[0]).toMatchObject({ current: { status: "EXPIRED" }, event: { type: "ConsentExpired" } });
      await sleep(500);
      expect(sub.items).toHaveLength(1);
      // A third start records nothing more.
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
    const srv = await startTestServer();
    try {
      await srv.gql(RECORD, { input: { policyVersion: 1, acceptPolicy: true } }, await srv.token("ver-1", "consent:self"));
      const client = wsClient(srv.url, await srv.token("svc", "consent:read"));
      const sub = new Collected<Change>(client, CHANGES, { s: "ver-1", p: ["traffic-analysis"] }, "consentChanged");
      await sleep(300);
      await publishWithRecipients(srv, [], { effectiveInMs: 1_500, drop: ["traffic-analysis"] });
      await sleep(500);
      expect(sub.items).toHaveLength(0); // not yet in effect
      await sub.count(1, 15_000);
      expect(sub.items[0]).toMatchObject({
        subjectId: "ver-1",
        previous: "NOT_ASKED",
        current: { permitted: false, reason: "NOT_IN_APPLICABLE_POLICY" },
        event: { type: "PolicyVersionEffective" },
      });
      await sleep(800);
      expect(sub.items).toHaveLength(1);
      await client.dispose();
    } finally {
      await srv.close();
    }
  });
});
