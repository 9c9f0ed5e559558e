// Shared bench helpers: statistics, temp folders, row shapes, and the event shape every store bench appends.
import { mkdtempSync, rmSync, statSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Ledger } from "../src/ledger.js";
import { PROJECTION_TABLES } from "../src/storage/sqlite/schema.js";
import { SqliteStorage } from "../src/storage/sqlite/sqlite-storage.js";
import { commandProgram } from "../src/application/handle-command.js";

/** How a bench is asked to run: `quick` shrinks sizes and run counts to a smoke test. */
export interface BenchOptions {
  quick: boolean;
  /** How many measured runs a figure is the median of. */
  runs: number;
}

/** One row of bench/RESULTS.md. */
export interface BenchRow {
  /** The bench that produced it (what `--only` selects). */
  bench: string;
  what: string;
  /** The median figure, already formatted with its unit. */
  figure: string;
  /** The baseline measured in the same runs, formatted; "—" where there is none. */
  baseline: string;
  /** Median of the per-run ratios figure/baseline (higher is better), or null. */
  ratio: number | null;
  aim: string;
  /** Whether the aim was met; null when not measured or not applicable. */
  met: boolean | null;
  /** How the figure was measured. */
  how: string;
  /** Why the aim was missed and what would move it; or why it was not measured. */
  note?: string;
  /** Raw numbers for the smoke test and for anyone reading the JSON. */
  values?: Record<string, number>;
}

export const median = (xs: readonly number[]): number => {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

/** The p-th percentile (0..100) by nearest rank. */
export const percentile = (xs: readonly number[], p: number): number => {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const rank = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return s[rank]!;
};

/** A fresh temp folder and its removal. */
export function tempDir(prefix = "ledger-bench-"): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Size in bytes of a SQLite database with its WAL and shared-memory files. */
export function dbFileBytes(path: string): number {
  let n = 0;
  for (const p of [path, `${path}-wal`, `${path}-shm`]) if (existsSync(p)) n += statSync(p).size;
  return n;
}

/** Milliseconds since `start` (performance.now()). */
export const since = (start: number): number => performance.now() - start;

export const fmt = (n: number, digits = 0): string =>
  Number.isFinite(n) ? n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits }) : String(n);

export const fmtRatio = (r: number | null): string => (r === null || !Number.isFinite(r) ? "—" : `${r.toFixed(2)}x`);

/** Runs `fn` with `concurrency` workers until `total` jobs have been taken; resolves when all finish. */
export async function pool(total: number, concurrency: number, fn: (i: number, worker: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async (w: number) => {
    while (next < total) {
      const i = next++;
      await fn(i, w);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, (_, w) => worker(w)));
}

/** A row for a bench that could not run here. */
export function notMeasured(bench: string, what: string, baseline: string, aim: string, how: string, reason: string): BenchRow {
  return { bench, what, figure: `not measured: ${reason}`, baseline, ratio: null, aim, met: null, how, note: reason };
}

/** The personal evidence a sealed event carries, as base64url of the AES-GCM output (fixed, so rows are equal in size). */
export const SEALED_EVIDENCE = `${"A".repeat(142)}`;

/** The data of one ConsentGranted event, the shape every store bench appends. */
export function grantData(i: number): Record<string, unknown> {
  const purposes = ["location", "access-analytics", "traffic-analysis", "linked-accounts"];
  return {
    policyId: "clavis-privacy",
    version: 1,
    purposeId: purposes[i % purposes.length]!,
    expiresAt: 1_767_225_600_000 + i,
    evidence: { sealed: SEALED_EVIDENCE },
  };
}

/** A ledger on the SQLite adapter at `path`. */
export async function openSqliteLedger(path: string): Promise<Ledger> {
  return Ledger.open(await SqliteStorage.open({ commands: commandProgram, path }));
}

/** The SQLite adapter's parts under a ledger (benchmarks that measure the adapter itself). */
export const sqlite = (ledger: Ledger) => (ledger.storage as SqliteStorage).internals;

/** Every projection row of a SQLite ledger, table by table, in a stable order. */
export function projectionRows(ledger: Ledger): Record<string, unknown[]> {
  const db = sqlite(ledger).store.db;
  const out: Record<string, unknown[]> = {};
  for (const t of PROJECTION_TABLES) out[t] = db.prepare(`SELECT * FROM ${t} ORDER BY 1, 2, 3`).all();
  return out;
}
