// Finding 2 of the third review: answers are priced by the bytes they can hold, and a WebSocket client
// that stops reading cannot make the server hold more than a byte budget for it.
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import WebSocket from "ws";
import { loadConfig } from "../../src/config.js";
import { EVENT_BYTES } from "../../src/graphql/operation-cost.js";
import { subjectActor } from "../support/ledger-commands.js";
import { type TestServer, startTestServer } from "../support/harness.js";
import { freshId, ok, onboard } from "../api/helpers.js";
import { type Message, RawWsClient } from "../support/raw-ws-client.js";

const SUBSCRIBER_BYTES = 65_536;
let srv: TestServer;

beforeAll(async () => {
  srv = await startTestServer({ env: { MAX_SUBSCRIBER_BYTES: String(SUBSCRIBER_BYTES) } });
});
afterAll(() => srv.close());

const aliases = (n: number, field: string) => Array.from({ length: n }, (_, i) => `a${i}: ${field}`).join(" ");

describe("finding 2: every field priced by the bytes it can return", () => {
  it("has a documented default answer budget", () => {
    expect(loadConfig({}).limits.maxResponseBytes).toBe(16 * 1024 * 1024);
  });

  it("a consent:self history with canonical under many aliases is refused before it runs (QUERY_TOO_COMPLEX, the bytes named)", async () => {
    const me = freshId("bytes");
    await onboard(srv, me, ["location"]);
    const token = await srv.token(me, "consent:self");
    // 700 aliases × 3 events × canonical: cheap by count, up to 17 MB by bytes.
    const r = await srv.gql(`{ me { history(first: 3) { edges { node { ${aliases(700, "canonical")} } } } } }`, {}, token);
    expect(r.status).toBe(400);
    expect(r.code).toBe("QUERY_TOO_COMPLEX");
    expect(r.errors?.[0]?.message).toMatch(new RegExp(`${EVENT_BYTES} bytes each`));
    // The same page with canonical once is answered.
    ok(await srv.gql(`{ me { history(first: 3) { edges { node { canonical data } } } } }`, {}, token));
  });

  it("the same limit holds for a subscription's messages", async () => {
    const token = await srv.token("bytes-auditor", "ledger:read");
    const ws = await connect(token);
    try {
      ws.send(JSON.stringify({ id: "1", type: "subscribe", payload: { query: `subscription { ledgerEvents { ${aliases(2_100, "canonical")} } }` } }));
      const m = await nextMessage(ws, (x) => x.id === "1");
      expect(m.type).toBe("error");
      expect(m.payload[0].extensions.code).toBe("QUERY_TOO_COMPLEX");
    } finally {
      ws.terminate();
    }
  });
});

async function connect(token: string): Promise<WebSocket> {
  const ws = new WebSocket(srv.url.replace(/^http/, "ws"), "graphql-transport-ws");
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  ws.send(JSON.stringify({ type: "connection_init", payload: { authorization: `Bearer ${token}` } }));
  await nextMessage(ws, (m) => m.type === "connection_ack");
  return ws;
}

function nextMessage(ws: WebSocket, match: (m: Message) => boolean): Promise<Message> {
  return new Promise((resolve) => {
    const on = (data: WebSocket.RawData) => {
      const m = JSON.parse(data.toString()) as Message;
      if (!match(m)) return;
      ws.off("message", on);
      resolve(m);
    };
    ws.on("message", on);
  });
}

describe("finding 2: a per-subscriber byte budget ends a subscription that is not read with SLOW_SUBSCRIBER", () => {
  it("a client that stops reading gets its replays ended once the connection's unsent bytes pass MAX_SUBSCRIBER_BYTES", async () => {
    const { ledger, changes } = srv.app.services;
    // A few hundred events with evidence to replay.
    for (let i = 0; i < 150; i++) {
      const id = freshId("replay");
      await ledger.recordConsent(
        id,
        {
          policyId: null,
          policyVersion: 1,
          acceptPolicy: true,
          grant: ["location"],
          withdraw: [],
          occurredAt: null,
          evidence: { channel: "web", userAgent: "u".repeat(1_000), ipAddress: "192.0.2.1", formId: null, locale: null },
          expectedVersion: null,
        },
        subjectActor(id),
      );
    }
    const open = changes.size;
    const started = vi.spyOn(changes, "ledgerEvents");
    const client = await RawWsClient.open(srv.url);
    client.send({ type: "connection_init", payload: { authorization: `Bearer ${await srv.token("slow-reader", "ledger:read")}` } });
    await expect.poll(() => client.messages().some((m) => m.type === "connection_ack")).toBe(true);
    // Stop reading: the server's writes pile up in the kernel's buffers, then in its own.
    client.pause();
    const SUBS = 12;
    // Each message is about 11 KB (an event's canonical form five times, and its data): graphql-ws sends
    // one message per subscription at a time, so twelve of them unread pass the 64 KB budget.
    const query = `subscription { ledgerEvents(after: "0000000000000000") { position ${aliases(5, "canonical")} data } }`;
    for (let i = 0; i < SUBS; i++) client.send({ id: `s${i}`, type: "subscribe", payload: { query } });
    await expect.poll(() => started.mock.calls.length, { timeout: 30_000, interval: 20 }).toBe(SUBS);
    // While nothing is read, the subscriptions whose next message would pass the budget are ended.
    const withinBudget = Math.ceil(SUBSCRIBER_BYTES / 10_000) + 1;
    await expect.poll(() => changes.size, { timeout: 30_000, interval: 20 }).toBeLessThanOrEqual(open + withinBudget);
    client.resume();
    const ended = SUBS - withinBudget;
    await expect.poll(() => client.messages().filter((m) => m.type === "error").length, { timeout: 30_000, interval: 50 }).toBeGreaterThanOrEqual(ended);
    for (const m of client.messages().filter((x) => x.type === "error")) expect(m.payload[0].extensions.code).toBe("SLOW_SUBSCRIBER");
    // The others were only held back, and go on once the client reads.
    const going = new Set(client.messages().filter((m) => m.type === "error").map((m) => m.id));
    await expect.poll(() => new Set(client.messages().filter((m) => m.type === "next" && !going.has(m.id)).map((m) => m.id)).size, { timeout: 30_000 }).toBe(SUBS - going.size);
    client.close();
    started.mockRestore();
  }, 120_000);
});
