// Delivery latency of consentChanged (commit -> subscriber) with many subscribers at a steady write rate.
import "reflect-metadata";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";
import { createClient } from "graphql-ws";
import WebSocket from "ws";
import { pino } from "pino";
import { startApp } from "../src/app.js";
import { issueDevToken } from "../src/auth/dev-keys.js";
import { loadConfig } from "../src/config.js";

export interface SubscriptionLatencyOptions {
  /** A short run (for CI): fewer seconds of writing. */
  quick?: boolean;
  subscribers?: number;
  /** Consent changes written per second, spread evenly. */
  writesPerSecond?: number;
  /** How long the steady writing lasts. */
  seconds?: number;
  /** Subscriptions multiplexed over one WebSocket connection. */
  subscriptionsPerConnection?: number;
}

export interface SubscriptionLatencyResult {
  p50Ms: number;
  p99Ms: number;
  subscribers: number;
  /** Changes written (each delivered to every subscriber). */
  events: number;
  /** Messages received in all. */
  deliveries: number;
  how: string;
}

interface WorkerInput {
  url: string;
  token: string;
  subscribers: number;
  perConnection: number;
}

type WorkerMessage = { kind: "latencies"; latencies: Float64Array } | { kind: "received"; count: number };

const QUERY = `subscription { consentChanged(purposeIds: ["location"]) { cursor subjectId purposeId previous current { status permitted } event { position recordedAt } } }`;

const here = dirname(fileURLToPath(import.meta.url));
const root = existsSync(join(here, "..", "package.json")) ? resolve(here, "..") : resolve(here, "..", "..");

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/**
 * Starts the service in-process on a temporary database, opens `subscribers` consentChanged
 * subscriptions from a worker thread (so the clients' decoding does not share the server's event
 * loop), writes `writesPerSecond` consent changes for `seconds`, and measures, for every message,
 * the time from the event's recordedAt (set in the commit's transaction, before its fsync) to its
 * arrival at the client. Both ends read the same wall clock, at millisecond resolution.
 */
