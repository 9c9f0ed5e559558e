// The delivery thread POSTs what it is handed and answers each request's status; a thread that stops
// fails the requests it had in flight (they are retried) and is started again for the next.
import { type Server, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ThreadSender } from "../../src/webhooks/delivery-thread.js";

describe("the delivery thread", () => {
  const seen: { id: string | undefined; body: string }[] = [];
  let server: Server;
  let url: URL;
  const sender = new ThreadSender({ timeoutMs: 5_000, concurrencyPerReceiver: 4 });
  const to = { address: "127.0.0.1", family: 4 as const };

  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        seen.push({ id: req.headers["webhook-id"] as string | undefined, body: Buffer.concat(chunks).toString("utf8") });
        res.writeHead(req.url === "/gone" ? 410 : 204).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    url = new URL(`http://receiver.test:${(server.address() as AddressInfo).port}/hook`);
  });
  afterAll(async () => {
    await sender.close();
    await new Promise<void>((r) => server.close(() => r()));
  });

  it("posts to the checked address and answers the status", async () => {
    const signal = new AbortController().signal;
    expect(await sender.post(url, to, { "webhook-id": "msg_1" }, '{"a":1}', signal)).toEqual({ status: 204, error: null });
    expect(await sender.post(new URL("/gone", url), to, { "webhook-id": "msg_2" }, "{}", signal)).toEqual({ status: 410, error: null });
    expect(seen).toEqual([
      { id: "msg_1", body: '{"a":1}' },
      { id: "msg_2", body: "{}" },
    ]);
  });

  it("answers each of many requests handed over at once with its own status", async () => {
    const signal = new AbortController().signal;
    const ids = Array.from({ length: 40 }, (_, i) => `msg_many_${i}`);
    const answers = await Promise.all(ids.map((id, i) => sender.post(i % 5 === 0 ? new URL("/gone", url) : url, to, { "webhook-id": id }, `{"i":${i}}`, signal)));
    expect(answers).toEqual(ids.map((_, i) => ({ status: i % 5 === 0 ? 410 : 204, error: null })));
    const got = seen.filter((s) => s.id?.startsWith("msg_many_"));
    expect(got.map((s) => s.id).sort()).toEqual([...ids].sort());
    for (const s of got) expect(s.body).toBe(`{"i":${s.id!.slice("msg_many_".length)}}`);
  });

  it("starts again after the thread stopped", async () => {
    const signal = new AbortController().signal;
    await sender.post(url, to, { "webhook-id": "msg_3" }, "{}", signal);
    await (sender as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
    expect(await sender.post(url, to, { "webhook-id": "msg_4" }, "{}", signal)).toEqual({ status: 204, error: null });
    expect(seen.at(-1)!.id).toBe("msg_4");
  });
});
