// WORKERS=2: the per-caller and per-subject limits are the service's, not each worker's. Consecutive
// connections land on different workers (the primary hands them out in turn), so a caller whose
// connections, operations, writes or visitor sessions were counted per worker would get twice each
// limit here; and the slots a killed worker held are free again at once.
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import WebSocket from "ws";
import { BACKENDS } from "../support/backend.js";
import { TestClock } from "../support/clock.js";
import { type TestServer, startTestServer } from "../support/harness.js";
import { freshId } from "../api/helpers.js";
import { Collected, wsClient } from "../subscriptions/ws-client.js";
import { postAlone, postPathAlone } from "./alone.js";

const RECORD = `mutation R($input: RecordConsentInput!) { recordConsent(input: $input) { events { position } } }`;
const SUBJECT_EVENTS = `query E($subjectId: ID) { events(subjectId: $subjectId, first: 100) { edges { node { id } } } }`;
const LEDGER_EVENTS = `subscription Events($after: String) { ledgerEvents(after: $after) { position } }`;

/** Opens a WebSocket and sends connection_init: resolves to whether it was acknowledged, or the close code. */
async function connect(url: string, token: string): Promise<{ ws: WebSocket; first: Promise<{ ack: boolean; code?: number }>; closed: Promise<number> }> {
  const ws = new WebSocket(url.replace(/^http/, "ws"), "graphql-transport-ws");
  await new Promise((r) => ws.once("open", r));
  const closed = new Promise<number>((resolve) => ws.once("close", resolve));
  const first = new Promise<{ ack: boolean; code?: number }>((resolve) => {
    ws.once("message", (m) => resolve({ ack: JSON.parse(String(m)).type === "connection_ack" }));
    void closed.then((code) => resolve({ ack: false, code }));
  });
  ws.send(JSON.stringify({ type: "connection_init", payload: { authorization: `Bearer ${token}` } }));
  return { ws, first, closed };
}

