// Webhooks through the public API, on SQLite and on PostgreSQL, with a receiver in this process that
// verifies every request with the `standardwebhooks` package: signatures, order, retries, disabling,
// filters, deletion, and the secret shown once.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freshId, ok, onboard, recordConsent } from "../api/helpers.js";
import { type TestServer, startTestServer } from "../support/harness.js";
import { freshDatabase } from "../support/postgres.js";
import { WebhookReceiver } from "../support/webhook-receiver.js";

const CREATE = `mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { webhook { id url enabled } secret } }`;
const LIST = `query { webhooks { id url enabled disabledReason policyId purposeIds cursor } }`;
const DELETE = `mutation($id: ID!) { deleteWebhook(id: $id) }`;
const DELIVERIES = `query($id: ID!, $first: Int, $after: String) { webhookDeliveries(id: $id, first: $first, after: $after) {
  edges { cursor node { messageId cursor position state attempts lastStatusCode lastError lastAttemptAt nextAttemptAt } }
  pageInfo { hasNextPage endCursor } } }`;

interface Created {
  createWebhook: { webhook: { id: string; url: string; enabled: boolean }; secret: string };
}
interface Listed {
  webhooks: { id: string; url: string; enabled: boolean; disabledReason: string | null; policyId: string | null; purposeIds: string[] | null; cursor: string }[];
}
interface Deliveries {
  webhookDeliveries: {
    edges: { cursor: string; node: { messageId: string; state: string; attempts: number; lastStatusCode: number | null; nextAttemptAt: string | null } }[];
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
  };
}

/** Cursors are fixed-width and sort as strings: each strictly after the one before. */
const increasing = (cursors: string[]): boolean => cursors.every((c, i) => i === 0 || cursors[i - 1]! < c);

const BACKENDS = [
  { name: "SQLite", env: async () => ({}) },
  { name: "PostgreSQL", env: async () => ({ DATABASE_URL: await freshDatabase("webhooks") }) },
  // The requests made on the event loop that serves the API rather than on the delivery thread (the default).
  { name: "SQLite, delivering from the API's event loop", env: async () => ({ WEBHOOK_DELIVERY_THREAD: "false" }) },
];