export async function benchSubscriptionLatency(opts: SubscriptionLatencyOptions = {}): Promise<SubscriptionLatencyResult> {
  const subscribers = opts.subscribers ?? 1_000;
  const writesPerSecond = opts.writesPerSecond ?? 10;
  const seconds = opts.seconds ?? (opts.quick ? 3 : 10);
  const perConnection = opts.subscriptionsPerConnection ?? 10;
  const dataDir = mkdtempSync(join(tmpdir(), "ledger-bench-subs-"));
  const config = loadConfig({
    PORT: "0",
    HOST: "127.0.0.1",
    DATA_DIR: dataDir,
    DATABASE_URL: `sqlite:${join(dataDir, "ledger.db")}`,
    CATALOG_DIR: join(root, "data", "policies"),
    LOG_LEVEL: "silent",
    MAX_SUBSCRIPTIONS_PER_CONNECTION: String(perConnection),
    // Every subscriber holds the one bench token: the per-caller caps are raised to fit them all.
    MAX_CONNECTIONS_PER_CALLER: String(Math.ceil(subscribers / perConnection)),
    MAX_SUBSCRIPTIONS_PER_CALLER: String(subscribers),
  });
  const app = await startApp(config, { logger: pino({ level: "silent" }) });
  const { ledger, changes } = app.services;
  let worker: Worker | null = null;
  try {
    const subjects = Array.from({ length: 100 }, (_, i) => `bench-${i}`);
    await Promise.all(
      subjects.map((s) =>
        ledger.recordConsent(s, { policyId: null, policyVersion: 1, acceptPolicy: true, grant: [], withdraw: [], occurredAt: null, evidence: null, expectedVersion: null }, { kind: "SERVICE", id: "bench" }),
      ),
    );
    const token = await issueDevToken({ dataDir, sub: "bench-service", scope: "consent:read" });
    const input: WorkerInput = { url: app.url.replace(/^http/, "ws"), token, subscribers, perConnection };
    worker = new Worker(new URL(import.meta.url), { workerData: input });
    let received = 0;
    let latencies: Float64Array | null = null;
    worker.on("message", (m: WorkerMessage) => {
      if (m.kind === "received") received = m.count;
      else latencies = m.latencies;
    });
    // Subscriptions are live once the feed counts them all.
    const deadline = Date.now() + 60_000;
    while (changes.size < subscribers) {
      if (Date.now() > deadline) throw new Error(`only ${changes.size} of ${subscribers} subscriptions opened`);
      await sleep(50);
    }

    const granted = new Set<string>();
    const total = Math.max(1, Math.round(writesPerSecond * seconds));
    const start = performance.now();
    const writes: Promise<unknown>[] = [];
    for (let i = 0; i < total; i++) {
      const due = start + (i * 1000) / writesPerSecond;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      const subject = subjects[i % subjects.length]!;
      const grant = !granted.has(subject);
      if (grant) granted.add(subject);
      else granted.delete(subject);
      writes.push(
        ledger.recordConsent(
          subject,
          { policyId: null, policyVersion: 1, acceptPolicy: false, grant: grant ? ["location"] : [], withdraw: grant ? [] : ["location"], occurredAt: null, evidence: null, expectedVersion: null },
          { kind: "SERVICE", id: "bench" },
        ),
      );
    }
    await Promise.all(writes);
    const expected = total * subscribers;
    const drainBy = Date.now() + 30_000;
    worker.postMessage("report");
    while (received < expected && Date.now() < drainBy) {
      await sleep(100);
      worker.postMessage("report");
    }
    worker.postMessage("finish");
    while (!latencies && Date.now() < drainBy + 5_000) await sleep(20);
    const sorted = (latencies ?? new Float64Array()).sort();
    return {
      p50Ms: percentile(sorted, 50),
      p99Ms: percentile(sorted, 99),
      subscribers,
      events: total,
      deliveries: sorted.length,
      how:
        `bench/subscription-latency.ts: ${subscribers} consentChanged subscriptions (${perConnection} per WebSocket, clients in a worker thread), ` +
        `${writesPerSecond} consent changes/s for ${seconds} s, each delivered to every subscriber (${sorted.length} of ${expected} messages arrived); ` +
        "latency = arrival at the client - the event's recordedAt (includes the commit's fsync).",
    };
  } finally {
    await worker?.terminate();
    await app.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The client side, in a worker thread: opens the subscriptions and records each message's latency. */
async function runClients(input: WorkerInput): Promise<void> {
  const port = parentPort!;
  const latencies: number[] = [];
  const clients = Array.from({ length: Math.ceil(input.subscribers / input.perConnection) }, () =>
    createClient({ url: input.url, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${input.token}` }, retryAttempts: 0 }),
  );
  for (let i = 0; i < input.subscribers; i++)
    clients[Math.floor(i / input.perConnection)]!.subscribe<{ consentChanged: { event: { recordedAt: string } } }>(
      { query: QUERY },
      {
        next: (r) => {
          const at = r.data?.consentChanged.event.recordedAt;
          if (at) latencies.push(Date.now() - Date.parse(at));
        },
        error: (e) => console.error("subscription failed", e),
        complete: () => {},
      },
    );
  port.on("message", async (m: string) => {
    if (m === "report") port.postMessage({ kind: "received", count: latencies.length } satisfies WorkerMessage);
    if (m === "finish") {
      port.postMessage({ kind: "latencies", latencies: Float64Array.from(latencies) } satisfies WorkerMessage);
      await Promise.all(clients.map((c) => c.dispose()));
    }
  });
}

if (!isMainThread && workerData) void runClients(workerData as WorkerInput);

// `node dist/bench/subscription-latency.js` runs it alone and prints the figures.
if (isMainThread && process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const quick = process.argv.includes("--quick");
  benchSubscriptionLatency({ quick }).then(
    (r) => console.log(JSON.stringify(r, null, 2)),
    (e: unknown) => {
      console.error(e);
      process.exitCode = 1;
    },
  );
}
