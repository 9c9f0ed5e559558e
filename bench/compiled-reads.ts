// The hot reads (permission, permissions, me) over HTTP, compiled by graphql-jit against the same service on graphql-js.
import { issueDevToken } from "../src/auth/dev-keys.js";
import { type LoadResult, CONNECTIONS, PERMISSION, RECORD, gqlOnce, load, recordInput, startLedgerChild } from "./http.js";
import { type BenchOptions, type BenchRow, fmt, median } from "./util.js";

const PERMISSIONS = `query($checks: [PermissionCheckInput!]!) { permissions(checks: $checks) { subjectId purposeId permitted reason } }`;
const ME = `{ me { id status version consents { purpose { id } status permitted reason since expiresAt } } }`;
const ME_SUBJECT = "bench-me";
const json = { "content-type": "application/json" };

interface Read {
  name: string;
  what: string;
  body: string;
  token: "reader" | "self";
}

export async function benchCompiledReads(o: BenchOptions): Promise<BenchRow[]> {
  const seconds = o.quick ? 2 : 6;
  const compiled = await startLedgerChild("ledger");
  const interpreted = await startLedgerChild("ledger-interpreted");
  try {
    const checks = Array.from({ length: 10 }, (_, i) => ({ subjectId: i % 2 === 0 ? "bench-subject" : `nobody-${i}`, purposeId: "location" }));
    const reads: Read[] = [
      { name: "permission", what: "`permission`", body: JSON.stringify({ query: PERMISSION, variables: { s: "bench-subject", p: "location" } }), token: "reader" },
      { name: "permissions", what: "`permissions` (10 checks)", body: JSON.stringify({ query: PERMISSIONS, variables: { checks } }), token: "reader" },
      { name: "me", what: "`me { consents }`", body: JSON.stringify({ query: ME }), token: "self" },
    ];
    // `me` answers with instants (since, expiresAt): its subject is recorded on both sides with one occurredAt,
    // taken after both services published their catalogues, so that equal answers mean equal evaluation.
    const seededAt = new Date().toISOString();
    const tokens = async (child: typeof compiled) => {
      await gqlOnce(child.child.url, RECORD, { input: { ...recordInput(ME_SUBJECT), occurredAt: seededAt } }, child.writer);
      return {
        reader: child.reader,
        self: await issueDevToken({ dataDir: child.child.dataDir!, sub: ME_SUBJECT, scope: "consent:self", ttlSeconds: 86_400 }),
      };
    };
    const sides = [
      { side: "compiled" as const, url: compiled.child.url, tokens: await tokens(compiled) },
      { side: "interpreted" as const, url: interpreted.child.url, tokens: await tokens(interpreted) },
    ];
    // Both services answer the same before either is loaded.
    for (const r of reads) {
      const { query, variables } = JSON.parse(r.body) as { query: string; variables?: Record<string, unknown> };
      const [a, b] = await Promise.all(sides.map((s) => gqlOnce(s.url, query, variables ?? {}, s.tokens[r.token])));
      if (JSON.stringify(a) !== JSON.stringify(b)) throw new Error(`${r.name}: the compiled and interpreted answers differ: ${JSON.stringify(a).slice(0, 400)} against ${JSON.stringify(b).slice(0, 400)}`);
    }
    for (const s of sides) for (const r of reads) await load(s.url, { seconds: 1, headers: { ...json, authorization: `Bearer ${s.tokens[r.token]}` }, body: r.body });
    const runs: Record<string, { compiled: LoadResult; interpreted: LoadResult }[]> = {};
    for (let i = 0; i < o.runs; i++)
      for (const r of reads) {
        // Alternate which side goes first, so that neither always meets a warmer or cooler machine.
        const order = i % 2 === 0 ? sides : [...sides].reverse();
        const got: Partial<Record<"compiled" | "interpreted", LoadResult>> = {};
        for (const s of order) {
          const x = await load(s.url, { seconds, headers: { ...json, authorization: `Bearer ${s.tokens[r.token]}` }, body: r.body });
          if (x.bad > 0) throw new Error(`${r.name} (${s.side}): ${x.bad} of ${x.requests} requests failed`);
          got[s.side] = x;
        }
        (runs[r.name] ??= []).push({ compiled: got.compiled!, interpreted: got.interpreted! });
      }
    return reads.map((r) => {
      const xs = runs[r.name]!;
      const m = (f: (x: (typeof xs)[number]) => number) => median(xs.map(f));
      const ratio = m((x) => x.compiled.rps / x.interpreted.rps);
      return {
        bench: "compiled-reads",
        what: `${r.what} over HTTP compiled by graphql-jit, ${CONNECTIONS} connections`,
        figure: `${fmt(m((x) => x.compiled.rps))} req/s, p99 ${fmt(m((x) => x.compiled.p99))} ms`,
        baseline: `${fmt(m((x) => x.interpreted.rps))} req/s on graphql-js (p99 ${fmt(m((x) => x.interpreted.p99))} ms)`,
        ratio,
        aim: "> 1x (kept only where it pays)",
        met: ratio > 1,
        how: `The same service in two child processes, one with GRAPHQL_JIT=false; the same request (a seeded subject, a cached ES256 token) loaded on each in turn by autocannon in the bench process, ${seconds} s per load, sides alternating first; median of ${o.runs} runs of the per-run ratio. The answers of both are checked equal first.`,
        values: { ratio, rps: m((x) => x.compiled.rps), interpretedRps: m((x) => x.interpreted.rps) },
      };
    });
  } finally {
    await Promise.allSettled([compiled.child.stop(), interpreted.child.stop()]);
  }
}