describe.each(BACKENDS)("webhooks on $name", ({ env }) => {
  let srv: TestServer;
  let admin: string;
  let receiver: WebhookReceiver;
  let n = 0;
  const path = () => `/hook-${++n}`;

  const create = async (url: string, extra: Record<string, unknown> = {}) => {
    const r = ok(await srv.gql<Created>(CREATE, { input: { url, ...extra } }, admin)).createWebhook;
    receiver.trust(new URL(url).pathname, r.secret);
    return r;
  };

  beforeAll(async () => {
    receiver = await WebhookReceiver.start();
    srv = await startTestServer({
      env: {
        ...(await env()),
        WEBHOOK_ALLOW_HTTP: "true",
        WEBHOOK_ALLOW_PRIVATE: "true",
        // Retries a millisecond apart: the schedule's length is what these tests exercise, not its duration.
        WEBHOOK_RETRY_DELAYS_MS: "1,1,1,1,1",
        WEBHOOK_FLUSH_MS: "5",
      },
    });
    admin = await srv.token("ops", "webhook:admin");
  }, 60_000);
  afterAll(async () => {
    await srv?.close();
    await receiver?.stop();
  });

  it("needs webhook:admin, and shows the secret once", async () => {
    const other = await srv.token("ops", "consent:read ledger:read subject:admin");
    expect((await srv.gql(CREATE, { input: { url: receiver.url("/nope") } }, other)).code).toBe("FORBIDDEN");
    expect((await srv.gql(LIST, {}, other)).code).toBe("FORBIDDEN");
    expect((await srv.gql(LIST, {})).code).toBe("UNAUTHENTICATED");
    const { webhook, secret } = await create(receiver.url(path()));
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(webhook.enabled).toBe(true);
    const listed = ok(await srv.gql<Listed>(LIST, {}, admin)).webhooks;
    expect(listed.map((w) => w.id)).toContain(webhook.id);
    expect(JSON.stringify(listed)).not.toContain(secret.slice(6));
  });

  it("POSTs each consent change in position order, signed, with no evidence", async () => {
    const p = path();
    await create(receiver.url(p));
    const subjects = [freshId("wh"), freshId("wh"), freshId("wh")];
    for (const s of subjects) {
      const token = await srv.token(s, "consent:self");
      ok(await recordConsent(srv, token, { policyVersion: 1, acceptPolicy: true, grant: ["location"], evidence: { ipAddress: "203.0.113.9", userAgent: "secret-agent" } }));
      ok(await recordConsent(srv, token, { policyVersion: 1, withdraw: ["location"] }));
    }
    // Each subject's last change: location withdrawn.
    const withdrawn = (s: string) => receiver.at(p).some((r) => r.message?.data.subjectId === s && r.message.data.purposeId === "location" && r.message.data.current.permitted === false);
    await receiver.until(() => subjects.every(withdrawn), "every subject's withdrawal");
    const got = receiver.at(p);
    expect(got.every((r) => r.verified)).toBe(true);
    expect(got.every((r) => r.status === 200)).toBe(true);
    expect(increasing(got.map((r) => r.message!.data.cursor))).toBe(true);
    for (const r of got) {
      expect(r.message!.type).toBe("consent.changed");
      expect(r.id).toMatch(new RegExp(`^msg_wh_[0-9a-f]{24}_${r.message!.data.cursor}$`));
      expect(r.headers["webhook-signature"]).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
      expect(Object.keys(r.message!.data).sort()).toEqual(["current", "cursor", "policyId", "position", "previous", "purposeId", "subjectId"]);
      expect(r.raw).not.toContain("203.0.113.9");
      expect(r.raw).not.toContain("secret-agent");
    }
    expect(new Set(got.map((r) => r.message!.data.subjectId))).toEqual(new Set(subjects));
    // Grant then withdrawal of location, for each subject in turn.
    const location = got.filter((r) => r.message!.data.purposeId === "location").map((r) => [r.message!.data.subjectId, r.message!.data.current.permitted]);
    expect(location).toEqual(subjects.flatMap((s) => [[s, true], [s, false]]));
  });

  it("sends only the purposes a webhook asked for", async () => {
    const all = path();
    const some = path();
    await create(receiver.url(all));
    await create(receiver.url(some), { policyId: "clavis-privacy", purposeIds: ["location"] });
    const s = freshId("wh");
    await onboard(srv, s, ["location"]);
    await receiver.until(() => receiver.at(some).length >= 1 && receiver.at(all).some((r) => r.message?.data.subjectId === s && r.message.data.purposeId === "location"), "the filtered and unfiltered messages");
    expect(receiver.at(all).length).toBeGreaterThan(1);
    expect(receiver.at(some).map((r) => r.message!.data.purposeId)).toEqual(["location"]);
  });

  it("retries a receiver answering 500 three times per message, then delivers each once acknowledged, in order", async () => {
    const p = path();
    receiver.answer = (at, _id, seen) => (at === p && seen < 3 ? 500 : 200);
    const { webhook } = await create(receiver.url(p));
    const subjects = [freshId("wh"), freshId("wh")];
    for (const s of subjects) await onboard(srv, s, ["location"]);
    const lastOf = (s: string) => receiver.acknowledged(p).some((r) => r.message?.data.subjectId === s && r.message.data.purposeId === "location");
    await receiver.until(() => subjects.every(lastOf), "both subjects' location grants acknowledged");
    const acked = receiver.acknowledged(p);
    expect(acked.every((r) => r.verified)).toBe(true);
    expect(new Set(acked.map((r) => r.id)).size).toBe(acked.length);
    expect(increasing(acked.map((r) => r.message!.data.cursor))).toBe(true);
    // Every message came four times, with one webhook-id, and nothing overtook a message still being retried.
    for (const a of acked) expect(receiver.at(p).filter((r) => r.id === a.id).map((r) => r.status)).toEqual([500, 500, 500, 200]);
    const ids = receiver.at(p).map((r) => r.id);
    expect(ids.slice(0, acked.length * 4)).toEqual(acked.flatMap((a) => [a.id, a.id, a.id, a.id]));
    const d = ok(await srv.gql<Deliveries>(DELIVERIES, { id: webhook.id, first: 100 }, admin)).webhookDeliveries;
    // Progress is stored in batches: wait on what the API says for the last acknowledged message.
    const lastId = acked.at(-1)!.id;
    let edges = d.edges;
    for (let i = 0; i < 200 && !edges.some((e) => e.node.messageId === lastId && e.node.state === "DELIVERED"); i++)
      edges = ok(await srv.gql<Deliveries>(DELIVERIES, { id: webhook.id, first: 100 }, admin)).webhookDeliveries.edges;
    const last = edges.find((e) => e.node.messageId === lastId)!;
    expect(last.node).toMatchObject({ state: "DELIVERED", attempts: 4, lastStatusCode: 200, nextAttemptAt: null });
    receiver.answer = () => 200;
  });

  it("disables a webhook at once on 410, and after the retry schedule runs out", async () => {
    const gone = path();
    const failing = path();
    receiver.answer = (at) => (at === gone ? 410 : at === failing ? 503 : 200);
    const g = await create(receiver.url(gone));
    const f = await create(receiver.url(failing));
    await onboard(srv, freshId("wh"), ["location"]);
    // One 410; the failing one: the first attempt and five retries.
    await receiver.until(() => receiver.at(gone).length >= 1 && receiver.at(failing).length >= 6, "the 410 and six 503s");
    let listed = ok(await srv.gql<Listed>(LIST, {}, admin)).webhooks;
    for (let i = 0; i < 200 && listed.some((w) => (w.id === g.webhook.id || w.id === f.webhook.id) && w.enabled); i++)
      listed = ok(await srv.gql<Listed>(LIST, {}, admin)).webhooks;
    const byId = new Map(listed.map((w) => [w.id, w]));
    expect(byId.get(g.webhook.id)).toMatchObject({ enabled: false });
    expect(byId.get(g.webhook.id)!.disabledReason).toMatch(/410/);
    expect(byId.get(f.webhook.id)).toMatchObject({ enabled: false });
    expect(byId.get(f.webhook.id)!.disabledReason).toMatch(/6 attempts.*HTTP 503/);
    expect(receiver.at(gone)).toHaveLength(1);
    expect(receiver.at(failing)).toHaveLength(6);
    const d = ok(await srv.gql<Deliveries>(DELIVERIES, { id: f.webhook.id }, admin)).webhookDeliveries;
    expect(d.edges[0]!.node).toMatchObject({ state: "FAILED", attempts: 6, lastStatusCode: 503 });
    receiver.answer = () => 200;
  });

  it("checks the address again at each delivery", async () => {
    const p = path();
    const { webhook } = await create(receiver.url(p));
    // The same settings object the service reads: loopback is refused from now on.
    srv.config.webhooks.allowPrivate = false;
    try {
      await onboard(srv, freshId("wh"), ["location"]);
      let listed = ok(await srv.gql<Listed>(LIST, {}, admin)).webhooks;
      for (let i = 0; i < 500 && listed.find((w) => w.id === webhook.id)!.enabled; i++) listed = ok(await srv.gql<Listed>(LIST, {}, admin)).webhooks;
      expect(listed.find((w) => w.id === webhook.id)!.disabledReason).toMatch(/resolves to 127\.0\.0\.1, a loopback/);
      expect(receiver.at(p)).toEqual([]);
    } finally {
      srv.config.webhooks.allowPrivate = true;
    }
  });

  it("sends a deleted webhook nothing more", async () => {
    const deleted = path();
    const kept = path();
    const a = await create(receiver.url(deleted));
    await create(receiver.url(kept));
    const first = freshId("wh");
    await onboard(srv, first, ["location"]);
    const has = (at: string, s: string) => receiver.at(at).some((r) => r.message?.data.subjectId === s && r.message.data.purposeId === "location");
    await receiver.until(() => has(deleted, first) && has(kept, first), "the first subject's messages on both");
    expect(ok(await srv.gql<{ deleteWebhook: boolean }>(DELETE, { id: a.webhook.id }, admin)).deleteWebhook).toBe(true);
    const before = receiver.at(deleted).length;
    const second = freshId("wh");
    await onboard(srv, second, ["location"]);
    await receiver.until(() => has(kept, second), "the second subject's messages on the kept webhook");
    expect(receiver.at(deleted)).toHaveLength(before);
    expect(ok(await srv.gql<Listed>(LIST, {}, admin)).webhooks.map((w) => w.id)).not.toContain(a.webhook.id);
    expect((await srv.gql(DELIVERIES, { id: a.webhook.id }, admin)).code).toBe("NOT_FOUND");
    expect(ok(await srv.gql<{ deleteWebhook: boolean }>(DELETE, { id: a.webhook.id }, admin)).deleteWebhook).toBe(false);
  });

  it("counts deliveries by outcome and shows each webhook's queue age on /metrics", async () => {
    const { webhook } = await create(receiver.url(path()));
    const text = await (await fetch(new URL("/metrics", srv.url))).text();
    expect(text).toMatch(/^webhook_deliveries_total\{outcome="delivered"\} [1-9]\d*$/m);
    expect(text).toMatch(/^webhook_deliveries_total\{outcome="failed"\} [1-9]\d*$/m);
    expect(text).toMatch(/^webhook_deliveries_total\{outcome="gone"\} 1$/m);
    expect(text).toMatch(/^webhook_deliveries_total\{outcome="refused"\} [1-9]\d*$/m);
    expect(text).toMatch(new RegExp(`^webhook_queue_age_seconds\\{webhook="${webhook.id}"\\} 0$`, "m"));
  });

  it("pages deliveries newest first", async () => {
    const p = path();
    const { webhook } = await create(receiver.url(p));
    const s = freshId("wh");
    await onboard(srv, s, ["location", "linked-accounts"]);
    await receiver.until(() => receiver.at(p).length >= 3, "three messages");
    let all: string[] = [];
    for (let i = 0; i < 200 && all.length < 3; i++) {
      all = [];
      let after: string | null = null;
      for (;;) {
        const page: Deliveries["webhookDeliveries"] = ok(await srv.gql<Deliveries>(DELIVERIES, { id: webhook.id, first: 2, after }, admin)).webhookDeliveries;
        all.push(...page.edges.map((e) => e.node.messageId));
        if (!page.pageInfo.hasNextPage) break;
        after = page.pageInfo.endCursor;
      }
    }
    // Stored in batches: what the API lists is the oldest part of what the receiver acknowledged, newest first.
    const acknowledged = receiver.acknowledged(p).map((r) => r.id);
    expect([...all].reverse()).toEqual(acknowledged.slice(0, all.length));
  });
});

