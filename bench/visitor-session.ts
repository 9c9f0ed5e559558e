// POST /visitor-session against `permission` in the same run, and the browser SDK's gzipped sizes.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { CONNECTIONS, JSON_HEADERS, type LoadResult, PERMISSION, allAnswered, gqlOnce, load, startLedgerChild } from "./http.js";
import { type BenchOptions, type BenchRow, fmt, median, notMeasured } from "./util.js";

const SDK_AIM_BYTES = 15 * 1024;

export async function benchVisitorSession(o: BenchOptions): Promise<BenchRow[]> {
  const seconds = o.quick ? 2 : 8;
  // The per-address limit is for the open internet; the load generator is one address.
  const ledger = await startLedgerChild("ledger", { VISITOR_SESSIONS_PER_MINUTE: "1000000" });
  const base = ledger.child.url.replace(/\/graphql$/, "");
  const rows: BenchRow[] = [];
  try {
    const opened = await fetch(`${base}/visitor-session`, { method: "POST" });
    if (opened.status !== 200) throw new Error(`POST /visitor-session answered ${opened.status}`);
    const permissionBody = JSON.stringify({ query: PERMISSION, variables: { s: "bench-subject", p: "location" } });
    await gqlOnce(ledger.child.url, PERMISSION, { s: "bench-subject", p: "location" }, ledger.reader);
    const reader = { ...JSON_HEADERS, authorization: `Bearer ${ledger.reader}` };
    await load(`${base}/visitor-session`, { seconds: 1 });
    await load(ledger.child.url, { seconds: 1, headers: reader, body: permissionBody });
    const runs: { visitor: LoadResult; permission: LoadResult }[] = [];
    for (let r = 0; r < o.runs; r++) {
      const p = await load(ledger.child.url, { seconds, headers: reader, body: permissionBody });
      const v = await load(`${base}/visitor-session`, { seconds });
      allAnswered({ permission: p, "visitor-session": v });
      runs.push({ visitor: v, permission: p });
    }
    const m = (f: (x: (typeof runs)[number]) => number) => median(runs.map(f));
    const ratio = m((x) => x.visitor.rps / x.permission.rps);
    rows.push({
      bench: "visitor-session",
      what: `\`POST /visitor-session\`, ${CONNECTIONS} connections`,
      figure: `${fmt(m((x) => x.visitor.rps))} req/s, p50 ${fmt(m((x) => x.visitor.p50))} ms, p99 ${fmt(m((x) => x.visitor.p99))} ms`,
      baseline: `${fmt(m((x) => x.permission.rps))} req/s \`permission\` (p99 ${fmt(m((x) => x.permission.p99))} ms)`,
      ratio,
      aim: ">= 0.5x",
      met: ratio >= 0.5,
      how: `A new visitor per request: 128 random bits for the id and an Ed25519-signed JWT (jose), answered as JSON by the service's own route (no GraphQL); baseline: \`permission\` with a cached consent:read token on the same service, loaded just before in the same run. autocannon in the bench process, ${CONNECTIONS} connections, ${seconds} s per load; median of ${o.runs} runs. Every load must finish with zero errors, timeouts and non-2xx answers.`,
      values: { ratio, rps: m((x) => x.visitor.rps), permissionRps: m((x) => x.permission.rps) },
    });
  } finally {
    await ledger.child.stop();
  }
  rows.push(sdkSizes());
  return rows;
}

/** The gzipped sizes of the served SDK files, as `npm run build` writes them. */
function sdkSizes(): BenchRow {
  const what = "gzipped size of /sdk/banner.js + /sdk/consent.js";
  const how = "gzip -9 of the files `npm run build` writes to dist/web/sdk (vite, minified); banner.js carries the part of the client it uses, consent.js the whole client with graphql-ws.";
  const dir = join("dist", "web", "sdk");
  if (!existsSync(join(dir, "banner.js"))) return notMeasured("visitor-session", what, "—", "<= 15 KB", how, "dist/web/sdk is not built (npm run build)");
  const gz = (f: string) => gzipSync(readFileSync(join(dir, f)), { level: 9 }).length;
  const banner = gz("banner.js");
  const client = gz("consent.js");
  return {
    bench: "visitor-session",
    what,
    figure: `${fmt(banner / 1024, 1)} KB + ${fmt(client / 1024, 1)} KB = ${fmt((banner + client) / 1024, 1)} KB`,
    baseline: "—",
    ratio: null,
    aim: "<= 15 KB",
    met: banner + client <= SDK_AIM_BYTES,
    how,
    values: { bannerBytes: banner, clientBytes: client },
  };
}
