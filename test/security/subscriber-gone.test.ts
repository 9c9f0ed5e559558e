// A WebSocket client that stops reading and then goes away while the server still has messages on
// their way to it: its subscriptions end, and nothing is logged as an error (nothing is wrong with the
// service; a client must not be able to fill the error log by disconnecting).
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import WebSocket from "ws";
import { createLogger } from "../../src/app.js";
import { subjectActor } from "../support/ledger-commands.js";
import { type TestServer, startTestServer } from "../support/harness.js";
import { freshId } from "../api/helpers.js";
import { RawWsClient } from "../support/raw-ws-client.js";

const logLines: string[] = [];
let srv: TestServer;

beforeAll(async () => {
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logLines.push(chunk.toString("utf8"));
      done();
    },
  });
  srv = await startTestServer({ logger: createLogger("debug", sink) });
});
afterAll(() => srv.close());

const aliases = (n: number, field: string) => Array.from({ length: n }, (_, i) => `a${i}: ${field}`).join(" ");
const errorLines = () => logLines.filter((l) => (JSON.parse(l) as { level: number }).level >= 50);

describe("a subscriber that goes away with messages still on their way", () => {
  it("ends its subscriptions and logs no error", async () => {
    const { ledger, changes } = srv.app.services;
    for (let i = 0; i < 150; i++) {
      const id = freshId("gone");
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
    // The server's sockets, as it sends on them.
    const sends = vi.spyOn(WebSocket.prototype, "send");
    const client = await RawWsClient.open(srv.url);
    client.send({ type: "connection_init", payload: { authorization: `Bearer ${await srv.token("gone-reader", "ledger:read")}` } });
    await expect.poll(() => client.messages().some((m) => m.type === "connection_ack")).toBe(true);
    // Stop reading: the replays fill the kernel's buffers, then each subscription waits on a send.
    client.pause();
    const SUBS = 8;
    const query = `subscription { ledgerEvents(after: "0000000000000000") { position ${aliases(5, "canonical")} data } }`;
    for (let i = 0; i < SUBS; i++) client.send({ id: `s${i}`, type: "subscribe", payload: { query } });
    await expect.poll(() => changes.size, { timeout: 30_000, interval: 20 }).toBe(open + SUBS);
    // The server's own buffer holds messages the client has not read.
    await expect.poll(() => sends.mock.contexts.some((s) => (s as WebSocket).bufferedAmount > 0), { timeout: 30_000, interval: 20 }).toBe(true);
    sends.mockRestore();
    client.close();
    await expect.poll(() => changes.size, { timeout: 30_000, interval: 20 }).toBe(open);
    expect(errorLines()).toEqual([]);
  }, 120_000);
});