describe.each(BACKENDS)("limits shared by two workers on %s", (backend) => {
  let srv: TestServer;
  const clock = new TestClock();
  beforeAll(async () => {
    srv = await startTestServer({
      backend,
      clock,
      env: { WORKERS: "2", MAX_CONNECTIONS_PER_CALLER: "2", MAX_SUBSCRIPTIONS_PER_CALLER: "3", MAX_WRITES_PER_SUBJECT_PER_MINUTE: "3", VISITOR_SESSIONS_PER_MINUTE: "2" },
    });
  }, 120_000);
  afterAll(() => srv?.close());

  it("refuses a caller's third connection though each worker holds only one, and frees a killed worker's at once", async () => {
    const token = await srv.token(freshId("conn"), "consent:self");
    const held = [await connect(srv.url, token), await connect(srv.url, token)];
    for (const c of held) expect(await c.first).toEqual({ ack: true });
    const third = await connect(srv.url, token);
    expect(await third.first).toEqual({ ack: false, code: 4429 });

    // One of the two is on the killed worker: its connection dies with it, and its slot goes back.
    const victim = srv.app.workerPids!()[0]!;
    process.kill(victim, "SIGKILL");
    await Promise.race(held.map((c) => c.closed));
    await vi.waitFor(() => expect(srv.app.workerPids!()).not.toContain(victim), { timeout: 30_000 });
    const again = await connect(srv.url, token);
    expect(await again.first).toEqual({ ack: true });
    // Only that one: the surviving connection still counts.
    const over = await connect(srv.url, token);
    expect(await over.first).toEqual({ ack: false, code: 4429 });
    for (const c of [...held, again]) c.ws.close();
    await vi.waitFor(() => expect(srv.app.workerPids!()).toHaveLength(2), { timeout: 60_000 });
  }, 120_000);

  it("refuses a caller's fourth operation across connections on both workers, and frees one when it ends", async () => {
    const writer = await srv.token("service", "consent:write");
    const write = async () => {
      const a = await postAlone(srv.url, RECORD, { input: { subjectId: freshId("op"), policyVersion: 1, acceptPolicy: true, grant: ["location"] } }, writer);
      expect(a.body.errors).toBeUndefined();
      return (a.body.data?.["recordConsent"] as { events: { position: string }[] }).events.at(-1)!.position;
    };
    // Each subscription replays from `after`: the later write is answered at once, so one that runs is seen running.
    const after = await write();
    await write();
    const reader = await srv.token(freshId("reader"), "ledger:read");
    const running = (c: Collected<unknown>) => c.until((s) => s.ended || s.items.length > 0, "the replay or a refusal");
    const [a, b] = [wsClient(srv.url, reader), wsClient(srv.url, reader)];
    const subs: Collected<unknown>[] = [];
    for (const client of [a, a, b]) {
      const s = new Collected<unknown>(client, LEDGER_EVENTS, { after }, "ledgerEvents");
      await running(s);
      expect(s.errors).toBeNull();
      subs.push(s);
    }
    const fourth = new Collected<unknown>(b, LEDGER_EVENTS, { after }, "ledgerEvents");
    await running(fourth);
    expect(fourth.errors?.[0]?.extensions?.code).toBe("TOO_MANY_SUBSCRIPTIONS");
    // Ended on one worker, its slot serves on the other.
    subs.shift()!.unsubscribe();
    await vi.waitFor(
      async () => {
        const s = new Collected<unknown>(b, LEDGER_EVENTS, { after }, "ledgerEvents");
        await running(s);
        if (s.errors) throw new Error(JSON.stringify(s.errors));
        subs.push(s);
      },
      { timeout: 30_000 },
    );
    for (const s of subs) s.unsubscribe();
    await Promise.all([a.dispose(), b.dispose()]);
  }, 120_000);

  it("counts one subject's writes across both workers: the fourth in a minute is refused", async () => {
    const writer = await srv.token("service", "consent:write");
    const subjectId = freshId("quota");
    const input = { subjectId, policyVersion: 1, acceptPolicy: true, grant: ["location"] };
    for (let i = 0; i < 3; i++) expect((await postAlone(srv.url, RECORD, { input }, writer)).body.errors).toBeUndefined();
    const fourth = await postAlone(srv.url, RECORD, { input }, writer);
    expect(fourth.body.errors?.[0]?.extensions?.code).toBe("TOO_MANY_REQUESTS");
    // The window is the service's clock's: a minute later the subject writes again.
    clock.advance(60_000);
    expect((await postAlone(srv.url, RECORD, { input }, writer)).body.errors).toBeUndefined();
  }, 60_000);

  it("appends nothing for a write a worker has refused, and answers with the quota's own message", async () => {
    clock.advance(60_000);
    const writer = await srv.token("service", "consent:write");
    const reader = await srv.token(freshId("reader"), "ledger:read");
    const subjectId = freshId("refused");
    const grant = { subjectId, policyVersion: 1, acceptPolicy: true, grant: ["location"] };
    const events = async () => {
      const a = await postAlone(srv.url, SUBJECT_EVENTS, { subjectId }, reader);
      expect(a.body.errors).toBeUndefined();
      return (a.body.data?.["events"] as { edges: { node: { id: string } }[] }).edges.map((e) => e.node.id);
    };
    for (let i = 0; i < 3; i++) expect((await postAlone(srv.url, RECORD, { input: grant }, writer)).body.errors).toBeUndefined();
    const before = await events();
    expect(before.length).toBeGreaterThan(0);
    // A withdrawal appends an event when it is taken: refused, it must append none, on whichever worker it lands.
    const withdraw = { subjectId, policyVersion: 1, withdraw: ["location"] };
    for (let i = 0; i < 2; i++) {
      const refused = await postAlone(srv.url, RECORD, { input: withdraw }, writer);
      expect(refused.body.errors?.[0]?.extensions?.code).toBe("TOO_MANY_REQUESTS");
      expect(refused.body.errors?.[0]?.message).toMatch(/^this subject's record took 3 writes in the last minute, the most it may take; retry in \d+ s$/);
    }
    expect(await events()).toEqual(before);
    // Taken once the minute is over, the same withdrawal does append.
    clock.advance(60_000);
    expect((await postAlone(srv.url, RECORD, { input: withdraw }, writer)).body.errors).toBeUndefined();
    expect((await events()).length).toBeGreaterThan(before.length);
  }, 60_000);

  it("counts the visitor sessions of one address across both workers", async () => {
    clock.advance(60_000);
    expect(await postPathAlone(srv.url, "/visitor-session")).toBe(200);
    expect(await postPathAlone(srv.url, "/visitor-session")).toBe(200);
    expect(await postPathAlone(srv.url, "/visitor-session")).toBe(429);
    clock.advance(60_000);
    expect(await postPathAlone(srv.url, "/visitor-session")).toBe(200);
  }, 60_000);
});
