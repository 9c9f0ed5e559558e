// The permission reads from memory (VIEW_CACHE_MB=64) against the same service reading the database
// every time (VIEW_CACHE_MB=0), over HTTP, in the same run.
import { join } from "node:path";
import { commandProgram } from "../src/application/handle-command.js";
import { publishCatalogDir } from "../src/catalog-dir.js";
import { Ledger } from "../src/ledger.js";
import { SqliteStorage } from "../src/storage/sqlite/sqlite-storage.js";
import { CONNECTIONS, PERMISSION, startLedgerChild } from "./http.js";
import { PERMISSIONS, pairedLoads, pairedMedians, tenChecks } from "./paired-loads.js";
import { type BenchOptions, type BenchRow, fmt, median, tempDir } from "./util.js";


/** A ledger on a SQLite file of its own with the view at `viewCacheBytes`, one subject recorded. */
async function ledgerOn(dir: string, name: string, viewCacheBytes: number): Promise<Ledger> {
  const ledger = await Ledger.open(await SqliteStorage.open({ commands: commandProgram, path: join(dir, name), viewCacheBytes }));
  await publishCatalogDir(ledger, "data/policies");
  const choice = { policyId: null, policyVersion: 1, acceptPolicy: true, grant: ["location"], withdraw: [], occurredAt: null, evidence: null, expectedVersion: null };
  await ledger.recordConsent("bench-subject", choice, { kind: "SUBJECT", id: "bench-subject" });
  return ledger;
}

/**
 * CPU per `Ledger.permission` call in this process, with the view and without: on a machine whose
 * cores the load generator shares, CPU per call says what throughput cannot.
 */
async function cpuPerCall(o: BenchOptions): Promise<BenchRow> {
  const calls = o.quick ? 5_000 : 40_000;
  const { dir, cleanup } = tempDir("ledger-bench-view-");
  const sides = { cached: await ledgerOn(dir, "cached.db", 64 * 1_048_576), uncached: await ledgerOn(dir, "uncached.db", 0) };
  try {
    const measure = async (ledger: Ledger): Promise<number> => {
      const start = process.cpuUsage();
      for (let i = 0; i < calls; i++) if (!(await ledger.permission("bench-subject", "location", null)).permitted) throw new Error("the seeded subject is not permitted");
      const used = process.cpuUsage(start);
      return (used.user + used.system) / calls;
    };
    for (const l of Object.values(sides)) await measure(l);
    const runs: { cached: number; uncached: number }[] = [];
    for (let i = 0; i < o.runs; i++) {
      const first = i % 2 === 0;
      const a = first ? await measure(sides.cached) : 0;
      const b = await measure(sides.uncached);
      runs.push({ cached: first ? a : await measure(sides.cached), uncached: b });
    }
    const ratio = median(runs.map((r) => r.uncached / r.cached));
    return {
      bench: "view-cache",
      what: "CPU per `Ledger.permission` call in process (no HTTP), with the view in memory",
      figure: `${fmt(median(runs.map((r) => r.cached)))} µs CPU per call`,
      baseline: `${fmt(median(runs.map((r) => r.uncached)))} µs with VIEW_CACHE_MB=0`,
      ratio,
      aim: "> 1x (baseline CPU / figure CPU)",
      met: ratio > 1,
      how: `Two ledgers in the bench process, each on a SQLite file of its own (writer thread), one with the view off; ${calls} sequential permission calls for one seeded subject on each in turn (sides alternating first), process CPU (user + system, all threads) from process.cpuUsage; median of ${o.runs} runs of the per-run ratio.`,
      values: { ratio, cachedMicros: median(runs.map((r) => r.cached)), uncachedMicros: median(runs.map((r) => r.uncached)) },
    };
  } finally {
    await Promise.allSettled([sides.cached.close(), sides.uncached.close()]);
    cleanup();
  }
}

export async function benchViewCache(o: BenchOptions): Promise<BenchRow[]> {
  return [await cpuPerCall(o), ...(await overHttp(o))];
}

async function overHttp(o: BenchOptions): Promise<BenchRow[]> {
  const seconds = o.quick ? 2 : 6;
  const cached = await startLedgerChild("ledger", { VIEW_CACHE_MB: "64" });
  const uncached = await startLedgerChild("ledger", { VIEW_CACHE_MB: "0" });
  try {
    const reads = [
      { name: "permission", what: "`permission`", query: PERMISSION, variables: { s: "bench-subject", p: "location" } },
      { name: "permissions", what: "`permissions` (10 checks)", query: PERMISSIONS, variables: { checks: tenChecks() } },
    ];
    const sides = [
      { side: "cached", url: cached.child.url, token: () => cached.reader },
      { side: "uncached", url: uncached.child.url, token: () => uncached.reader },
    ] as const;
    // Checked to answer alike, then loaded in turn.
    const runs = await pairedLoads(sides, reads, { runs: o.runs, seconds }, (r) => `${r.name}: the answers with and without the view differ`);
    const metrics = await (await fetch(cached.child.url.replace("/graphql", "/metrics"))).text();
    const figure = (re: RegExp) => Number(re.exec(metrics)?.[1] ?? Number.NaN);
    const hits = figure(/^view_cache_reads_total\{result="hit"\} (\d+)$/m);
    const misses = figure(/^view_cache_reads_total\{result="miss"\} (\d+)$/m);
    return reads.map((r) => {
      const f = pairedMedians(runs[r.name]!);
      return {
        bench: "view-cache",
        what: `${r.what} over HTTP with the view in memory (VIEW_CACHE_MB=64), ${CONNECTIONS} connections`,
        figure: `${fmt(f.rps)} req/s, p99 ${fmt(f.p99)} ms`,
        baseline: `${fmt(f.baseRps)} req/s with VIEW_CACHE_MB=0 (p99 ${fmt(f.baseP99)} ms)`,
        ratio: f.ratio,
        aim: "> 1x",
        met: f.ratio > 1,
        how: `The same service in two child processes on SQLite, one with VIEW_CACHE_MB=0; the same request (a seeded subject, a cached ES256 token) loaded on each in turn by autocannon in the bench process, ${seconds} s per load, sides alternating first; median of ${o.runs} runs of the per-run ratio. The answers of both are checked equal first. The view answered ${hits} reads from memory and ${misses} from the database over the whole run.`,
        values: { ratio: f.ratio, rps: f.rps, uncachedRps: f.baseRps, hits, misses },
      };
    });
  } finally {
    await Promise.allSettled([cached.child.stop(), uncached.child.stop()]);
  }
}
