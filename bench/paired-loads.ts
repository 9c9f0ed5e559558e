// Two services that must answer alike, loaded in turn with the same requests: what the benches comparing a
// setting against the same service without it share (the answers checked equal, a warm-up, sides alternating).
import { JSON_HEADERS, type LoadResult, allAnswered, gqlOnce, load } from "./http.js";
import { median } from "./util.js";

export const PERMISSIONS = `query($checks: [PermissionCheckInput!]!) { permissions(checks: $checks) { subjectId purposeId permitted reason } }`;

/** Ten permission checks, half of them on the seeded subject "bench-subject". */
export const tenChecks = (): { subjectId: string; purposeId: string }[] =>
  Array.from({ length: 10 }, (_, i) => ({ subjectId: i % 2 === 0 ? "bench-subject" : `nobody-${i}`, purposeId: "location" }));

/** One request loaded on both sides. */
export interface PairedRead {
  name: string;
  query: string;
  variables?: Record<string, unknown>;
}

/** A service: its GraphQL URL and the bearer token it is sent `read` with. */
export interface PairedSide<R extends PairedRead> {
  side: string;
  url: string;
  token: (read: R) => string;
}

/** One run of one read: the first side's load and the second's. */
export interface PairedRun {
  first: LoadResult;
  second: LoadResult;
}

/**
 * Checks both sides answer each read alike (`differ` says how, otherwise), loads each read on each side
 * for a second to warm up, then for `runs` runs loads each read for `seconds` on each side in turn, the
 * side going first alternating; the runs of each read, by name.
 */
export async function pairedLoads<R extends PairedRead>(
  sides: readonly [PairedSide<R>, PairedSide<R>],
  reads: readonly R[],
  o: { runs: number; seconds: number },
  differ: (read: R, a: unknown, b: unknown) => string,
): Promise<Record<string, PairedRun[]>> {
  for (const r of reads) {
    const [a, b] = await Promise.all(sides.map((s) => gqlOnce(s.url, r.query, r.variables ?? {}, s.token(r))));
    if (JSON.stringify(a) !== JSON.stringify(b)) throw new Error(differ(r, a, b));
  }
  const body = (r: R) => JSON.stringify(r.variables === undefined ? { query: r.query } : { query: r.query, variables: r.variables });
  const loadOn = (s: PairedSide<R>, r: R, seconds: number) => load(s.url, { seconds, headers: { ...JSON_HEADERS, authorization: `Bearer ${s.token(r)}` }, body: body(r) });
  for (const s of sides) for (const r of reads) await loadOn(s, r, 1);
  const runs: Record<string, PairedRun[]> = {};
  for (let i = 0; i < o.runs; i++)
    for (const r of reads) {
      // Sides alternate going first, so that neither always meets a warmer or cooler machine.
      const order = i % 2 === 0 ? [0, 1] : [1, 0];
      const got: LoadResult[] = [];
      for (const k of order) {
        const s = sides[k]!;
        const x = await loadOn(s, r, o.seconds);
        allAnswered({ [`${r.name} (${s.side})`]: x });
        got[k] = x;
      }
      (runs[r.name] ??= []).push({ first: got[0]!, second: got[1]! });
    }
  return runs;
}

/** Medians over one read's runs: of each side's rate and p99, and of the per-run ratio first/second. */
export function pairedMedians(xs: readonly PairedRun[]): { ratio: number; rps: number; p99: number; baseRps: number; baseP99: number } {
  const m = (f: (x: PairedRun) => number) => median(xs.map(f));
  return { ratio: m((x) => x.first.rps / x.second.rps), rps: m((x) => x.first.rps), p99: m((x) => x.first.p99), baseRps: m((x) => x.second.rps), baseP99: m((x) => x.second.p99) };
}
