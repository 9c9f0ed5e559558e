// The permission reads from memory (VIEW_CACHE_MB=64) against the same service reading the database
// every time (VIEW_CACHE_MB=0), over HTTP, in the same run.
import { type LoadResult, CONNECTIONS, PERMISSION, gqlOnce, load, startLedgerChild } from "./http.js";
import { type BenchOptions, type BenchRow, fmt, median } from "./util.js";

const PERMISSIONS = `query($checks: [PermissionCheckInput!]!) { permissions(checks: $checks) { subjectId purposeId permitted reason } }`;
const json = { "content-type": "application/json" };

export async function benchViewCache(o: BenchOptions): Promise<BenchRow[]> {
  const seconds = o.quick ? 2 : 6;
  const cached = await startLedgerChild("ledger", { VIEW_CACHE_MB: "64" });
  const uncached = await startLedgerChild("ledger", { VIEW_CACHE_MB: "0" });
  try {
    const checks = Array.from({ length: 10 }, (_, i) => ({ subjectId: i % 2 === 0 ? "bench-subject" : `nobody-${i}`, purposeId: "location" }));
    const reads = [
      { name: "permission", what: "`permission`", query: PERMISSION, variables: { s: "bench-subject", p: "location" } },
      { name: "permissions", what: "`permissions` (10 checks)", query: PERMISSIONS, variables: { checks } },
    ];
    const sides = [
      { side: "cached" as const, url: cached.child.url, token: cached.reader },
      { side: "uncached" as const, url: uncached.child.url, token: uncached.reader },
    ];
    // Both answer the same before either is loaded.
    for (const r of reads) {
      const [a, b] = await Promise.all(sides.map((s) => gqlOnce(s.url, r.query, r.variables, s.token)));
      if (JSON.stringify(a) !== JSON.stringify(b)) throw new Error(`${r.name}: the answers with and without the view differ`);
    }
    const bodyOf = (r: (typeof reads)[number]) => JSON.stringify({ query: r.query, variables: r.variables });
    for (const s of sides) for (const r of reads) await load(s.url, { seconds: 1, headers: { ...json, authorization: `Bearer ${s.token}` }, body: bodyOf(r) });
    const runs: Record<string, { cached: LoadResult; uncached: LoadResult }[]> = {};
    for (let i = 0; i < o.runs; i++)
      for (const r of reads) {
        // Sides alternate going first, so that neither always meets a warmer or cooler machine.
        const order = i % 2 === 0 ? sides : [...sides].reverse();
        const got: Partial<Record<"cached" | "uncached", LoadResult>> = {};
        for (const s of order) {
          const x = await load(s.url, { seconds, headers: { ...json, authorization: `Bearer ${s.token}` }, body: bodyOf(r) });
          if (x.bad > 0) throw new Error(`${r.name} (${s.side}): ${x.bad} of ${x.requests} requests failed`);
          got[s.side] = x;
        }
        (runs[r.name] ??= []).push({ cached: got.cached!, uncached: got.uncached! });
      }
    const metrics = await (await fetch(cached.child.url.replace("/graphql", "/metrics"))).text();
    const figure = (re: RegExp) => Number(re.exec(metrics)?.[1] ?? Number.NaN);
    const hits = figure(/^view_cache_reads_total\{result="hit"\} (\d+)$/m);
    const misses = figure(/^view_cache_reads_total\{result="miss"\} (\d+)$/m);
    return reads.map((r) => {
      const xs = runs[r.name]!;
      const m = (f: (x: (typeof xs)[number]) => number) => median(xs.map(f));
      const ratio = m((x) => x.cached.rps / x.uncached.rps);
      return {
        bench: "view-cache",
        what: `${r.what} over HTTP with the view in memory (VIEW_CACHE_MB=64), ${CONNECTIONS} connections`,
        figure: `${fmt(m((x) => x.cached.rps))} req/s, p99 ${fmt(m((x) => x.cached.p99))} ms`,
        baseline: `${fmt(m((x) => x.uncached.rps))} req/s with VIEW_CACHE_MB=0 (p99 ${fmt(m((x) => x.uncached.p99))} ms)`,
        ratio,
        aim: "> 1x",
        met: ratio > 1,
        how: `The same service in two child processes on SQLite, one with VIEW_CACHE_MB=0; the same request (a seeded subject, a cached ES256 token) loaded on each in turn by autocannon in the bench process, ${seconds} s per load, sides alternating first; median of ${o.runs} runs of the per-run ratio. The answers of both are checked equal first. The view answered ${hits} reads from memory and ${misses} from the database over the whole run.`,
        values: { ratio, rps: m((x) => x.cached.rps), uncachedRps: m((x) => x.uncached.rps), hits, misses },
      };
    });
  } finally {
    await Promise.allSettled([cached.child.stop(), uncached.child.stop()]);
  }
}
