// Webhook delivery: commit-to-delivery latency at 100 webhooks and 500 changes/s, delivery throughput to
// a receiver answering at once, and what following webhooks costs recordConsent. The service runs in a
// child process (bench/http-server.js, SQLite on its writer thread); the receiver runs in this process.
import { fork } from "node:child_process";
import { type IncomingMessage, type Server, type ServerResponse, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { loadavg } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { issueDevToken } from "../src/auth/dev-keys.js";
import { type Child, CONNECTIONS, RECORD, gqlOnce, load, recordInput, startLedgerChild } from "./http.js";
import { type BenchOptions, type BenchRow, fmt, median, percentile, pool } from "./util.js";

const CREATE = `mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { webhook { id } } }`;
const DELETE = `mutation($id: ID!) { deleteWebhook(id: $id) }`;
/** Every purpose of the shipped policy: webhook i follows PURPOSES[i % 10]. */
const PURPOSES = ["service-provision", "traffic-analysis", "support", "terms-enforcement", "policy-notices", "access-analytics", "external-analytics", "location", "linked-accounts", "third-party-provision"];
/** The purposes a subject may grant and withdraw (OPT_IN and OPT_OUT). */
const TOGGLED = ["traffic-analysis", "access-analytics", "external-analytics", "location", "linked-accounts", "third-party-provision"];
const SETTINGS = { WEBHOOK_ALLOW_HTTP: "true", WEBHOOK_ALLOW_PRIVATE: "true", ...(process.env["BENCH_WEBHOOK_CONCURRENCY"] ? { WEBHOOK_CONCURRENCY_PER_RECEIVER: process.env["BENCH_WEBHOOK_CONCURRENCY"] } : {}),
  ...(process.env["BENCH_WEBHOOK_THREAD"] ? { WEBHOOK_DELIVERY_THREAD: process.env["BENCH_WEBHOOK_THREAD"] } : {}),
};

/** A receiver answering at once (or 503 while `refuse`), counting messages and their age on arrival. */
class Receiver {
  count = 0;
  refuse = false;
  firstAcceptedAt = 0;
  lastAcceptedAt = 0;
  latencies: number[] | null = null;
  private waiters: { n: number; done: () => void }[] = [];
  private server: Server | null = null;
  port = 0;

  async start(): Promise<void> {
    this.server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        if (this.refuse) return void res.writeHead(503).end();
        const now = Date.now();
        if (this.latencies) this.latencies.push(now - Date.parse((JSON.parse(Buffer.concat(chunks).toString("utf8")) as { timestamp: string }).timestamp));
        if (this.firstAcceptedAt === 0) this.firstAcceptedAt = performance.now();
        this.lastAcceptedAt = performance.now();
        this.count++;
        res.writeHead(204).end();
        this.waiters = this.waiters.filter((w) => (this.count >= w.n ? (w.done(), false) : true));
      });
    });
    this.server.keepAliveTimeout = 60_000;
    await new Promise<void>((r) => this.server!.listen(0, "127.0.0.1", r));
    this.port = (this.server.address() as AddressInfo).port;
  }

  /** Resolves once `n` messages were accepted; rejects after `ms`. */
  reach(n: number, ms: number): Promise<void> {
    if (this.count >= n) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`the receiver got ${this.count} of ${n} messages within ${ms} ms`)), ms);
      this.waiters.push({ n, done: () => (clearTimeout(t), resolve()) });
    });
  }

  stop(): Promise<void> {
    this.server?.closeAllConnections();
    return new Promise((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}

async function adminToken(child: Child): Promise<string> {
  return issueDevToken({ dataDir: child.dataDir!, sub: "bench-admin", scope: "webhook:admin consent:write", ttlSeconds: 86_400 });
}

async function createWebhooks(child: Child, token: string, url: (i: number) => string, n: number, filter: (i: number) => Record<string, unknown> = () => ({})): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push(((await gqlOnce(child.url, CREATE, { input: { url: url(i), ...filter(i) } }, token))["createWebhook"] as { webhook: { id: string } }).webhook.id);
  return ids;
}

/** Subjects that accepted the policy (no grants), each then toggled one purpose at a time: one consent change per recordConsent. */
class Toggler {
  private readonly granted = new Set<string>();
  private n = 0;
  constructor(
    private readonly child: Child,
    private readonly token: string,
    readonly subjects: string[],
  ) {}
  async onboard(): Promise<void> {
    await pool(this.subjects.length, 16, (i) => gqlOnce(this.child.url, RECORD, { input: { subjectId: this.subjects[i], policyVersion: 1, acceptPolicy: true } }, this.token));
  }
  /** One recordConsent changing exactly one purpose (OPT_OUT purposes start permitted, so they are withdrawn first). */
  next(): Promise<unknown> {
    const i = this.n++;
    const subjectId = this.subjects[i % this.subjects.length]!;
    const purpose = TOGGLED[Math.floor(i / this.subjects.length) % TOGGLED.length]!;
    const key = `${subjectId}/${purpose}`;
    const optOut = TOGGLED.indexOf(purpose) < 3;
    const withdraw = this.granted.has(key) !== optOut;
    if (this.granted.has(key)) this.granted.delete(key);
    else this.granted.add(key);
    return gqlOnce(this.child.url, RECORD, { input: { subjectId, policyVersion: 1, ...(withdraw ? { withdraw: [purpose] } : { grant: [purpose] }) } }, this.token);
  }
}

/** 100 webhooks, each following one purpose (ten per purpose), and 500 recordConsent a second each changing one purpose: 5,000 messages a second. */
async function latency(o: BenchOptions, receiver: Receiver): Promise<{ p50: number; p99: number; messages: number; changes: number; seconds: number; rate: number }> {
  const seconds = o.quick ? 2 : 10;
  const ledger = await startLedgerChild("ledger", SETTINGS);
  try {
    const token = await adminToken(ledger.child);
    const toggler = new Toggler(ledger.child, token, Array.from({ length: 1_000 }, (_, i) => `lat-${i}`));
    await toggler.onboard();
    await createWebhooks(ledger.child, token, (i) => `http://127.0.0.1:${receiver.port}/lat/${i}`, 100, (i) => ({ purposeIds: [PURPOSES[i % PURPOSES.length]] }));
    receiver.count = 0;
    receiver.latencies = [];
    const rate = 500;
    const tickMs = 20;
    const perTick = (rate * tickMs) / 1000;
    const writes: Promise<unknown>[] = [];
    // At most this many writes in flight: a service slower than the rate gets fewer, and the rate reached is reported.
    const maxInFlight = 64;
    let inFlight = 0;
    const start = performance.now();
    for (let tick = 0; performance.now() - start < seconds * 1000; tick++) {
      for (let k = 0; k < perTick && inFlight < maxInFlight; k++) {
        inFlight++;
        writes.push(toggler.next().finally(() => inFlight--));
      }
      const due = start + (tick + 1) * tickMs;
      await new Promise((r) => setTimeout(r, Math.max(0, due - performance.now())));
    }
    await Promise.all(writes);
    const written = (performance.now() - start) / 1000;
    const expected = writes.length * 10;
    await receiver.reach(expected, 120_000);
    const lat = receiver.latencies;
    receiver.latencies = null;
    return { p50: percentile(lat, 50), p99: percentile(lat, 99), messages: lat.length, changes: writes.length, seconds, rate: writes.length / written };
  } finally {
    await ledger.child.stop();
  }
}

/** 10 webhooks on every change; a backlog held while the receiver answers 503, then delivered to a receiver answering at once. */
async function throughput(o: BenchOptions, receiver: Receiver): Promise<{ rate: number; messages: number }> {
  const changes = o.quick ? 200 : 800;
  const ledger = await startLedgerChild("ledger", { ...SETTINGS, WEBHOOK_RETRY_DELAYS_MS: Array.from({ length: 100 }, () => "500").join(",") });
  try {
    const token = await adminToken(ledger.child);
    const toggler = new Toggler(ledger.child, token, Array.from({ length: 200 }, (_, i) => `thr-${i}`));
    await toggler.onboard();
    receiver.refuse = true;
    await createWebhooks(ledger.child, token, (i) => `http://127.0.0.1:${receiver.port}/thr/${i}`, 10);
    await pool(changes, 8, () => toggler.next());
    receiver.count = 0;
    receiver.firstAcceptedAt = 0;
    receiver.refuse = false;
    const messages = changes * 10;
    await receiver.reach(messages, 120_000);
    return { rate: (messages - 1) / ((receiver.lastAcceptedAt - receiver.firstAcceptedAt) / 1000), messages };
  } finally {
    receiver.refuse = false;
    await ledger.child.stop();
  }
}

/** The same number of messages POSTed by a bare node:http client in a child process, one in flight per loop, 10 loops. */
async function rawClient(receiver: Receiver, messages: number): Promise<number> {
  receiver.count = 0;
  const child = fork(join(dirname(fileURLToPath(import.meta.url)), "webhook-raw-client.js"), [`http://127.0.0.1:${receiver.port}/raw`, String(messages), "10"], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const { seconds } = await new Promise<{ seconds: number }>((resolve, reject) => {
    child.once("message", (m) => resolve(m as { seconds: number }));
    child.once("exit", (code) => reject(new Error(`webhook-raw-client exited with ${code}`)));
  });
  child.kill();
  return messages / seconds;
}

interface WritePath {
  none: number;
  all: number;
  idle: number;
  /** With WEBHOOK_DELIVERY_THREAD=true (a service of its own, loaded in turn with the other). */
  threadNone: number;
  threadAll: number;
  runs: number;
}

/** One service's recordConsent load: none, then 10 webhooks on every change, then (optionally) 10 matching nothing. */
async function writeLoads(o: BenchOptions, receiver: Receiver, env: Record<string, string>) {
  const seconds = o.quick ? 2 : 6;
  const ledger = await startLedgerChild("ledger", { ...SETTINGS, ...env });
  const token = await adminToken(ledger.child);
  let n = 0;
  const body = () => JSON.stringify({ query: RECORD, variables: { input: recordInput(`wp-${process.pid}-${n++}`) } });
  const headers = { "content-type": "application/json", authorization: `Bearer ${ledger.writer}` };
  await load(ledger.child.url, { seconds: 1, headers, body });
  const none: number[] = [];
  const all: number[] = [];
  const idle: number[] = [];
  const measured = async (into: number[]) => {
    const r = await load(ledger.child.url, { seconds, headers, body });
    if (r.bad > 0) throw new Error(`recordConsent: ${r.bad} of ${r.requests} requests failed`);
    into.push(r.rps);
  };
  const withWebhooks = async (into: number[], filter: () => Record<string, unknown>) => {
    const ids = await createWebhooks(ledger.child, token, (i) => `http://127.0.0.1:${receiver.port}/wp/${i}`, 10, filter);
    await measured(into);
    for (const id of ids) await gqlOnce(ledger.child.url, DELETE, { id }, token);
  };
  return {
    async run(withIdle: boolean) {
      await measured(none);
      await withWebhooks(all, () => ({}));
      if (withIdle) await withWebhooks(idle, () => ({ policyId: "no-such-policy" }));
    },
    result: () => ({ none: median(none), all: median(all), idle: idle.length > 0 ? median(idle) : 0 }),
    stop: () => ledger.child.stop(),
  };
}

/**
 * recordConsent (fresh subjects, as the http bench sends) under autocannon with no webhooks, then
 * with 10 (all changes, or none matching); the same on a service delivering from its thread, each
 * run loading one service and then the other.
 */
async function writePath(o: BenchOptions, receiver: Receiver): Promise<WritePath> {
  const main = await writeLoads(o, receiver, { WEBHOOK_DELIVERY_THREAD: "false" });
  const thread = await writeLoads(o, receiver, { WEBHOOK_DELIVERY_THREAD: "true" }).catch(async (e: unknown) => {
    await main.stop();
    throw e;
  });
  try {
    for (let r = 0; r < o.runs; r++) {
      await main.run(true);
      await thread.run(false);
    }
    const m = main.result();
    const t = thread.result();
    return { ...m, threadNone: t.none, threadAll: t.all, runs: o.runs };
  } finally {
    await main.stop();
    await thread.stop();
  }
}

export async function benchWebhooks(o: BenchOptions): Promise<BenchRow[]> {
  const receiver = new Receiver();
  await receiver.start();
  try {
    const load = () => loadavg()[0]!.toFixed(1);
    // BENCH_WEBHOOK_PARTS=latency,throughput,write runs some parts only (while iterating; RESULTS.md takes all three).
    const parts = new Set((process.env["BENCH_WEBHOOK_PARTS"] ?? "latency,throughput,write").split(","));
    const lat = parts.has("latency") ? await latency(o, receiver) : null;
    const latLoad = load();
    const thr = parts.has("throughput") ? await throughput(o, receiver) : null;
    const raw = thr ? await rawClient(receiver, thr.messages) : 0;
    const thrLoad = load();
    const wp = parts.has("write") ? await writePath(o, receiver) : null;
    const wpLoad = load();
    const shared =
      "Every delivery is an HTTP request of its own (Standard Webhooks sends one message per request), made by the service's one event loop, which also serves the writes; a webhook has one request in flight at a time (position order), and a receiver at most WEBHOOK_CONCURRENCY_PER_RECEIVER (16).";
    const where = "service in a child process (SQLite, writer thread), receiver (node:http answering 204 at once) in the bench process, both on 127.0.0.1";
    const rows: BenchRow[] = [];
    if (lat)
      rows.push(
      {
        bench: "webhooks",
        what: "commit-to-delivery at 100 webhooks and 500 changes/s (5,000 messages/s)",
        figure: `p50 ${fmt(lat.p50)} ms, p99 ${fmt(lat.p99)} ms (${fmt(lat.rate)} changes/s reached)`,
        baseline: "—",
        ratio: null,
        aim: "p99 < 500 ms",
        met: lat.p99 < 500 && lat.rate >= 450,
        how: `${where}. 1,000 subjects accept the policy; then 100 webhooks are created, webhook i following purpose i mod 10 (so each change goes to 10 of them), and recordConsent is sent at 500 a second for ${lat.seconds} s (at most 64 in flight, so a service slower than that gets fewer), each changing one purpose of one subject. Latency: arrival at the receiver minus the message's timestamp (the event's recordedAt, taken just before its commit), over all ${fmt(lat.messages)} messages of ${fmt(lat.changes)} changes.`,
        note: `1-minute load average after the run: ${latLoad} on this machine. ${shared} Latency here is queueing: when the service cannot send 5,000 requests a second, messages wait behind earlier ones of their webhook.`,
        values: { p50: lat.p50, p99: lat.p99, messages: lat.messages },
      },
      );
    if (thr)
      rows.push(
      {
        bench: "webhooks",
        what: "delivery throughput to a receiver answering at once",
        figure: `${fmt(thr.rate)} messages/s`,
        baseline: `${fmt(raw)} messages/s (bare node:http client)`,
        ratio: thr.rate / raw,
        aim: ">= 5,000 messages/s",
        met: thr.rate >= 5_000,
        how: `${where}. 10 webhooks on every change; the receiver answers 503 while ${fmt(thr.messages / 10)} changes are recorded (each webhook's first message waits for its retry), then 204 at once: messages over the time from the first accepted to the last (${fmt(thr.messages)} messages; one in flight per webhook, in position order). Baseline, just after: the same number of signed POSTs from a bare node:http client in a child process (bench/webhook-raw-client.ts), 10 loops with one request in flight each, to the same receiver: the ceiling for one message per request on this machine at that moment.`,
        note: `1-minute load average after the run: ${thrLoad}. ${shared}`,
        values: { rate: thr.rate, messages: thr.messages, raw },
      },
      );
    if (wp)
      rows.push(
      {
        bench: "webhooks",
        what: "recordConsent with 10 webhooks receiving every change, against none",
        figure: `${fmt(wp.all)} req/s`,
        baseline: `${fmt(wp.none)} req/s`,
        ratio: wp.all / wp.none,
        aim: ">= 0.9x",
        met: wp.all / wp.none >= 0.9,
        how: `${where}. autocannon, ${CONNECTIONS} connections, fresh subjects accepting the policy with two grants (about 10 changes each, so 100 messages per request with 10 webhooks); per run: no webhooks, then 10 created, loaded and deleted; median of ${wp.runs} runs.`,
        note: `1-minute load average after the run: ${wpLoad}. The write path itself is unchanged (next row); what costs is delivering: 100 HTTP requests per recordConsent made on the same event loop and cores as the writes. The webhooks read each commit once (one reader for all of them), so that cost is the HTTP requests themselves; the next row but one runs them on a thread of their own.`,
        values: { none: wp.none, all: wp.all },
      },
      );
    if (wp)
      rows.push({
        bench: "webhooks",
        what: "recordConsent with 10 webhooks receiving every change, against none, delivering from a thread of its own (WEBHOOK_DELIVERY_THREAD=true)",
        figure: `${fmt(wp.threadAll)} req/s`,
        baseline: `${fmt(wp.threadNone)} req/s`,
        ratio: wp.threadAll / wp.threadNone,
        aim: ">= 0.9x",
        met: wp.threadAll / wp.threadNone >= 0.9,
        how: `As the row above, on a second service started with WEBHOOK_DELIVERY_THREAD=true (the HTTP exchanges on a worker thread; ordering, signing, address checks and progress on the main thread), loaded in turn with the first in each run.`,
        note: `1-minute load average after the run: ${wpLoad}. The thread takes the HTTP work off the event loop that serves the API, not off the machine's cores: on 2 cores shared with the writer thread, the receiver and the load generator, delivering (far behind: 100 messages per request asked, against a throughput of some thousands a second) still takes CPU time from the writes.`,
        values: { none: wp.threadNone, all: wp.threadAll },
      });
    if (wp)
      rows.push(
      {
        bench: "webhooks",
        what: "recordConsent with 10 webhooks following the feed but matching nothing, against none",
        figure: `${fmt(wp.idle)} req/s`,
        baseline: `${fmt(wp.none)} req/s`,
        ratio: wp.idle / wp.none,
        aim: ">= 0.9x",
        met: wp.idle / wp.none >= 0.9,
        how: `As the row above, with each webhook's policyId naming no policy: the commit path's own cost (no row is written with a commit; the webhooks' one reader computes a commit's consent changes only for events some webhook's policy can concern: here none), without the HTTP work of delivering.`,
        values: { none: wp.none, idle: wp.idle },
      },
      );
    return rows;
  } finally {
    await receiver.stop();
  }
}
