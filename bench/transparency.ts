// The transparency log: tree integration, proof latency at 1M events, tree storage, checkpoint lag under 32 writers.
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type Database from "better-sqlite3";
import { publishCatalogDir } from "../src/catalog-dir.js";
import type { Ledger } from "../src/ledger.js";
import type { SqliteStorage } from "../src/storage/sqlite/sqlite-storage.js";
import { TransparencyLog } from "../src/log/transparency-log.js";
import { CONCURRENCY } from "./store-append.js";
import { type CheckpointLag, benchSigner, lagRow, measureCheckpointLag, proofLatencies, proofRow, rawLeafHashing, storageRow } from "./transparency-common.js";
import { benchTransparencyPostgres } from "./transparency-postgres.js";
import { type BenchOptions, type BenchRow, fmt, median, openSqliteLedger, since, sqlite, tempDir } from "./util.js";

const here = dirname(fileURLToPath(import.meta.url));
/** The shipped catalogue (the bench runs from bench/ or from dist/bench/). */
const CATALOG_DIR = join(existsSync(join(here, "..", "package.json")) ? resolve(here, "..") : resolve(here, "..", ".."), "data", "policies");

/** The SQLite adapter's tree and its transparency port under a ledger. */
const tree = (ledger: Ledger) => sqlite(ledger).tree!;
const port = (ledger: Ledger) => (ledger.storage as SqliteStorage).transparency!;

/**
 * Fills the events table with `n` rows straight from SQL (random 32-byte hashes, no chain: the tree
 * only reads the hash column), so that a million events take seconds, not minutes. The tree stays empty.
 */
function fillEvents(db: Database.Database, n: number): void {
  db.exec("DROP TRIGGER IF EXISTS events_refuse_update");
  db.transaction(() =>
    db
      .prepare(
        `WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < ?)
         INSERT INTO events (position, id, stream_id, stream_version, type, schema_version, subject_id, occurred_at, recorded_at, actor_kind, actor_id, data, prev_hash, hash)
         SELECT i, 'e' || i, 'subject:s' || (i % 1000), i / 1000 + 1, 'ConsentGranted', 1, 's' || (i % 1000), 0, 0, 'SUBJECT', 's' || (i % 1000), '{}', zeroblob(32), randomblob(32) FROM k`,
      )
      .run(n),
  )();
}

/** Bytes a table and its indexes take in the file (dbstat). */
const tableBytes = (db: Database.Database, ...names: string[]): number =>
  names.reduce((sum, name) => sum + ((db.prepare("SELECT COALESCE(SUM(pgsize), 0) FROM dbstat WHERE name = ?").pluck().get(name) as number) ?? 0), 0);

/** The tree's integration as appends run it (appendEvents with one event at a time, 512 per transaction, as a group commit); leaves/s. */
function appendIntegration(ledger: Ledger, hashes: readonly Buffer[]): number {
  const db = sqlite(ledger).store.db;
  db.exec("DELETE FROM merkle_nodes; UPDATE merkle_tree SET leaves = 0");
  const start = performance.now();
  for (let from = 0; from < hashes.length; from += 512) {
    db.transaction(() => {
      for (let i = from; i < Math.min(from + 512, hashes.length); i++)
        tree(ledger).appendEvents([{ position: i + 1, hash: hashes[i]!.toString("hex"), prevHash: i === 0 ? "0".repeat(64) : hashes[i - 1]!.toString("hex") }]);
    })();
  }
  return (hashes.length / since(start)) * 1000;
}

/** 32 writers appending through the store for `seconds`; each event's commit time against the first checkpoint seen covering it. */
async function checkpointLag(seconds: number): Promise<CheckpointLag> {
  const t = tempDir();
  const ledger = await openSqliteLedger(join(t.dir, "ledger.db"));
  const log = new TransparencyLog(port(ledger), benchSigner("bench.local/lag"), { origin: "bench.local/lag", intervalMs: 500 });
  try {
    await log.start();
    await publishCatalogDir(ledger, CATALOG_DIR);
    // Through the command path, as the service writes: the writer thread's group commit, which also stores the checkpoints.
    const record = (subjectId: string) =>
      ledger.recordConsent(
        subjectId,
        { policyId: null, policyVersion: 1, acceptPolicy: true, grant: ["location"], withdraw: [], occurredAt: null, evidence: null, expectedVersion: null },
        { kind: "SERVICE", id: "bench" },
      );
    return await measureCheckpointLag(log, async (w, i) => (await record(`lag-${w}-${i}`)).events.at(-1)!.position, seconds);
  } finally {
    log.stop();
    await ledger.close();
    t.cleanup();
  }
}

