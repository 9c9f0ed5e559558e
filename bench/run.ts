// The bench runner (`npm run bench [-- --quick] [-- --only <name>]`): runs each bench, writes bench/RESULTS.md.
import "reflect-metadata";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { benchCompiledReads } from "./compiled-reads.js";
import { benchHttp } from "./http.js";
import { benchHttpTrusted } from "./http-trusted.js";
import { benchIntegrity } from "./integrity.js";
import { benchPostgres } from "./postgres.js";
import { benchPostgresHttp } from "./postgres-http.js";
import { benchAttack } from "./attack.js";
import { benchC15t } from "./peers/c15t.js";
import { benchEmmett } from "./peers/emmett.js";
import { benchEmmettPostgres } from "./peers/emmett-postgres.js";
import { benchRebuild } from "./rebuild.js";
import { benchScale } from "./scale.js";
import { benchStoreAppend } from "./store-append.js";
import { benchTimeTravel } from "./time-travel.js";
import { benchTransparency } from "./transparency.js";
import { benchWebhooks } from "./webhooks.js";
import { benchWriter } from "./writer.js";
import { benchVisitorSession } from "./visitor-session.js";
import { benchViewCache } from "./view-cache.js";
import { benchWorkers } from "./workers.js";
import { type BenchOptions, type BenchRow, fmt, fmtRatio, notMeasured } from "./util.js";

interface Bench {
  name: string;
  run: (o: BenchOptions) => Promise<BenchRow[]>;
}

const here = dirname(fileURLToPath(import.meta.url));
/** The repository root: dist/bench/ when compiled, bench/ under tsx or vitest. */
const root = existsSync(join(here, "..", "package.json")) ? resolve(here, "..") : resolve(here, "..", "..");

/**
 * The subscription-latency bench runs when bench/subscription-latency.ts is in the tree (and compiled).
 * Its result is taken as BenchRow[] or as an object with latency percentiles.
 */
async function benchSubscriptions(o: BenchOptions): Promise<BenchRow[]> {
  const what = "delivery to 1,000 subscribers at a steady write rate";
  const aim = "p99 < 100 ms";
  const compiled = join(here, "subscription-latency.js");
  if (!existsSync(join(root, "bench", "subscription-latency.ts")) || !existsSync(compiled))
    return [notMeasured("subscriptions", what, "—", aim, "bench/subscription-latency.ts", "bench/subscription-latency.ts is not in the tree yet")];
  const mod = (await import(pathToFileURL(compiled).href)) as { benchSubscriptionLatency?: (opts: unknown) => Promise<unknown> };
  if (typeof mod.benchSubscriptionLatency !== "function")
    return [notMeasured("subscriptions", what, "—", aim, "bench/subscription-latency.ts", "bench/subscription-latency.ts exports no benchSubscriptionLatency")];
  const result = await mod.benchSubscriptionLatency({ ...o, subscribers: o.quick ? 50 : 1_000 });
  if (Array.isArray(result)) return (result as Partial<BenchRow>[]).map((r) => ({ bench: "subscriptions", what, figure: "—", baseline: "—", ratio: null, aim, met: null, how: "bench/subscription-latency.ts", ...r }));
  const r = (result ?? {}) as Record<string, unknown>;
  const counted = typeof r["subscribers"] === "number" ? what.replace("1,000", r["subscribers"].toLocaleString("en-US")) : what;
  const p99 = [r["p99"], r["p99Ms"], r["latencyP99"]].find((v): v is number => typeof v === "number");
  const p50 = [r["p50"], r["p50Ms"], r["latencyP50"]].find((v): v is number => typeof v === "number");
  return [
    {
      bench: "subscriptions",
      what: counted,
      figure: p99 !== undefined ? `${p50 !== undefined ? `p50 ${fmt(p50, 1)} ms, ` : ""}p99 ${fmt(p99, 1)} ms` : JSON.stringify(result),
      baseline: "—",
      ratio: null,
      aim,
      met: p99 !== undefined ? p99 < 100 : null,
      how: typeof r["how"] === "string" ? r["how"] : "bench/subscription-latency.ts (benchSubscriptionLatency), called by the runner.",
      ...(typeof r["note"] === "string" ? { note: r["note"] } : {}),
    },
  ];
}

export const BENCHES: Bench[] = [
  { name: "store-append", run: benchStoreAppend },
  { name: "emmett", run: benchEmmett },
  { name: "http", run: benchHttp },
  { name: "http-trusted", run: benchHttpTrusted },
  { name: "workers", run: benchWorkers },
  { name: "compiled-reads", run: benchCompiledReads },
  { name: "view-cache", run: benchViewCache },
  { name: "c15t", run: benchC15t },
  { name: "rebuild", run: benchRebuild },
  { name: "time-travel", run: benchTimeTravel },
  { name: "integrity", run: benchIntegrity },
  { name: "subscriptions", run: benchSubscriptions },
  { name: "scale", run: benchScale },
  { name: "postgres", run: benchPostgres },
  { name: "postgres-http", run: benchPostgresHttp },
  { name: "emmett-postgres", run: benchEmmettPostgres },
  { name: "transparency", run: benchTransparency },
  { name: "writer", run: benchWriter },
  { name: "visitor-session", run: benchVisitorSession },
  { name: "webhooks", run: benchWebhooks },
  { name: "attack", run: benchAttack },
];

