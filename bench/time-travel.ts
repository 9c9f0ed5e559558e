// consents(at:) for a subject with 10,000 events (a fold of its stream) against consents now (the projections).
import { join } from "node:path";
import type { Ledger } from "../src/ledger.js";
import { EVIDENCE, openLedger } from "./populate.js";
import { type BenchOptions, type BenchRow, fmt, median, percentile, pool, since, tempDir } from "./util.js";

const SUBJECT = "time-traveller";
const MINUTE = 60_000;

/** Appends `events` grant/withdraw events for one subject, back-dated a minute apart; returns [first, last] valid time. */
export async function longHistory(ledger: Ledger, events: number): Promise<[number, number]> {
  const first = Date.now() - (events + 10) * MINUTE;
  await ledger.recordConsent(SUBJECT, { policyId: null, policyVersion: 1, acceptPolicy: true, grant: [], withdraw: [], occurredAt: first, evidence: EVIDENCE, expectedVersion: null }, { kind: "SERVICE", id: "bench" });
  await pool(events - 1, 256, (i) => {
    const grant = i % 2 === 0;
    return ledger.recordConsent(
      SUBJECT,
      { policyId: null, policyVersion: 1, acceptPolicy: false, grant: grant ? ["location"] : [], withdraw: grant ? [] : ["location"], occurredAt: first + (i + 1) * MINUTE, evidence: EVIDENCE, expectedVersion: null },
      { kind: "SERVICE", id: "bench" },
    );
  });
  return [first, first + (events - 1) * MINUTE];
}

/** Latencies (ms) of `n` calls of `fn`. */
async function latencies(n: number, fn: () => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const start = performance.now();
    await fn();
    out.push(since(start));
  }
  return out;
}

export async function benchTimeTravel(o: BenchOptions): Promise<BenchRow[]> {
  const events = o.quick ? 1_000 : 10_000;
  const calls = o.quick ? 10 : 60;
  const t = tempDir();
  try {
    const ledger = await openLedger(join(t.dir, "ledger.db"));
    const [first, last] = await longHistory(ledger, events);
    const version = (await ledger.subject(SUBJECT)).version;
    if (version !== events) throw new Error(`the subject has ${version} events, expected ${events}`);
    const mid = Math.round((first + last) / 2);
    const past = () => ledger.consents(SUBJECT, null, ledger.asOf(mid));
    const now = () => ledger.consents(SUBJECT, null, ledger.asOf());
    await latencies(5, past);
    await latencies(5, now);
    const runs: { p50: number; p99: number; now50: number }[] = [];
    for (let r = 0; r < o.runs; r++) {
      const a = await latencies(calls, past);
      const b = await latencies(calls, now);
      runs.push({ p50: percentile(a, 50), p99: percentile(a, 99), now50: percentile(b, 50) });
    }
    await ledger.close();
    const p50 = median(runs.map((x) => x.p50));
    const p99 = median(runs.map((x) => x.p99));
    const now50 = median(runs.map((x) => x.now50));
    const row: BenchRow = {
      bench: "time-travel",
      what: `\`consents(at:)\` for a subject with ${events.toLocaleString("en-US")} events`,
      figure: `p50 ${fmt(p50, 2)} ms, p99 ${fmt(p99, 2)} ms`,
      baseline: `\`consents\` now: p50 ${fmt(now50, 3)} ms (${fmt(p50 / now50)}x less time)`,
      ratio: null, // a latency aim; the baseline shows what the projections answer in
      aim: "p50 < 5 ms",
      met: p50 < 5,
      how: `Ledger.consents(subject, null, asOf(at)) in-process (what the Subject.consents resolver calls), \`at\` in the middle of a history of ${events.toLocaleString("en-US")} grant/withdraw events a minute apart (with sealed evidence), ${calls} sequential calls per run; baseline: the same call for now, answered from the projections; median over ${o.runs} runs of each run's percentile. Excludes HTTP/GraphQL (see the permission row for that overhead).`,
      values: { p50, p99, now50, events },
    };
    if (p50 >= 5)
      row.note =
        "A past `at` is answered from the bitemporal read models (one indexed lookup per purpose, one for the acceptance, one for the status), so its cost should not depend on history length; a miss here means the lookups stopped using their indexes (check EXPLAIN QUERY PLAN for consent_history).";
    return [row];
  } finally {
    t.cleanup();
  }
}
