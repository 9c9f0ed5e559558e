// The hot reads (permission, permissions, me) over HTTP, compiled by graphql-jit against the same service on graphql-js.
import { issueDevToken } from "../src/auth/dev-keys.js";
import { CONNECTIONS, PERMISSION, RECORD, gqlOnce, recordInput, startLedgerChild } from "./http.js";
import { PERMISSIONS, type PairedRead, type PairedSide, pairedLoads, pairedMedians, tenChecks } from "./paired-loads.js";
import { type BenchOptions, type BenchRow, fmt } from "./util.js";

const ME = `{ me { id status version consents { purpose { id } status permitted reason since expiresAt } } }`;
const ME_SUBJECT = "bench-me";

interface Read extends PairedRead {
  what: string;
  token: "reader" | "self";
}

export async function benchCompiledReads(o: BenchOptions): Promise<BenchRow[]> {
  const seconds = o.quick ? 2 : 6;
  const compiled = await startLedgerChild("ledger");
  const interpreted = await startLedgerChild("ledger-interpreted");
  try {
    const reads: Read[] = [
      { name: "permission", what: "`permission`", query: PERMISSION, variables: { s: "bench-subject", p: "location" }, token: "reader" },
      { name: "permissions", what: "`permissions` (10 checks)", query: PERMISSIONS, variables: { checks: tenChecks() }, token: "reader" },
      { name: "me", what: "`me { consents }`", query: ME, token: "self" },
    ];
    // `me` answers with instants (since, expiresAt): its subject is recorded on both sides with one occurredAt,
    // taken after both services published their catalogues, so that equal answers mean equal evaluation.
    const seededAt = new Date().toISOString();
    const side = async (name: string, child: typeof compiled): Promise<PairedSide<Read>> => {
      await gqlOnce(child.child.url, RECORD, { input: { ...recordInput(ME_SUBJECT), occurredAt: seededAt } }, child.writer);
      const tokens = {
        reader: child.reader,
        self: await issueDevToken({ dataDir: child.child.dataDir!, sub: ME_SUBJECT, scope: "consent:self", ttlSeconds: 86_400 }),
      };
      return { side: name, url: child.child.url, token: (r) => tokens[r.token] };
    };
    const sides = [await side("compiled", compiled), await side("interpreted", interpreted)] as const;
    // Checked to answer alike, then loaded in turn.
    const runs = await pairedLoads(sides, reads, { runs: o.runs, seconds }, (r, a, b) => `${r.name}: the compiled and interpreted answers differ: ${JSON.stringify(a).slice(0, 400)} against ${JSON.stringify(b).slice(0, 400)}`);
    return reads.map((r) => {
      const f = pairedMedians(runs[r.name]!);
      return {
        bench: "compiled-reads",
        what: `${r.what} over HTTP compiled by graphql-jit, ${CONNECTIONS} connections`,
        figure: `${fmt(f.rps)} req/s, p99 ${fmt(f.p99)} ms`,
        baseline: `${fmt(f.baseRps)} req/s on graphql-js (p99 ${fmt(f.baseP99)} ms)`,
        ratio: f.ratio,
        aim: "> 1x (kept only where it pays)",
        met: f.ratio > 1,
        how: `The same service in two child processes, one with GRAPHQL_JIT=false; the same request (a seeded subject, a cached ES256 token) loaded on each in turn by autocannon in the bench process, ${seconds} s per load, sides alternating first; median of ${o.runs} runs of the per-run ratio. The answers of both are checked equal first.`,
        values: { ratio: f.ratio, rps: f.rps, interpretedRps: f.baseRps },
      };
    });
  } finally {
    await Promise.allSettled([compiled.child.stop(), interpreted.child.stop()]);
  }
}
