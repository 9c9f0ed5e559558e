// Read your writes on any replica: every mutation's answer names the position its last event took
// (Ledger-Position); a read carrying Ledger-Min-Position is answered from a state that includes it,
// or refused with STALE_READ (503) after the wait. On both backends (two replicas: test/storage/postgres/read-your-writes.test.ts).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backend } from "../support/backend.js";
import { TestClock } from "../support/clock.js";
import { eventually } from "../support/common.js";
import { wsClient } from "../subscriptions/ws-client.js";
import { sendWithHeaders as send } from "../support/send-with-headers.js";
import { type TestServer, startTestServer } from "../support/harness.js";
import { RECORD_CONSENT, type RecordPayload, countEvents, freshId, onboard } from "./helpers.js";

const PERMISSION = `query($s: ID!) { permission(subjectId: $s, purposeId: "location") { permitted } }`;
const HEAD = `{ ledgerHead { position } }`;
const POSITION = /^\d{16}$/;

describe(`Ledger-Position and Ledger-Min-Position on one service (${backend})`, () => {
  let srv: TestServer;
  let reader: string;
  let auditor: string;
  const clock = new TestClock();

  beforeAll(async () => {
    srv = await startTestServer({ clock });
    reader = await srv.token("svc", "consent:read");
    auditor = await srv.token("auditor", "ledger:read");
  });
  afterAll(() => srv.close());

  it("names, on a mutation's answer, the position its last event took; a query's answer carries none", async () => {
    const subjectId = freshId();
    const self = await srv.token(subjectId, "consent:self");
    const r = await send<RecordPayload>(srv, RECORD_CONSENT, { input: { policyVersion: 1, acceptPolicy: true, grant: ["location"] } }, self);
    expect(r.status).toBe(200);
    const events = r.data!.recordConsent.events;
    expect(r.headers.get("ledger-position")).toBe(events.at(-1)!.position);
    const read = await send(srv, PERMISSION, { s: subjectId }, reader);
    expect(read.status).toBe(200);
    expect(read.headers.get("ledger-position")).toBeNull();
  });

  it("names, on an idempotent replay, the position the first call's last event took", async () => {
    const subjectId = freshId();
    const self = await srv.token(subjectId, "consent:self");
    const input = { policyVersion: 1, acceptPolicy: true, grant: ["location"], idempotencyKey: freshId("key") };
    const first = await send<RecordPayload>(srv, RECORD_CONSENT, { input }, self);
    await onboard(srv, freshId());
    const replay = await send<RecordPayload>(srv, RECORD_CONSENT, { input }, self);
    expect(first.headers.get("ledger-position")).toBe(first.data!.recordConsent.events.at(-1)!.position);
    expect(replay.headers.get("ledger-position")).toBe(first.headers.get("ledger-position"));
  });

  it("names a position on a refused mutation too, one that includes everything it was decided on", async () => {
    const subjectId = freshId();
    const self = await srv.token(subjectId, "consent:self");
    const r = await send<RecordPayload>(srv, RECORD_CONSENT, { input: { policyVersion: 1, withdraw: ["support"] } }, self);
    expect(r.code).toBeDefined();
    const position = r.headers.get("ledger-position");
    expect(position).toMatch(POSITION);
    const head = await send<{ ledgerHead: { position: string } }>(srv, HEAD, {}, auditor);
    expect(Number(position)).toBeLessThanOrEqual(Number(head.data!.ledgerHead.position));
  });

  it("answers a read with a position the service has applied, with the write in it", async () => {
    const subjectId = freshId();
    const self = await srv.token(subjectId, "consent:self");
    await onboard(srv, subjectId, ["location"]);
    const w = await send<RecordPayload>(srv, RECORD_CONSENT, { input: { policyVersion: 1, withdraw: ["location"] } }, self);
    const read = await send<{ permission: { permitted: boolean } }>(srv, PERMISSION, { s: subjectId }, reader, { "Ledger-Min-Position": w.headers.get("ledger-position")! });
    expect(read.status).toBe(200);
    expect(read.data!.permission.permitted).toBe(false);
  });

  it.each(["12", "abc", "00000000000000001", "-000000000000001", "0000000000000001-000000", ""])(
    "refuses the malformed Ledger-Min-Position %j with BAD_USER_INPUT (400), appending nothing",
    async (value) => {
      const before = await countEvents(srv, auditor);
      const subjectId = freshId();
      const self = await srv.token(subjectId, "consent:self");
      const read = await send(srv, PERMISSION, { s: subjectId }, reader, { "Ledger-Min-Position": value });
      expect([read.status, read.code]).toEqual([400, "BAD_USER_INPUT"]);
      const write = await send(srv, RECORD_CONSENT, { input: { policyVersion: 1, acceptPolicy: true } }, self, { "Ledger-Min-Position": value });
      expect([write.status, write.code]).toEqual([400, "BAD_USER_INPUT"]);
      expect(await countEvents(srv, auditor)).toBe(before);
    },
  );

  /** /metrics, once every serving process follows the test clock's last move. */
  const metrics = async () => {
    await srv.app.clockSynced?.();
    return (await fetch(new URL("/metrics", srv.url))).text();
  };
  /** Reads waiting for a position, as /metrics counts them (every serving process's). */
  const waits = async () => Number(/^ledger_min_position_waits (\d+)$/m.exec(await metrics())?.[1]);

  it("holds a read for a position not yet applied and answers it once the write that takes it commits", async () => {
    const head = Number((await send<{ ledgerHead: { position: string } }>(srv, HEAD, {}, auditor)).data!.ledgerHead.position);
    const subjectId = freshId();
    const held = send<{ permission: { permitted: boolean } }>(srv, PERMISSION, { s: subjectId }, reader, { "Ledger-Min-Position": String(head + 1).padStart(16, "0") });
    await eventually("the read waits", async () => (await waits()) > 0);
    await onboard(srv, subjectId, ["location"]);
    const read = await held;
    expect(read.status).toBe(200);
    // Nothing else writes on this service: the position after the head is this subject's acceptance.
    expect(read.data!.permission.permitted).toBe(true);
  });

  it("answers STALE_READ (503) when the position is not applied within the wait, rather than older data", async () => {
    const head = Number((await send<{ ledgerHead: { position: string } }>(srv, HEAD, {}, auditor)).data!.ledgerHead.position);
    const ahead = String(head + 1_000_000).padStart(16, "0");
    const held = send<{ permission: unknown }>(srv, PERMISSION, { s: freshId() }, reader, { "Ledger-Min-Position": ahead });
    await eventually("the read waits", async () => (await waits()) > 0);
    clock.advance(1_999);
    expect(await waits()).toBe(1);
    clock.advance(1);
    const read = await held;
    expect([read.status, read.code, read.data ?? null]).toEqual([503, "STALE_READ", null]);
    expect(read.headers.get("retry-after")).toBe("1");
    expect(await waits()).toBe(0);
    // Every serving process has applied the head (with WORKERS > 1, /metrics adds up each process's gauge).
    expect(Number(/^ledger_applied_position (\d+)$/m.exec(await metrics())?.[1])).toBeGreaterThanOrEqual(head);
  });

  it("names a mutation's position over WebSocket in its result's extensions (no headers there)", async () => {
    const subjectId = freshId();
    const client = wsClient(srv.url, await srv.token(subjectId, "consent:self"));
    try {
      const result = await client.iterate<RecordPayload>({ query: RECORD_CONSENT, variables: { input: { policyVersion: 1, acceptPolicy: true } } }).next();
      const value = result.value as { data: RecordPayload; extensions?: { ledgerPosition?: string } };
      expect(value.extensions?.ledgerPosition).toBe(value.data.recordConsent.events.at(-1)!.position);
    } finally {
      await client.dispose();
    }
  });

  it("lets a front end on a listed origin send Ledger-Min-Position and read Ledger-Position", async () => {
    const origin = "https://shop.example";
    const cors = await startTestServer({ env: { CORS_ORIGINS: origin } });
    try {
      const pre = await fetch(cors.url, { method: "OPTIONS", headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "ledger-min-position" } });
      expect(pre.status).toBe(204);
      expect(pre.headers.get("access-control-allow-headers")?.toLowerCase()).toContain("ledger-min-position");
      const subjectId = freshId();
      const self = await cors.token(subjectId, "consent:self");
      const r = await send(cors, RECORD_CONSENT, { input: { policyVersion: 1, acceptPolicy: true } }, self, { origin });
      expect(r.headers.get("access-control-expose-headers")?.toLowerCase()).toContain("ledger-position");
      expect(r.headers.get("ledger-position")).toMatch(POSITION);
    } finally {
      await cors.close();
    }
  });
});
