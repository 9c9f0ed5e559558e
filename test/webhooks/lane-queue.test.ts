// A webhook's queue is bounded: when the shared stream offers more than it holds, the webhook falls
// back to reading its backlog from its cursor, page by page, and still gets every change once, in order.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CONSENT_TYPES } from "../../src/feed/change-feed.js";
import { consentChangesOf } from "../../src/feed/consent-changes.js";
import { encodeChangeCursor } from "../../src/feed/feed-cursor.js";
import { Dispatcher, type FeedRead } from "../../src/webhooks/dispatcher.js";
import { freshId, onboard } from "../api/helpers.js";
import { type TestServer, startTestServer } from "../support/harness.js";
import { WebhookReceiver } from "../support/webhook-receiver.js";

describe("a webhook's bounded queue", () => {
  let srv: TestServer;
  let receiver: WebhookReceiver;
  let dispatcher: Dispatcher | null = null;

  beforeAll(async () => {
    receiver = await WebhookReceiver.start();
    srv = await startTestServer({ env: { WEBHOOK_ALLOW_HTTP: "true", WEBHOOK_ALLOW_PRIVATE: "true", WEBHOOK_FLUSH_MS: "5" } });
    // This replica's own dispatcher steps aside for one with a queue of two changes and pages of two events.
    await (srv.app.services.webhooks as unknown as { dispatcher: Dispatcher }).dispatcher.close();
  }, 60_000);
  afterAll(async () => {
    await dispatcher?.close();
    await srv?.close();
    await receiver?.stop();
  });

  it("falls back to reading from its cursor when full, and delivers every change once, in order", async () => {
    const { ledger, webhooks, config } = srv.app.services;
    const { webhook, secret } = await webhooks.create({ url: receiver.url("/bounded"), description: null, policyId: null, purposeIds: null });
    receiver.trust("/bounded", secret);
    const reads: Record<FeedRead, number> = { commit: 0, page: 0 };
    dispatcher = new Dispatcher({
      store: ledger.storage.webhooks,
      ledger,
      settings: config.webhooks,
      secretOf: (row) => webhooks.secretOf(row),
      onRead: (r) => reads[r]++,
      queueSize: 2,
      pageSize: 2,
    });
    await dispatcher.start();
    // Each onboarding changes several purposes at once: more than the queue holds.
    const subjects = [freshId("bq"), freshId("bq"), freshId("bq")];
    for (const s of subjects) await onboard(srv, s, ["location"]);
    const events = await ledger.events(webhook.cursor.position, 1_000, { types: CONSENT_TYPES });
    const expected = (await consentChangesOf(ledger, events)).map((f) => encodeChangeCursor(f.event.position, f.index));
    expect(expected.length).toBeGreaterThan(3 * 2);
    await receiver.until(() => receiver.acknowledged("/bounded").length >= expected.length, "every change");
    const got = receiver.acknowledged("/bounded");
    expect(got.every((r) => r.verified)).toBe(true);
    expect(got.map((r) => r.message!.data.cursor)).toEqual(expected);
    // The backlog was read in pages of two events after the queue filled, not only once at the start.
    expect(reads.page).toBeGreaterThan(1);
  });
});