describe("webhook addresses", () => {
  let srv: TestServer;
  let admin: string;
  beforeAll(async () => {
    srv = await startTestServer();
    admin = await srv.token("ops", "webhook:admin");
  });
  afterAll(() => srv.close());

  it.each([
    ["https://127.0.0.1/hook", /127\.0\.0\.1/],
    ["https://localhost:8443/hook", /loopback, private/],
    ["https://10.1.2.3/hook", /10\.1\.2\.3/],
    ["https://192.168.0.10/hook", /192\.168\.0\.10/],
    ["https://169.254.169.254/latest/meta-data", /169\.254\.169\.254/],
    ["https://[::1]/hook", /::1/],
    ["https://[fd00::1]/hook", /fd00::1/],
    ["https://[fe80::1]/hook", /fe80::1/],
    ["https://[::ffff:127.0.0.1]/hook", /::ffff:7f00:1/],
    ["https://0.0.0.0/hook", /0\.0\.0\.0/],
    ["http://203.0.113.10/hook", /https:/],
    ["ftp://203.0.113.10/hook", /https:/],
    ["https://user:pw@203.0.113.10/hook", /user name or password/],
    ["not a url", /absolute URL/],
  ])("refuses %s", async (url, reason) => {
    const r = await srv.gql(CREATE, { input: { url } }, admin);
    expect(r.code).toBe("BAD_USER_INPUT");
    expect(r.errors![0]!.message).toMatch(reason);
    expect(ok(await srv.gql<Listed>(LIST, {}, admin)).webhooks).toEqual([]);
  });

  it("accepts a public https address", async () => {
    const r = ok(await srv.gql<Created>(CREATE, { input: { url: "https://203.0.113.10/hook" } }, admin));
    expect(r.createWebhook.webhook).toMatchObject({ url: "https://203.0.113.10/hook", enabled: true });
    ok(await srv.gql(DELETE, { id: r.createWebhook.webhook.id }, admin));
  });
});
