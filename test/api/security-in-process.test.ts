// Per-caller limits observed inside the serving process: a whole-log read held open with a spy on its
// ledger, and the subscriptions its change feed holds. So this suite runs where the test's process
// serves (not with WORKERS > 1, whose workers are other processes; test/workers/shared-limits.test.ts
// shows the same limits across two workers through the API alone).
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { Client } from "graphql-ws";
import { type TestServer, startTestServer } from "../support/harness.js";
import { Collected, wsClient } from "../subscriptions/ws-client.js";
import { freshId } from "./helpers.js";

let srv: TestServer;
let auditor: string;
const clients: Client[] = [];

beforeAll(async () => {
  srv = await startTestServer({ env: { MAX_CONNECTIONS_PER_CALLER: "3", MAX_SUBSCRIPTIONS_PER_CALLER: "4" } });
  auditor = await srv.token("auditor", "ledger:read");
});
afterAll(async () => {
  for (const c of clients) await c.dispose();
  await srv.close();
});

const client = (token: string) => {
  const c = wsClient(srv.url, token);
  clients.push(c);
  return c;
};

describe("finding 4: whole-log work and subscriptions are limited per caller", () => {
  it("a second whole-log read of the same caller while one runs is TOO_MANY_REQUESTS (429); another caller is served", async () => {
    const { ledger } = srv.app.services;
    const real = ledger.integrity.bind(ledger);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    // The walk is held open, as a long walk on a large log would be.
    const spy = vi.spyOn(ledger, "integrity").mockImplementationOnce(() => gate.then(real) as unknown as ReturnType<typeof real>);
    const first = srv.gql<{ ledgerIntegrity: { ok: boolean } }>(`{ ledgerIntegrity { ok } }`, {}, auditor);
    await vi.waitFor(() => expect(spy).toHaveBeenCalledTimes(1));
    const second = await srv.gql(`{ ledgerIntegrity { ok } }`, {}, auditor);
    expect(second.code).toBe("TOO_MANY_REQUESTS");
    expect(second.status).toBe(429);
    const other = await srv.gql<{ ledgerIntegrity: { ok: boolean } }>(`{ ledgerIntegrity { ok } }`, {}, await srv.token("auditor-2", "ledger:read"));
    expect(other.data?.ledgerIntegrity.ok).toBe(true);
    release();
    expect((await first).data?.ledgerIntegrity.ok).toBe(true);
    spy.mockRestore();
    expect((await srv.gql(`{ ledgerIntegrity { ok } }`, {}, auditor)).errors).toBeUndefined();
  });

  it("a caller holds at most MAX_SUBSCRIPTIONS_PER_CALLER subscriptions across its connections", async () => {
    const me = freshId("subs");
    const token = await srv.token(me, "consent:self");
    const query = `subscription { consentChanged { cursor } }`;
    const before = srv.app.services.changes.size;
    const a = client(token);
    const b = client(token);
    const subs = [0, 1].map(() => new Collected<unknown>(a, query, {}, "consentChanged")).concat([0, 1].map(() => new Collected<unknown>(b, query, {}, "consentChanged")));
    await vi.waitFor(() => expect(srv.app.services.changes.size).toBe(before + 4));
    const fifth = new Collected<unknown>(b, query, {}, "consentChanged");
    await fifth.until((s) => s.ended, "the refusal");
    expect(fifth.errors?.[0]?.extensions?.code).toBe("TOO_MANY_SUBSCRIPTIONS");
    for (const s of subs) expect(s.ended).toBe(false);
    for (const s of subs) s.unsubscribe();
  });
});
