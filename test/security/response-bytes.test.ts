// Finding 2 of the third review: answers are priced by the bytes they can hold, and a WebSocket client
// that stops reading cannot make the server hold more than a byte budget for it.
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { randomBytes } from "node:crypto";
import { type Socket, createConnection } from "node:net";
import WebSocket from "ws";
import { loadConfig } from "../../src/config.js";
import { EVENT_BYTES } from "../../src/graphql/operation-cost.js";
import { subjectActor } from "../support/ledger-commands.js";
import { type TestServer, startTestServer } from "../support/harness.js";
import { freshId, ok, onboard } from "../api/helpers.js";

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

interface Message {
  id?: string;
  type: string;
  // biome-ignore lint: the protocol's payload is any JSON
  payload?: any;
}

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

/**
 * A WebSocket client on a bare TCP socket, so that it can really stop reading (ws's own client resumes
 * its socket by itself): text frames out (masked, as a client must), server frames parsed on demand.
 */
class RawWsClient {
  private readonly chunks: Buffer[] = [];
  private constructor(private readonly socket: Socket) {
    socket.on("data", (d: Buffer) => this.chunks.push(d));
  }

  static async open(url: string): Promise<RawWsClient> {
    const { hostname, port } = new URL(url);
    const socket = createConnection({ host: hostname, port: Number(port) });
    await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
    socket.write(
      `GET /graphql HTTP/1.1\r\nHost: ${hostname}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${randomBytes(16).toString("base64")}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: graphql-transport-ws\r\n\r\n`,
    );
    const client = new RawWsClient(socket);
    await expect.poll(() => Buffer.concat(client.chunks).includes("\r\n\r\n")).toBe(true);
    const all = Buffer.concat(client.chunks);
    expect(all.subarray(0, 12).toString()).toBe("HTTP/1.1 101");
    client.chunks.length = 0;
    client.chunks.push(all.subarray(all.indexOf("\r\n\r\n") + 4));
    return client;
  }

  send(message: unknown): void {
    const payload = Buffer.from(JSON.stringify(message));
    const mask = randomBytes(4);
    const head = payload.length < 126 ? Buffer.from([0x81, 0x80 | payload.length]) : Buffer.from([0x81, 0x80 | 126, payload.length >> 8, payload.length & 0xff]);
    const body = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]!));
    this.socket.write(Buffer.concat([head, mask, body]));
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  /** Every complete text message received so far. */
  messages(): Message[] {
    const buf = Buffer.concat(this.chunks);
    const out: Message[] = [];
    for (let at = 0; at + 2 <= buf.length; ) {
      let len = buf[at + 1]! & 0x7f;
      let start = at + 2;
      if (len === 126) {
        len = buf.readUInt16BE(at + 2);
        start = at + 4;
      } else if (len === 127) {
        len = Number(buf.readBigUInt64BE(at + 2));
        start = at + 10;
      }
      if (start + len > buf.length) break;
      if ((buf[at]! & 0x0f) === 1) out.push(JSON.parse(buf.subarray(start, start + len).toString()) as Message);
      at = start + len;
    }
    return out;
  }

  close(): void {
    this.socket.destroy();
  }
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
