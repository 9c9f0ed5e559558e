// `permission` and `recordConsent` on the text path and on the trusted-document path (documentId), against
// bare Apollo and against node:http alone answering a fixed JSON (the floor of any Node HTTP service),
// with the CPU time each server process spends per request (from /proc).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sha256Hex } from "../src/graphql/trusted-documents.js";
import { CONNECTIONS, HELLO, PERMISSION, RECORD, type Child, type LoadResult, load, recordInput, startChild, startLedgerChild } from "./http.js";
import { type BenchOptions, type BenchRow, fmt, median } from "./util.js";

const TICK_US = 10_000; // USER_HZ is 100 on Linux: one tick of utime/stime is 10 ms

/** CPU time (user + system) in clock ticks: the whole process, and its main thread alone. */
function cpuTicks(pid: number): { process: number; main: number } {
  const read = (file: string) => {
    const stat = readFileSync(file, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(fields[11]) + Number(fields[12]); // utime and stime, fields 14 and 15 of stat(5)
  };
  return { process: read(`/proc/${pid}/stat`), main: read(`/proc/${pid}/task/${pid}/stat`) };
}

type Measured = LoadResult & { cpuUs: number; mainCpuUs: number };

/** One load against a child, with the child's CPU time per request over it. */
async function measured(child: Child, opts: Parameters<typeof load>[1]): Promise<Measured> {
  const before = cpuTicks(child.pid);
  const r = await load(child.url, opts);
  const after = cpuTicks(child.pid);
  if (r.bad > 0) throw new Error(`${r.bad} of ${r.requests} requests to ${child.url} failed (errors, timeouts or non-2xx)`);
  const per = (ticks: number) => (ticks * TICK_US) / Math.max(1, r.requests);
  return { ...r, cpuUs: per(after.process - before.process), mainCpuUs: per(after.main - before.main) };
}

export async function benchHttpTrusted(o: BenchOptions): Promise<BenchRow[]> {
  const seconds = o.quick ? 2 : 8;
  const dir = mkdtempSync(join(tmpdir(), "ledger-bench-trusted-"));
  const file = join(dir, "persisted-documents.json");
  writeFileSync(file, JSON.stringify({ [`sha256:${sha256Hex(PERMISSION)}`]: PERMISSION, [`sha256:${sha256Hex(RECORD)}`]: RECORD }));
  const ledger = await startLedgerChild("ledger", { TRUSTED_DOCUMENTS: file });
  const apollo = await startChild("http-server.js", ["apollo"]);
  const raw = await startChild("http-server.js", ["raw"]);
  // The same service with every request through Apollo (HTTP_FAST_PATH=false): the path the fast path replaces.
  const viaApollo = await startLedgerChild("ledger", { TRUSTED_DOCUMENTS: file, HTTP_FAST_PATH: "false" });
  try {
    const json = { "content-type": "application/json" };
    const reader = { ...json, authorization: `Bearer ${ledger.reader}` };
    const apolloReader = { ...json, authorization: `Bearer ${viaApollo.reader}` };
    const writer = { ...json, authorization: `Bearer ${ledger.writer}` };
    const permissionVariables = { s: "bench-subject", p: "location" };
    const bodies = {
      hello: JSON.stringify({ query: HELLO }),
      permissionText: JSON.stringify({ query: PERMISSION, variables: permissionVariables }),
      permissionTrusted: JSON.stringify({ documentId: `sha256:${sha256Hex(PERMISSION)}`, variables: permissionVariables }),
    };
    let n = 0;
    const record = (trusted: boolean) => () =>
      JSON.stringify({ ...(trusted ? { documentId: sha256Hex(RECORD) } : { query: RECORD }), variables: { input: recordInput(`trusted-${process.pid}-${n++}`) } });
    for (const [body, headers] of [[bodies.permissionText, reader], [bodies.permissionTrusted, reader]] as const) {
      const res = await fetch(ledger.child.url, { method: "POST", headers, body });
      const answer = (await res.json()) as { data?: { permission?: { permitted?: boolean } } };
      if (answer.data?.permission?.permitted !== true) throw new Error(`the seeded subject is not permitted: ${JSON.stringify(answer)}`);
    }
    // Warm-up: JIT on every side, the ledger's statement caches, the token cache.
    await load(raw.url, { seconds: 1, headers: json, body: bodies.hello });
    await load(apollo.url, { seconds: 1, headers: json, body: bodies.hello });
    await load(ledger.child.url, { seconds: 1, headers: reader, body: bodies.permissionText });
    await load(ledger.child.url, { seconds: 1, headers: reader, body: bodies.permissionTrusted });
    await load(viaApollo.child.url, { seconds: 1, headers: apolloReader, body: bodies.permissionText });
    const runs: Record<"raw" | "apollo" | "permViaApollo" | "permText" | "permTrusted" | "recText" | "recTrusted", Measured>[] = [];
    for (let r = 0; r < o.runs; r++) {
      runs.push({
        raw: await measured(raw, { seconds, headers: json, body: bodies.hello }),
        apollo: await measured(apollo, { seconds, headers: json, body: bodies.hello }),
        permViaApollo: await measured(viaApollo.child, { seconds, headers: apolloReader, body: bodies.permissionText }),
        permText: await measured(ledger.child, { seconds, headers: reader, body: bodies.permissionText }),
        permTrusted: await measured(ledger.child, { seconds, headers: reader, body: bodies.permissionTrusted }),
        recText: await measured(ledger.child, { seconds, headers: writer, body: record(false) }),
        recTrusted: await measured(ledger.child, { seconds, headers: writer, body: record(true) }),
      });
    }
    type Key = keyof (typeof runs)[number];
    const m = (f: (x: (typeof runs)[number]) => number) => median(runs.map(f));
    const rps = (k: Key) => m((x) => x[k].rps);
    const vsApollo = (k: Key) => m((x) => x[k].rps / x.apollo.rps);
    const vsRaw = (k: Key) => m((x) => x[k].rps / x.raw.rps);
    const cpu = (k: Key) => m((x) => x[k].cpuUs);
    const mainCpu = (k: Key) => m((x) => x[k].mainCpuUs);
    const figure = (k: Key) => `${fmt(rps(k))} req/s, p50 ${fmt(m((x) => x[k].p50))} ms, p99 ${fmt(m((x) => x[k].p99))} ms; CPU ${fmt(cpu(k))} µs/request (main thread ${fmt(mainCpu(k))} µs)`;
    const baseline = `${fmt(rps("apollo"))} req/s bare Apollo (CPU ${fmt(cpu("apollo"))} µs/request), ${fmt(rps("raw"))} req/s raw node:http (CPU ${fmt(cpu("raw"))} µs/request)`;
    const common = `autocannon in the bench process, ${CONNECTIONS} connections, ${seconds} s per load; each server in a child process of its own on 127.0.0.1, all loaded one after another in each run: raw node:http (reads the body, answers a fixed JSON), bare Apollo Server 5 answering \`{ hello }\` (mounted as src/http/server.ts mounts ours), then the service with TRUSTED_DOCUMENTS holding the two operations. The text path sends \`query\`; the trusted path sends \`documentId\` (sha256:...) instead. CPU per request is the server process's utime+stime delta over the load (from /proc/<pid>/stat, all threads; the main thread's from /proc/<pid>/task/<pid>/stat) divided by the requests answered. Ratios are medians of ${o.runs} runs' per-run ratios. The load generator shares the machine's 2 cores.`;
    const row = (what: string, k: Key, aim: string, met: boolean, how: string): BenchRow => ({
      bench: "http-trusted",
      what,
      figure: `${figure(k)}; ${vsRaw(k).toFixed(2)}x raw node:http`,
      baseline,
      ratio: vsApollo(k),
      aim,
      met,
      how: `${how} ${common}`,
      values: { ratio: vsApollo(k), vsRaw: vsRaw(k), rps: rps(k), cpuUs: cpu(k), mainCpuUs: mainCpu(k), apolloRps: rps("apollo"), rawRps: rps("raw"), apolloCpuUs: cpu("apollo"), apolloMainCpuUs: mainCpu("apollo") },
    });
    const permission = "`permission(subjectId, purposeId) { permitted reason status }` for a seeded subject, consent:read ES256 dev token (served from the verifier's cache).";
    const recordConsent = "`recordConsent` (accept the policy + grant 2 purposes with evidence: 3 events, a signed receipt) for a new subject on every request, consent:write token, file DB (WAL, synchronous=FULL).";
    const recP99 = (k: Key) => m((x) => x[k].p99);
    const cpuRatio = mainCpu("permTrusted") / mainCpu("apollo");
    return [
      row("raw `node:http` answering a fixed JSON (the floor)", "raw", "—", true, "node:http alone: the body read, a fixed JSON written."),
      row(`\`permission\`, text path through Apollo (HTTP_FAST_PATH=false), ${CONNECTIONS} connections`, "permViaApollo", "—", true, `${permission} The path every request took before the fast path.`),
      row(`\`permission\`, text path, ${CONNECTIONS} connections`, "permText", ">= 1.0x", vsApollo("permText") >= 1.0, permission),
      row(`\`permission\`, trusted document, ${CONNECTIONS} connections`, "permTrusted", ">= 4.0x (>= 0.5x raw)", vsApollo("permTrusted") >= 4.0 && vsRaw("permTrusted") >= 0.5, permission),
      row(`\`recordConsent\`, text path, ${CONNECTIONS} connections`, "recText", ">= 0.5x, p99 < 50 ms", vsApollo("recText") >= 0.5 && recP99("recText") < 50, recordConsent),
      row(`\`recordConsent\`, trusted document, ${CONNECTIONS} connections`, "recTrusted", ">= 0.7x, p99 < 50 ms", vsApollo("recTrusted") >= 0.7 && recP99("recTrusted") < 50, recordConsent),
      {
        bench: "http-trusted",
        what: "main-thread CPU per trusted `permission` against bare Apollo's per `{ hello }`",
        figure: `${fmt(mainCpu("permTrusted"))} µs (text path ${fmt(mainCpu("permText"))} µs; whole process ${fmt(cpu("permTrusted"))} µs)`,
        baseline: `${fmt(mainCpu("apollo"))} µs bare Apollo main thread (whole process ${fmt(cpu("apollo"))} µs)`,
        ratio: cpuRatio,
        aim: "<= 0.25x",
        met: cpuRatio <= 0.25,
        how: `The main thread's CPU per request under the loads above (lower is better). ${common}`,
        values: { ratio: cpuRatio, mainCpuUs: mainCpu("permTrusted"), apolloMainCpuUs: mainCpu("apollo") },
      },
    ];
  } finally {
    await Promise.allSettled([ledger.child.stop(), viaApollo.child.stop(), apollo.stop(), raw.stop()]);
    rmSync(dir, { recursive: true, force: true });
  }
}
