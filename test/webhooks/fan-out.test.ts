// Many webhooks on one replica share one reader of the log: each commit's changes are read once and
// handed to every webhook's own queue, so a webhook whose receiver hangs holds back no other.
import { type IncomingMessage, type Server, type ServerResponse, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freshId, ok, onboard } from "../api/helpers.js";
import { type TestServer, startTestServer } from "../support/harness.js";
import { WebhookReceiver } from "../support/webhook-receiver.js";

const CREATE = `mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { webhook { id } secret } }`;
const DELETE = `mutation($id: ID!) { deleteWebhook(id: $id) }`;

interface Created {
  createWebhook: { webhook: { id: string }; secret: string };
}

/** A receiver that takes requests and never answers them. */
class HangingReceiver {
  readonly held: { id: string; res: ServerResponse }[] = [];
  private readonly waiters = new Set<() => void>();
  private server: Server | null = null;
  port = 0;

  async start(): Promise<void> {
    this.server = createServer((req: IncomingMessage, res: ServerResponse) => {
      this.held.push({ id: String(req.headers["webhook-id"]), res });
      for (const w of [...this.waiters]) w();
    });
    await new Promise<void>((r) => this.server!.listen(0, "127.0.0.1", r));
    this.port = (this.server.address() as AddressInfo).port;
  }

  /** Resolves once a request has arrived. */
  firstRequest(): Promise<void> {
    if (this.held.length > 0) return Promise.resolve();
    return new Promise((resolve) => {
      const w = () => {
        this.waiters.delete(w);
        resolve();
      };
      this.waiters.add(w);
    });
  }

  stop(): Promise<void> {
    this.server?.closeAllConnections();
    return new Promise((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}

describe("webhooks sharing one reader", () => {
  let srv: TestServer;
  let admin: string;
  let receiver: WebhookReceiver;
  let n = 0;

  const create = async (url: string) => {
    const r = ok(await srv.gql<Created>(CREATE, { input: { url } }, admin)).createWebhook;
    receiver.trust(new URL(url).pathname, r.secret);
    return r.webhook.id;
  };
  const feedReads = async (): Promise<{ commit: number; page: number }> => {
    const text = await (await fetch(new URL("/metrics", srv.url))).text();
    const read = (kind: string) => Number(new RegExp(`^webhook_feed_reads_total\\{read="${kind}"\\} (\\d+)$`, "m").exec(text)?.[1] ?? 0);
    return { commit: read("commit"), page: read("page") };
  };
  /** Whether every path got the subject's location grant. */
  const allGot = (paths: string[], s: string) =>
    paths.every((p) => receiver.acknowledged(p).some((r) => r.message?.data.subjectId === s && r.message.data.purposeId === "location"));

  beforeAll(async () => {
    receiver = await WebhookReceiver.start();
    srv = await startTestServer({ env: { WEBHOOK_ALLOW_HTTP: "true", WEBHOOK_ALLOW_PRIVATE: "true", WEBHOOK_FLUSH_MS: "5" } });
    admin = await srv.token("ops", "webhook:admin");
  }, 60_000);
  afterAll(async () => {
    await srv?.close();
    await receiver?.stop();
  });

  it("reads each commit once for twelve webhooks, not once per webhook", async () => {
    const paths = Array.from({ length: 12 }, () => `/shared-${++n}`);
    const ids: string[] = [];
    for (const p of paths) ids.push(await create(receiver.url(p)));
    // Each webhook reads its (empty) backlog once, then joins the shared stream.
    const first = freshId("fan");
    await onboard(srv, first, ["location"]);
    await receiver.until(() => allGot(paths, first), "every webhook's first message");
    const before = await feedReads();
    const subjects = [freshId("fan"), freshId("fan"), freshId("fan")];
    for (const s of subjects) await onboard(srv, s, ["location"]);
    await receiver.until(() => subjects.every((s) => allGot(paths, s)), "every webhook's messages of three commits");
    const after = await feedReads();
    // Three commits: three reads for all twelve webhooks (one each would be 36), and no backlog read.
    expect(after.commit - before.commit).toBe(3);
    expect(after.page - before.page).toBe(0);
    for (const p of paths) {
      const cursors = receiver.acknowledged(p).map((r) => r.message!.data.cursor);
      expect(cursors.every((c, i) => i === 0 || cursors[i - 1]! < c)).toBe(true);
    }
    for (const id of ids) ok(await srv.gql(DELETE, { id }, admin));
  });

  it("keeps delivering to one webhook while another's receiver never answers", async () => {
    const hanging = new HangingReceiver();
    await hanging.start();
    try {
      const stuck = await create(`http://127.0.0.1:${hanging.port}/stuck`);
      const p = `/free-${++n}`;
      const free = await create(receiver.url(p));
      const subjects = Array.from({ length: 5 }, () => freshId("fan"));
      for (const s of subjects) await onboard(srv, s, ["location"]);
      await hanging.firstRequest();
      await receiver.until(() => subjects.every((s) => allGot([p], s)), "every message on the answering webhook");
      // The stuck webhook is still on its first message (one at a time, in order: a time-out retries that
      // same message); the other got all of theirs.
      expect(new Set(hanging.held.map((h) => h.id)).size).toBe(1);
      expect(hanging.held.every((h) => !h.res.writableEnded)).toBe(true);
      const got = receiver.acknowledged(p).map((r) => r.message!.data.subjectId);
      expect(new Set(got)).toEqual(new Set(subjects));
      ok(await srv.gql(DELETE, { id: stuck }, admin));
      ok(await srv.gql(DELETE, { id: free }, admin));
    } finally {
      await hanging.stop();
    }
  });
});
