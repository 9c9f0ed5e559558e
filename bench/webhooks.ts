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
import { type Child, CONNECTIONS, RECORD, allAnswered, gqlOnce, load, recordInput, startLedgerChild } from "./http.js";
import { processCpuMicros as cpuMicros } from "./proc-cpu.js";
import { type BenchOptions, type BenchRow, fmt, median, percentile, pool } from "./util.js";

const CREATE = `mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { webhook { id } } }`;
const DELETE = `mutation($id: ID!) { deleteWebhook(id: $id) }`;
/** Every purpose of the shipped policy: webhook i follows PURPOSES[i % 10]. */
const PURPOSES = ["service-provision", "traffic-analysis", "support", "terms-enforcement", "policy-notices", "access-analytics", "external-analytics", "location", "linked-accounts", "third-party-provision"];
/** The purposes a subject may grant and withdraw (OPT_IN and OPT_OUT). */
const TOGGLED = ["traffic-analysis", "access-analytics", "external-analytics", "location", "linked-accounts", "third-party-provision"];
const SETTINGS = { WEBHOOK_ALLOW_HTTP: "true", WEBHOOK_ALLOW_PRIVATE: "true", ...(process.env["BENCH_WEBHOOK_CONCURRENCY"] ? { WEBHOOK_CONCURRENCY_PER_RECEIVER: process.env["BENCH_WEBHOOK_CONCURRENCY"] } : {}),
};

/**
 * A receiver answering at once (or 503 while `refuse`), counting messages and their age on arrival.
 * While `hold`, requests are kept unanswered (a webhook then waits on its one request in flight, so
 * the service does no delivery work) until `release()` answers them.
 */
class Receiver {
  count = 0;
  refuse = false;
  hold = false;
  firstAcceptedAt = 0;
  lastAcceptedAt = 0;
  latencies: number[] | null = null;
  /** While set, the paths (webhooks) that received a message whose body contains it. */
  sentinel: string | null = null;
  readonly marked = new Set<string>();
  private held: ServerResponse[] = [];
  private waiters: { ok: () => boolean; done: () => void }[] = [];
  private server: Server | null = null;
  port = 0;

