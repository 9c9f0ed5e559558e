// A model of the ledger past one primary: N shards' throughput predicted from the figures measured
// on one (bench/results.json's `postgres` and `transparency` rows). See docs/scaling.md.
//
//   node dist/bench/shard-model.js [--cross 0.01] [--cost 3] [--cores 2] [--results bench/results.json]
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";

export interface ShardInputs {
  /** Events/s one shard's primary sequences (measured: the sequencer row, 1 event per append). */
  perShard: number;
  /**
   * Events/s the one global integrator can place when the contract's dense global position is kept
   * (positions, chain hashes and tree leaves assigned in large batches on one primary); Infinity for
   * per-shard logs under a top-level tree of shard checkpoints, which have no global serial step.
   */
  integrator: number;
  /** The share of commands that touch subjects on two shards (a merge, a transfer naming several subjects). */
  crossShare: number;
  /** What such a command costs each of its two shards, in single-shard appends (two-phase commit: prepare, commit, the wait between). */
  crossCost: number;
}

/**
 * Events/s of N shards. Each shard spends 1 unit of its capacity on a single-shard command and
 * `crossCost` on each side of a cross-shard one; with commands spread evenly, N shards carry
 * N * perShard / ((1 - f) + 2 f k) (for N >= 2), capped by the integrator when there is one.
 */
export function shardThroughput(n: number, s: ShardInputs): number {
  if (!(n >= 1) || !Number.isInteger(n)) throw new Error(`shards must be a whole number >= 1 (got ${n})`);
  const f = n === 1 ? 0 : s.crossShare;
  const spread = (n * s.perShard) / (1 - f + 2 * f * s.crossCost);
  return Math.min(spread, s.integrator);
}

export interface ResultRow {
  bench: string;
  what: string;
  values?: Record<string, number>;
}

/** The measured inputs from a results file: the sequencer's rate, and one primary's plain batched INSERT rate as the integrator's bound. */
export function measuredInputs(rows: readonly ResultRow[]): { perShard: number; integratorBound: number; treeLeaves: number } {
  const find = (bench: string, what: string) => rows.find((r) => r.bench === bench && r.what.startsWith(what))?.values;
  const single = find("postgres", "PostgreSQL sequencer: events ordered per second, 1 event per append");
  const batched = find("postgres", "PostgreSQL sequencer: events ordered per second, 10 events per append");
  const tree = find("transparency", "PostgreSQL: Merkle tree integration");
  if (!single?.["figure"] || !batched?.["baseline"]) throw new Error("the results hold no `postgres` sequencer rows: run `npm run bench -- --only postgres` first");
  return { perShard: single["figure"], integratorBound: Math.min(batched["baseline"], tree?.["sequencer"] ?? Infinity), treeLeaves: tree?.["sequencer"] ?? NaN };
}

function main(argv: string[]): void {
  const arg = (name: string, fallback: string) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1]! : fallback;
  };
  const rows = JSON.parse(readFileSync(resolve(arg("results", "bench/results.json")), "utf8")) as ResultRow[];
  const m = measuredInputs(rows);
  const cores = Number(arg("cores", "2"));
  const crossShare = Number(arg("cross", "0.01"));
  const crossCost = Number(arg("cost", "3"));
  const fmt = (x: number) => (Number.isFinite(x) ? Math.round(x).toLocaleString("en-US") : "—");
  console.log(`measured: one primary sequences ${fmt(m.perShard)} events/s (${fmt(m.perShard / cores)} per core on ${cores} cores);`);
  console.log(`          one primary's batched plain INSERTs ${fmt(m.integratorBound)} rows/s (the global integrator's bound); tree integration ${fmt(m.treeLeaves)} leaves/s`);
  console.log(`assumed:  ${(crossShare * 100).toFixed(1)}% of commands span two shards, each costing ${crossCost} appends on both\n`);
  console.log("| shards | per-shard logs + top-level tree, events/s | dense global position (one integrator), events/s |");
  console.log("| ---: | ---: | ---: |");
  for (const n of [1, 2, 4, 8, 16, 32, 64]) {
    const base = { perShard: m.perShard, crossShare, crossCost };
    console.log(`| ${n} | ${fmt(shardThroughput(n, { ...base, integrator: Infinity }))} | ${fmt(shardThroughput(n, { ...base, integrator: m.integratorBound }))} |`);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main(process.argv.slice(2));
