// A receiver that is down while the service restarts gets every change after it comes back, in
// order: the acknowledged cursor and the pending attempt are stored, the messages are the log's.
import { rmSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { freshId, ok, onboard } from "../api/helpers.js";
import { makeTempDir } from "../support/common.js";
import { type TestServer, startTestServer } from "../support/harness.js";
import { freshDatabase } from "../support/postgres.js";
import { WebhookReceiver } from "../support/webhook-receiver.js";

const CREATE = `mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { webhook { id } secret } }`;
const DELIVERIES = `query($id: ID!) { webhookDeliveries(id: $id, first: 5) { edges { node { state attempts lastError } } } }`;

const BACKENDS = [
  { name: "SQLite", env: async (dir: string) => ({ DATABASE_URL: `sqlite:${dir}/ledger.db` }) },
  { name: "PostgreSQL", env: async () => ({ DATABASE_URL: await freshDatabase("webhook_restart") }) },
];

describe.each(BACKENDS)("a webhook across a restart on $name", ({ env }) => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it("delivers everything after the receiver comes back", { timeout: 90_000 }, async () => {
    const dataDir = makeTempDir("webhook-restart-");
    dirs.push(dataDir);
    const settings = {
      ...(await env(dataDir)),
      WEBHOOK_ALLOW_HTTP: "true",
      WEBHOOK_ALLOW_PRIVATE: "true",
      // Many short retries: the webhook stays enabled while the receiver is down, and nothing waits long.
      WEBHOOK_RETRY_DELAYS_MS: Array.from({ length: 100 }, () => "50").join(","),
      WEBHOOK_FLUSH_MS: "5",
    };
    const receiver = await WebhookReceiver.start();
    let srv: TestServer | null = await startTestServer({ dataDir, env: settings });
    try {
      const admin = await srv.token("ops", "webhook:admin");
      const created = ok(await srv.gql<{ createWebhook: { webhook: { id: string }; secret: string } }>(CREATE, { input: { url: receiver.url("/r") } }, admin)).createWebhook;
      receiver.trust("/r", created.secret);
      await receiver.stop();
      const before = [freshId("down"), freshId("down"), freshId("down")];
      for (const s of before) await onboard(srv, s, ["location"]);
      // The first message is being retried: its failed attempts are on record.
      let pending = false;
      for (let i = 0; i < 500 && !pending; i++) {
        const d = ok(await srv.gql<{ webhookDeliveries: { edges: { node: { state: string; attempts: number } }[] } }>(DELIVERIES, { id: created.webhook.id }, admin));
        pending = d.webhookDeliveries.edges.some((e) => e.node.state === "PENDING" && e.node.attempts >= 1);
      }
      expect(pending).toBe(true);
      await srv.close();
      srv = null;

      await receiver.listen();
      srv = await startTestServer({ dataDir, env: settings });
      const after = [freshId("up"), freshId("up")];
      for (const s of after) await onboard(srv, s, ["location"]);
      const acked = (s: string) => receiver.acknowledged("/r").some((r) => r.message?.data.subjectId === s && r.message.data.purposeId === "location");
      await receiver.until(() => [...before, ...after].every(acked), "every subject's location grant");
      const got = receiver.acknowledged("/r");
      expect(got.every((r) => r.verified)).toBe(true);
      // In order: each message's first arrival after the one before (a message may come twice, with its one webhook-id).
      const firsts: string[] = [];
      const seen = new Set<string>();
      for (const r of got) if (!seen.has(r.id)) (seen.add(r.id), firsts.push(r.message!.data.cursor));
      expect(firsts).toEqual([...firsts].sort());
      const order = got.filter((r) => r.message!.data.purposeId === "location").map((r) => r.message!.data.subjectId);
      expect([...new Set(order)]).toEqual([...before, ...after]);
    } finally {
      await srv?.close();
      await receiver.stop();
    }
  });
});