  async start(): Promise<void> {
    this.server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        if (this.refuse) return void res.writeHead(503).end();
        if (this.hold) return void this.held.push(res);
        const now = Date.now();
        const body = this.latencies || this.sentinel ? Buffer.concat(chunks).toString("utf8") : "";
        if (this.latencies) this.latencies.push(now - Date.parse((JSON.parse(body) as { timestamp: string }).timestamp));
        if (this.sentinel && body.includes(this.sentinel)) this.marked.add(req.url ?? "");
        this.accept(res);
      });
    });
    this.server.keepAliveTimeout = 60_000;
    await new Promise<void>((r) => this.server!.listen(0, "127.0.0.1", r));
    this.port = (this.server.address() as AddressInfo).port;
  }

  private accept(res: ServerResponse): void {
    if (this.firstAcceptedAt === 0) this.firstAcceptedAt = performance.now();
    this.lastAcceptedAt = performance.now();
    this.count++;
    res.writeHead(204).end();
    this.waiters = this.waiters.filter((w) => (w.ok() ? (w.done(), false) : true));
  }

  /** Answers the held requests, and every later one at once. */
  release(): void {
    this.hold = false;
    const held = this.held;
    this.held = [];
    for (const res of held) this.accept(res);
  }

  private until(ok: () => boolean, ms: number, what: () => string): Promise<void> {
    if (ok()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(what())), ms);
      this.waiters.push({ ok, done: () => (clearTimeout(t), resolve()) });
    });
  }

  /** Resolves once `n` messages were accepted; rejects after `ms`. */
  reach(n: number, ms: number): Promise<void> {
    return this.until(() => this.count >= n, ms, () => `the receiver got ${this.count} of ${n} messages within ${ms} ms`);
  }

  /**
   * Resolves once `webhooks` paths received a message containing `sentinel`: each webhook sends in
   * position order, so every change committed before the sentinel's was delivered by then.
   */
  drained(sentinel: string, webhooks: number, ms: number): Promise<void> {
    this.sentinel = sentinel;
    this.marked.clear();
    return this.until(() => this.marked.size >= webhooks, ms, () => `${this.marked.size} of ${webhooks} webhooks delivered the sentinel change within ${ms} ms`).finally(() => (this.sentinel = null));
  }

  /** The receiver's URL for `path`. */
  url(path: string): string {
    return `http://127.0.0.1:${this.port}/${path}`;
  }

  stop(): Promise<void> {
    this.release();
    this.server?.closeAllConnections();
    return new Promise((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}

async function adminToken(child: Child): Promise<string> {
  return issueDevToken({ dataDir: child.dataDir!, sub: "bench-admin", scope: "webhook:admin consent:write", ttlSeconds: 86_400 });
}

/** Creates `n` webhooks, webhook i sending to `${base}/${i}` with `filter(i)`'s fields; their ids. */
async function createWebhooks(child: Child, token: string, base: string, n: number, filter: (i: number) => Record<string, unknown> = () => ({})): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push(((await gqlOnce(child.url, CREATE, { input: { url: `${base}/${i}`, ...filter(i) } }, token))["createWebhook"] as { webhook: { id: string } }).webhook.id);
  return ids;
}

/** Runs `during` while WEBHOOKS webhooks (created as createWebhooks does) exist; deletes them after. */
async function withWebhooks<T>(child: Child, token: string, base: string, filter: (i: number) => Record<string, unknown>, during: () => Promise<T>): Promise<T> {
  const ids = await createWebhooks(child, token, base, WEBHOOKS, filter);
  try {
    return await during();
  } finally {
    for (const id of ids) await gqlOnce(child.url, DELETE, { id }, token);
  }
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

/** recordConsent at 500 a second for `seconds` (at most 64 in flight); the writes sent and the rate reached. */
async function pace(toggler: Toggler, seconds: number): Promise<{ changes: number; rate: number }> {
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
  return { changes: writes.length, rate: writes.length / ((performance.now() - start) / 1000) };
}

/**
 * 100 webhooks, each following one purpose (ten per purpose), and 500 recordConsent a second each
 * changing one purpose: 5,000 messages a second. Before the webhooks are created, the same pace
 * without webhooks gives the rate this service reaches at all (the baseline).
 */
async function latency(o: BenchOptions, receiver: Receiver, env: Record<string, string> = {}): Promise<{ p50: number; p99: number; messages: number; changes: number; seconds: number; rate: number; rateWithout: number }> {
  const seconds = o.quick ? 2 : 10;
  const ledger = await startLedgerChild("ledger", { ...SETTINGS, ...env });
  try {
    const token = await adminToken(ledger.child);
    const toggler = new Toggler(ledger.child, token, Array.from({ length: 1_000 }, (_, i) => `lat-${i}`));
    await toggler.onboard();
    const without = await pace(toggler, seconds);
    await createWebhooks(ledger.child, token, receiver.url("lat"), 100, (i) => ({ purposeIds: [PURPOSES[i % PURPOSES.length]] }));
    receiver.count = 0;
    receiver.latencies = [];
    const paced = await pace(toggler, seconds);
    await receiver.reach(paced.changes * 10, 120_000);
    const lat = receiver.latencies;
    receiver.latencies = null;
    return { p50: percentile(lat, 50), p99: percentile(lat, 99), messages: lat.length, changes: paced.changes, seconds, rate: paced.rate, rateWithout: without.rate };
  } finally {
    receiver.latencies = null;
    await ledger.child.stop();
  }
}

interface Drained {
  rate: number;
  cpuPerMessage: number;
}

interface Throughput {
  /** Delivering from the event loop that serves the API. */
  main: Drained;
  /** With WEBHOOK_DELIVERY_THREAD=true. */
  thread: Drained;
  /** The bare client's rate, measured after each run's two drains. */
  raw: number;
  messages: number;
  runs: number;
}

/**
 * 10 webhooks on every change, on two services (delivering from the API's event loop, and from a
 * thread of its own); per run and service: the receiver holds each webhook's first request while
 * the changes are recorded, then answers it and every later request at once; messages over the time
 * from that answer to the last message, and the service's CPU time meanwhile.
 */
async function throughput(o: BenchOptions, receiver: Receiver): Promise<Throughput> {
  const changes = o.quick ? 200 : 800;
  const messages = changes * WEBHOOKS;
  const started: Awaited<ReturnType<typeof startLedgerChild>>[] = [];
  try {
    for (const thread of ["false", "true"]) started.push(await startLedgerChild("ledger", { ...SETTINGS, WEBHOOK_DELIVERY_THREAD: thread }));
    const services = await Promise.all(
      started.map(async (ledger, k) => {
        const token = await adminToken(ledger.child);
        const toggler = new Toggler(ledger.child, token, Array.from({ length: 200 }, (_, i) => `thr-${k}-${i}`));
        await toggler.onboard();
        return { ledger, token, toggler, runs: [] as Drained[] };
      }),
    );
    const raw: number[] = [];
    for (let r = 0; r < o.runs; r++) {
      for (const s of services) {
        receiver.hold = true;
        await withWebhooks(s.ledger.child, s.token, receiver.url("thr"), () => ({}), async () => {
          try {
            await pool(changes, 8, () => s.toggler.next());
            const m0 = receiver.count;
            const c0 = cpuMicros(s.ledger.child.pid);
            const t0 = performance.now();
            receiver.release();
            await receiver.reach(m0 + messages, 120_000);
            s.runs.push({ rate: messages / ((receiver.lastAcceptedAt - t0) / 1000), cpuPerMessage: (cpuMicros(s.ledger.child.pid) - c0) / messages });
          } finally {
            receiver.release();
          }
        });
      }
      raw.push(await rawClient(receiver, messages));
    }
    const med = (runs: Drained[]): Drained => ({ rate: median(runs.map((x) => x.rate)), cpuPerMessage: median(runs.map((x) => x.cpuPerMessage)) });
    return { main: med(services[0]!.runs), thread: med(services[1]!.runs), raw: median(raw), messages, runs: o.runs };
  } finally {
    receiver.release();
    for (const l of started) await l.child.stop();
  }
}

/** The same number of messages POSTed by a bare node:http client in a child process, one in flight per loop, 10 loops. */
async function rawClient(receiver: Receiver, messages: number): Promise<number> {
  const child = fork(join(dirname(fileURLToPath(import.meta.url)), "webhook-raw-client.js"), [receiver.url("raw"), String(messages), "10"], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const { seconds } = await new Promise<{ seconds: number }>((resolve, reject) => {
    child.once("message", (m) => resolve(m as { seconds: number }));
    child.once("exit", (code) => reject(new Error(`webhook-raw-client exited with ${code}`)));
  });
  child.kill();
  return messages / seconds;
}

/** One load's figures: requests a second, and the service's CPU time (µs, all threads) per request. */
interface Loaded {
  rps: number;
  cpuPerRequest: number;
}

/** A service's write-path figures, medians over the runs. */
interface WriteFigures {
  none: Loaded;
  /** 10 webhooks on every change, delivering while the writes run. */
  running: Loaded;
  /** 10 webhooks on every change, their receivers holding the first request until the load ends: the writes without the delivery work. */
  held: Loaded;
  /** 10 webhooks matching nothing (main service only; zeros on the other). */
  idle: Loaded;
  /** CPU per delivered message while delivering beside the writes: the load and the drain after it, less the writes' own CPU at the no-webhook rate. */
  cpuPerMessageRunning: number;
  /** CPU per delivered message draining the held backlog (no writes meanwhile; each webhook reads its backlog from its cursor). */
  cpuPerMessageDrain: number;
  /** Messages delivered per recordConsent (10 webhooks, about 10 changes each). */
  messagesPerRequest: number;
  /** Medians of each run's ratio to that run's no-webhook rate (the machine's load drifts between runs). */
  ratios: { running: number; held: number; idle: number };
}

interface WritePath {
  main: WriteFigures;
  /** With WEBHOOK_DELIVERY_THREAD=true (a service of its own, loaded in turn with the other). */
  thread: WriteFigures;
  runs: number;
  seconds: number;
}

const WEBHOOKS = 10;
/** How long a drain may take before the bench gives up. */
const DRAIN_MS = 300_000;

/**
 * One service's recordConsent load: none; then 10 webhooks on every change, delivering; then 10 on
 * every change with their receiver holding requests until the load ends, drained after; then
 * (optionally) 10 matching nothing. Each phase's webhooks are deleted before the next.
 */
async function writeLoads(o: BenchOptions, receiver: Receiver, env: Record<string, string>) {
  const seconds = o.quick ? 2 : 6;
  // A held request must outlast the load (and the lease must outlast two of them).
  const ledger = await startLedgerChild("ledger", { ...SETTINGS, WEBHOOK_TIMEOUT_MS: "60000", WEBHOOK_LEASE_MS: "130000", ...env });
  const pid = ledger.child.pid;
  const token = await adminToken(ledger.child);
  let n = 0;
  const body = () => JSON.stringify({ query: RECORD, variables: { input: recordInput(`wp-${process.pid}-${n++}`) } });
  const headers = { "content-type": "application/json", authorization: `Bearer ${ledger.writer}` };
  await load(ledger.child.url, { seconds: o.quick ? 1 : 3, headers, body });
  const runs: Omit<WriteFigures, "messagesPerRequest" | "ratios">[] = [];
  const perRequest: number[] = [];
  let sentinels = 0;
  const measured = async (): Promise<Loaded & { requests: number; cpu: number }> => {
    const before = cpuMicros(pid);
    const r = await load(ledger.child.url, { seconds, headers, body });
    const cpu = cpuMicros(pid) - before;
    allAnswered({ recordConsent: r });
    return { rps: r.rps, cpuPerRequest: cpu / r.requests, requests: r.requests, cpu };
  };
  /** One more recordConsent; resolves once every webhook delivered its changes (and so all before it). */
  const drain = async (): Promise<void> => {
    const subject = `wp-sentinel-${process.pid}-${sentinels++}`;
    const delivered = receiver.drained(subject, WEBHOOKS, DRAIN_MS);
    await gqlOnce(ledger.child.url, RECORD, { input: recordInput(subject) }, ledger.writer);
    await delivered;
  };
  const phase = <T>(path: string, filter: () => Record<string, unknown>, during: () => Promise<T>): Promise<T> => withWebhooks(ledger.child, token, receiver.url(path), filter, during);
  const zero: Loaded = { rps: 0, cpuPerRequest: 0 };
  return {
    async run(withIdle: boolean) {
      const before = await measured();
      // Held first, right after the baseline: no delivery of an earlier phase (its progress and
      // delivery records written to the same database) is still settling while it is loaded.
      const { held, cpuPerMessageDrain } = await phase("wh", () => ({}), async () => {
        receiver.hold = true;
        try {
          const loaded = await measured();
          const c0 = cpuMicros(pid);
          const m0 = receiver.count;
          const drained = drain();
          receiver.release();
          await drained;
          return { held: loaded, cpuPerMessageDrain: (cpuMicros(pid) - c0) / (receiver.count - m0) };
        } finally {
          receiver.release();
        }
      });
      const idle = withIdle ? await phase("wi", () => ({ policyId: "no-such-policy" }), measured) : zero;
      const { running, cpuPerMessageRunning } = await phase("wp", () => ({}), async () => {
        const c0 = cpuMicros(pid);
        const m0 = receiver.count;
        const loaded = await measured();
        await drain();
        const messages = receiver.count - m0;
        perRequest.push(messages / loaded.requests);
        return { running: loaded, cpuPerMessageRunning: (cpuMicros(pid) - c0 - loaded.requests * before.cpuPerRequest) / messages };
      });
      // The baseline is loaded first and again last, so no phase gains from coming later (warmer code, a fuller cache).
      const after = await measured();
      const none = { rps: (before.rps + after.rps) / 2, cpuPerRequest: (before.cpuPerRequest + after.cpuPerRequest) / 2 };
      runs.push({ none, running, held, idle, cpuPerMessageRunning, cpuPerMessageDrain });
    },
    result(): WriteFigures {
      const m = (f: (r: (typeof runs)[number]) => number) => median(runs.map(f));
      const l = (f: (r: (typeof runs)[number]) => Loaded): Loaded => ({ rps: m((r) => f(r).rps), cpuPerRequest: m((r) => f(r).cpuPerRequest) });
      return {
        none: l((r) => r.none),
        running: l((r) => r.running),
        held: l((r) => r.held),
        idle: l((r) => r.idle),
        cpuPerMessageRunning: m((r) => r.cpuPerMessageRunning),
        cpuPerMessageDrain: m((r) => r.cpuPerMessageDrain),
        messagesPerRequest: median(perRequest),
        ratios: { running: m((r) => r.running.rps / r.none.rps), held: m((r) => r.held.rps / r.none.rps), idle: m((r) => r.idle.rps / r.none.rps) },
      };
    },
    seconds,
    stop: () => ledger.child.stop(),
  };
}

/**
 * recordConsent (fresh subjects, as the http bench sends) under autocannon with no webhooks, then
 * with 10 on every change (delivering, then held), then 10 matching none; the same on a service
 * delivering from its thread, each run loading one service and then the other.
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
    return { main: main.result(), thread: thread.result(), runs: o.runs, seconds: main.seconds };
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
    const lat = parts.has("latency") ? await latency(o, receiver, { WEBHOOK_DELIVERY_THREAD: "false" }) : null;
    const latThread = parts.has("latency") ? await latency(o, receiver, { WEBHOOK_DELIVERY_THREAD: "true" }) : null;
    const latLoad = load();
    const thr = parts.has("throughput") ? await throughput(o, receiver) : null;
    const thrLoad = load();
    const wp = parts.has("write") ? await writePath(o, receiver) : null;
    const wpLoad = load();
    const shared =
      "Every delivery is an HTTP request of its own (Standard Webhooks sends one message per request), made by the service's one event loop, which also serves the writes; a webhook has one request in flight at a time (position order), and a receiver at most WEBHOOK_CONCURRENCY_PER_RECEIVER (16).";
    const where = "service in a child process (SQLite, writer thread), receiver (node:http answering 204 at once) in the bench process, both on 127.0.0.1";
    const rows: BenchRow[] = [];
    for (const [l, thread] of [
      [lat, false],
      [latThread, true],
    ] as const) {
      if (!l) continue;
      rows.push({
        bench: "webhooks",
        what: `commit-to-delivery at 100 webhooks and 500 changes/s (5,000 messages/s)${thread ? ", delivering from a thread of its own (WEBHOOK_DELIVERY_THREAD=true)" : ""}`,
        figure: `p50 ${fmt(l.p50)} ms, p99 ${fmt(l.p99)} ms (${fmt(l.rate)} changes/s reached)`,
        baseline: `${fmt(l.rateWithout)} changes/s reached without webhooks`,
        ratio: null,
        aim: "p99 < 500 ms",
        met: l.p99 < 500 && l.rate >= 450,
        how: thread
          ? "As the row above, on a service started with WEBHOOK_DELIVERY_THREAD=true."
          : `${where}. 1,000 subjects accept the policy; recordConsent is sent at 500 a second for ${l.seconds} s (at most 64 in flight, so a service slower than that gets fewer), each changing one purpose of one subject: without webhooks first (the baseline: the rate this service reaches at all), then with 100 webhooks, webhook i following purpose i mod 10 (so each change goes to 10 of them). Latency: arrival at the receiver minus the message's timestamp (the event's recordedAt, taken just before its commit), over all ${fmt(l.messages)} messages of ${fmt(l.changes)} changes.`,
        note: `1-minute load average after the run: ${latLoad} on this machine. ${shared} Latency here is queueing: when the service cannot send 5,000 requests a second, messages wait behind earlier ones of their webhook.`,
        values: { p50: l.p50, p99: l.p99, messages: l.messages, rate: l.rate, rateWithout: l.rateWithout },
      });
    }
    if (thr) {
      const how = `${where}. 10 webhooks on every change, on two services (one delivering from the event loop that serves the API, one with WEBHOOK_DELIVERY_THREAD=true); per run and service: the receiver holds each webhook's first request while ${fmt(thr.messages / WEBHOOKS)} changes are recorded, then answers it and every later one at once: messages over the time from that answer to the last (${fmt(thr.messages)} messages; one in flight per webhook, in position order); median of ${thr.runs} runs. CPU: the service process's user + system time, all threads (/proc/<pid>/stat), over the same time. Baseline, after each run's two: the same number of signed POSTs from a bare node:http client in a child process (bench/webhook-raw-client.ts), 10 loops with one request in flight each, to the same receiver: the ceiling for one message per request on this machine at that moment.`;
      rows.push(
        {
          bench: "webhooks",
          what: "delivery throughput to a receiver answering at once",
          figure: `${fmt(thr.main.rate)} messages/s`,
          baseline: `${fmt(thr.raw)} messages/s (bare node:http client)`,
          ratio: thr.main.rate / thr.raw,
          aim: ">= 5,000 messages/s",
          met: thr.main.rate >= 5_000,
          how,
          note: `1-minute load average after the run: ${thrLoad}. ${fmt(thr.main.cpuPerMessage)} µs of CPU per message (all threads). ${shared}`,
          values: { rate: thr.main.rate, messages: thr.messages, raw: thr.raw, cpuPerMessage: thr.main.cpuPerMessage },
        },
        {
          bench: "webhooks",
          what: "delivery throughput to a receiver answering at once, delivering from a thread of its own (WEBHOOK_DELIVERY_THREAD=true)",
          figure: `${fmt(thr.thread.rate)} messages/s`,
          baseline: `${fmt(thr.raw)} messages/s (bare node:http client)`,
          ratio: thr.thread.rate / thr.raw,
          aim: ">= 5,000 messages/s",
          met: thr.thread.rate >= 5_000,
          how: "As the row above, on the second service.",
          note: `1-minute load average after the run: ${thrLoad}. ${fmt(thr.thread.cpuPerMessage)} µs of CPU per message (all threads: the main thread orders, signs and stores progress; the delivery thread makes the HTTP exchanges; requests and answers cross between them in batches, one per turn of either event loop).`,
          values: { rate: thr.thread.rate, messages: thr.messages, raw: thr.raw, cpuPerMessage: thr.thread.cpuPerMessage },
        },
      );
    }
    if (wp) {
      const { main: m, thread: t } = wp;
      const us = (x: number) => `${fmt(x)} µs`;
      const cpu = (x: Loaded) => `${us(x.cpuPerRequest)} CPU per request`;
      const setup = `${where}. autocannon, ${CONNECTIONS} connections, ${wp.seconds} s per load, fresh subjects accepting the policy with two grants (${fmt(m.messagesPerRequest)} messages per request to 10 webhooks); per run, on one service: no webhooks; then 10 webhooks on every change whose receiver holds each webhook's first request unanswered until the load ends (so no delivery work runs beside the writes), then answers and drains (a last recordConsent's change reaches all 10), and they are deleted; then 10 matching nothing; then 10 on every change delivering while loaded, drained and deleted; then no webhooks again (the baseline is the mean of the first and last loads). Then the same on a second service with WEBHOOK_DELIVERY_THREAD=true. Figures: medians of ${wp.runs} runs; ratios: medians of each run's ratio to that run's baseline. CPU: the service process's user + system time, all threads (/proc/<pid>/stat), over each load, divided by its requests.`;
      const split = `What the writes pay for webhooks (held): ${cpu(m.held)} against ${cpu(m.none)} without (${fmt(m.held.cpuPerRequest / m.none.cpuPerRequest, 2)}x). What delivering costs: ${us(m.cpuPerMessageRunning)} per message delivered beside the writes (load plus drain, less the writes' CPU at the no-webhook rate), ${us(m.cpuPerMessageDrain)} per message draining a held backlog; so ${fmt(m.messagesPerRequest)} messages per request add about ${fmt((m.cpuPerMessageRunning * m.messagesPerRequest) / 1000)} ms of CPU to each recordConsent (${cpu(m.none)} without), on 2 cores shared with the writer thread, the receiver and the load generator.`;
      rows.push(
        {
          bench: "webhooks",
          what: "recordConsent with 10 webhooks on every change, delivery held until the load ends (the outbox's cost on the write path), against none",
          figure: `${fmt(m.held.rps)} req/s`,
          baseline: `${fmt(m.none.rps)} req/s`,
          ratio: m.ratios.held,
          aim: ">= 0.9x",
          met: m.ratios.held >= 0.9,
          how: setup,
          note: `1-minute load average after the run: ${wpLoad}. ${split} With the delivery thread: held ${fmt(t.held.rps)} against ${fmt(t.none.rps)} req/s (${fmt(t.ratios.held, 2)}x).`,
          values: { none: m.none.rps, held: m.held.rps, cpuNone: m.none.cpuPerRequest, cpuHeld: m.held.cpuPerRequest, threadNone: t.none.rps, threadHeld: t.held.rps },
        },
        {
          bench: "webhooks",
          what: "recordConsent with 10 webhooks receiving every change, delivering meanwhile, against none",
          figure: `${fmt(m.running.rps)} req/s`,
          baseline: `${fmt(m.none.rps)} req/s`,
          ratio: m.ratios.running,
          aim: "— (the write path's aim is the row above; this is the machine's whole load)",
          met: null,
          how: `As the row above; loaded while the 10 webhooks deliver every change (${fmt(m.messagesPerRequest)} messages per request, far more than the service can send while writing at full speed, so delivery runs the whole load and drains after).`,
          note: `1-minute load average after the run: ${wpLoad}. ${cpu(m.running)} against ${cpu(m.none)} without webhooks: the difference is delivery, ${us(m.cpuPerMessageRunning)} of CPU per message. The commit path writes nothing for webhooks (the log is the outbox, row above); the writes slow down because delivery shares the 2 cores.`,
          values: { none: m.none.rps, running: m.running.rps, cpuNone: m.none.cpuPerRequest, cpuRunning: m.running.cpuPerRequest, cpuPerMessage: m.cpuPerMessageRunning, cpuPerMessageDrain: m.cpuPerMessageDrain, messagesPerRequest: m.messagesPerRequest },
        },
        {
          bench: "webhooks",
          what: "recordConsent with 10 webhooks receiving every change, delivering meanwhile from a thread of its own (WEBHOOK_DELIVERY_THREAD=true), against none",
          figure: `${fmt(t.running.rps)} req/s`,
          baseline: `${fmt(t.none.rps)} req/s`,
          ratio: t.ratios.running,
          aim: "— (as the row above)",
          met: null,
          how: `As the row above, on the second service (the HTTP exchanges on a worker thread; ordering, signing, address checks and progress on the main thread).`,
          note: `1-minute load average after the run: ${wpLoad}. ${cpu(t.running)} against ${cpu(t.none)} without webhooks; ${us(t.cpuPerMessageRunning)} per message delivered beside the writes, ${us(t.cpuPerMessageDrain)} draining (main thread, delivery thread and the messages between them).`,
          values: { none: t.none.rps, running: t.running.rps, cpuNone: t.none.cpuPerRequest, cpuRunning: t.running.cpuPerRequest, cpuPerMessage: t.cpuPerMessageRunning, cpuPerMessageDrain: t.cpuPerMessageDrain },
        },
        {
          bench: "webhooks",
          what: "recordConsent with 10 webhooks following the feed but matching nothing, against none",
          figure: `${fmt(m.idle.rps)} req/s`,
          baseline: `${fmt(m.none.rps)} req/s`,
          ratio: m.ratios.idle,
          aim: ">= 0.9x",
          met: m.ratios.idle >= 0.9,
          how: `As the first write-path row, with each webhook's policyId naming no policy: the commit path's own cost (no row is written with a commit; the webhooks' one reader computes a commit's consent changes only for events some webhook's policy can concern: here none), without the HTTP work of delivering.`,
          note: `${cpu(m.idle)} against ${cpu(m.none)} without webhooks.`,
          values: { none: m.none.rps, idle: m.idle.rps, cpuIdle: m.idle.cpuPerRequest },
        },
      );
    }
    return rows;
  } finally {
    await receiver.stop();
  }
}