export async function benchTransparency(o: BenchOptions): Promise<BenchRow[]> {
  const size = o.quick ? 20_000 : 1_000_000;
  const integrationLeaves = o.quick ? 20_000 : 200_000;
  const t = tempDir();
  const ledger = await openSqliteLedger(join(t.dir, "ledger.db"));
  const log = new TransparencyLog(port(ledger), benchSigner("bench.local/tlog"), { origin: "bench.local/tlog", intervalMs: 60_000 });
  try {
    const db = sqlite(ledger).store.db;
    fillEvents(db, size);
    const hashes = (db.prepare("SELECT hash FROM events WHERE position <= ? ORDER BY position").pluck().all(integrationLeaves) as Buffer[]).map((h) => Buffer.from(h));
    const integration: number[] = [];
    const raw: number[] = [];
    for (let r = 0; r < o.runs; r++) {
      raw.push(rawLeafHashing(hashes));
      integration.push(appendIntegration(ledger, hashes));
    }
    // The migration path: a log without a tree, caught up in chunks as at start.
    db.exec("DELETE FROM merkle_nodes; UPDATE merkle_tree SET leaves = 0");
    const started = performance.now();
    await port(ledger).catchUp();
    const catchUpPerSecond = (size / since(started)) * 1000;
    if (tree(ledger).size() !== size) throw new Error("the tree did not catch up");
    db.exec("VACUUM");
    const treeBytes = tableBytes(db, "merkle_nodes", "merkle_tree") / size;
    const eventBytes = tableBytes(db, "events", "sqlite_autoindex_events_1", "sqlite_autoindex_events_2") / size;
    await log.start();
    // The start publishes in the background; proofs need its checkpoint.
    await log.publish();
    const pointRead = db.prepare("SELECT hash FROM events WHERE position = ?").pluck();
    const latencies = await proofLatencies(log, (position) => pointRead.get(position), size, o.quick ? 200 : 2_000, o.runs);
    log.stop();
    const lag = await checkpointLag(o.quick ? 3 : 15);
    const onPostgres = await benchTransparencyPostgres(o);
    const sized = `${fmt(size)} events`;
    const how = "bench/transparency.ts";
    return [
      {
        bench: "transparency",
        what: "Merkle tree integration in the append path, leaves/s",
        figure: `${fmt(median(integration))}/s`,
        baseline: `raw SHA-256 of each leaf: ${fmt(median(raw))}/s`,
        ratio: median(integration.map((x, i) => x / raw[i]!)),
        aim: ">= 10,000 leaves/s",
        met: median(integration) >= 10_000,
        how: `${how}: appendEvents (the hook each append runs in its transaction on its events), one event per call, over ${fmt(integrationLeaves)} events, 512 per transaction, against a loop computing SHA-256(0x00 || hash) of the same leaves; median of ${o.runs} runs. Catching up a log without a tree (the start-up migration, 2,000 leaves per group commit) ran at ${fmt(catchUpPerSecond)} leaves/s over ${sized}.`,
        values: { integration: median(integration), raw: median(raw), catchUp: catchUpPerSecond },
      },
      proofRow(
        `inclusion and consistency proof p99 at ${sized}`,
        latencies,
        `${how}: TransparencyLog.inclusionProof / consistencyProof (store reads, hashing, base64; no HTTP) for random leaves and sizes of a ${sized} tree, ${o.quick ? 200 : 2_000} of each per run interleaved with the baseline read; p99 per run, median of ${o.runs} runs.`,
      ),
      storageRow(
        "tree storage per event, bytes",
        { treeBytes, eventBytes },
        `${how}: dbstat page bytes of merkle_nodes and merkle_tree after VACUUM, divided by ${sized}.`,
      ),
      lagRow(
        "checkpoint lag p99 under 32 writers",
        lag,
        `${how}: ${CONCURRENCY} writers each recording consents for new subjects through the ledger's commands (the writer thread's group commit, as the service writes) for ${o.quick ? 3 : 15} s (${fmt(lag.events)} events) with the checkpoint timer at its default 500 ms; per event, the time from its commit to the first published checkpoint covering it (polled every 5 ms).`,
      ),
      ...onPostgres,
    ];
  } finally {
    log.stop();
    await ledger.close();
    t.cleanup();
  }
}