interface Args {
  quick: boolean;
  only: string[];
  out: string | null;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { quick: false, only: [], out: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--quick") args.quick = true;
    else if (a === "--only") args.only.push(...(argv[++i] ?? "").split(",").filter((s) => s !== ""));
    else if (a.startsWith("--only=")) args.only.push(...a.slice(7).split(",").filter((s) => s !== ""));
    else if (a === "--out") args.out = argv[++i] ?? null;
    else throw new Error(`unknown argument ${a}; usage: run.js [--quick] [--only <name,...>] [--out <file>]\n  benches: ${BENCHES.map((b) => b.name).join(", ")}`);
  }
  for (const n of args.only) if (!BENCHES.some((b) => b.name === n)) throw new Error(`no bench named ${n}; benches: ${BENCHES.map((b) => b.name).join(", ")}`);
  return args;
}

const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, " ");
const verdict = (r: BenchRow) => (r.met === null ? (r.figure.startsWith("not measured") ? "not measured" : "—") : r.met ? "met" : "**missed**");

export function renderResults(rows: readonly BenchRow[], meta: { quick: boolean; seconds: number; runs: number; only?: readonly string[] }): string {
  const lines = [
    "# Bench results",
    "",
    "Written by `npm run bench` (bench/run.ts); do not edit by hand. Every figure is measured in the same run as its baseline,",
    `and is the median of ${meta.runs} runs unless its notes say otherwise. Ratio = figure / baseline (higher is better).`,
    "",
    `- machine: ${cpus().length} cores (os.cpus().length), ${cpus()[0]?.model.trim() ?? "unknown CPU"}, ${Math.round(totalmem() / 2 ** 30)} GiB RAM`,
    `- node ${process.version}, ${process.platform}/${process.arch}`,
    `- date: ${new Date().toISOString()}`,
    meta.only && meta.only.length > 0
      ? `- mode: --only ${meta.only.join(",")} re-run (${Math.round(meta.seconds)} s); the other rows are kept from the last full run`
      : `- mode: ${meta.quick ? "--quick (smoke-test sizes; not figures to quote)" : "full"}; whole bench took ${Math.round(meta.seconds)} s`,
    "",
    "| what | figure | baseline (same run) | ratio | aim | verdict |",
    "| --- | --- | --- | --- | --- | --- |",
    ...rows.map((r) => `| ${cell(r.what)} | ${cell(r.figure)} | ${cell(r.baseline)} | ${fmtRatio(r.ratio)} | ${cell(r.aim)} | ${verdict(r)} |`),
    "",
    "## How each figure was measured, and why an aim was missed",
    "",
  ];
  for (const r of rows) {
    lines.push(`### ${r.what}`, "", `How: ${r.how}`, "");
    if (r.note) lines.push(`${r.met === false ? "Why it misses, and what would move it" : "Note"}: ${r.note}`, "");
  }
  return `${lines.join("\n")}\n`;
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  process.chdir(root); // the shipped catalogue is read from data/policies
  const o: BenchOptions = { quick: args.quick, runs: args.quick ? 1 : 3 };
  const selected = args.only.length > 0 ? BENCHES.filter((b) => args.only.includes(b.name)) : BENCHES;
  const started = performance.now();
  const fresh: BenchRow[] = [];
  let failed = false;
  for (const b of selected) {
    const t0 = performance.now();
    process.stdout.write(`» ${b.name} ... `);
    try {
      const rows = await b.run(o);
      fresh.push(...rows);
      process.stdout.write(`${Math.round((performance.now() - t0) / 1000)} s\n`);
      for (const r of rows) process.stdout.write(`    ${r.what}: ${r.figure} | ${r.baseline} | ${fmtRatio(r.ratio)} | aim ${r.aim} | ${verdict(r)}\n`);
    } catch (e) {
      failed = true;
      const msg = e instanceof Error ? (e.stack ?? e.message) : String(e);
      process.stdout.write(`FAILED\n${msg}\n`);
      fresh.push({ bench: b.name, what: b.name, figure: `failed: ${e instanceof Error ? e.message : String(e)}`, baseline: "—", ratio: null, aim: "—", met: null, how: "the bench threw" });
    }
  }
  // With --only, the other benches' rows are kept from the last full run so RESULTS.md stays whole.
  const jsonFile = join(root, "bench", "results.json");
  let rows = fresh;
  if (args.only.length > 0 && !args.quick && existsSync(jsonFile)) {
    const previous = JSON.parse(readFileSync(jsonFile, "utf8")) as BenchRow[];
    rows = BENCHES.flatMap((b) => (args.only.includes(b.name) ? fresh.filter((r) => r.bench === b.name) : previous.filter((r) => r.bench === b.name)));
  }
  const out = args.out ?? (args.quick ? join(tmpdir(), "consent-ledger-bench-quick.md") : join(root, "bench", "RESULTS.md"));
  writeFileSync(out, renderResults(rows, { quick: args.quick, seconds: (performance.now() - started) / 1000, runs: o.runs, only: args.only }));
  if (!args.quick && !args.out) writeFileSync(jsonFile, `${JSON.stringify(rows, null, 2)}\n`);
  process.stdout.write(`\nwrote ${out} (${Math.round((performance.now() - started) / 1000)} s)\n`);
  return failed ? 1 : 0;
}

// Run only as the entry point, so tests can import the renderer.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url))
  main().then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
      process.exit(2);
    },
  );
