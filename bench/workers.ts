// WORKERS=1 against WORKERS=2 (docs/workers.md): `permission` and `recordConsent` throughput, and the
// CPU time per request summed over every process of the service (from /proc), loaded in turn in one run.
import { readFileSync } from "node:fs";
import { CONNECTIONS, type LoadResult, PERMISSION, RECORD, gqlOnce, load, recordInput, startLedgerChild } from "./http.js";
import { type BenchOptions, type BenchRow, fmt, fmtRatio, median } from "./util.js";

/** Clock ticks per second of /proc/<pid>/stat's utime and stime (USER_HZ: 100 on Linux). */
const TICKS_PER_SECOND = 100;

/** CPU seconds (user + system, all threads) `pid` has used so far. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the command name (in parentheses, which may hold spaces): state is field 3, utime 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

const cpuOf = (pids: readonly number[]): number => pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0);

interface Measured {
  load: LoadResult;
  /** CPU microseconds per answered request, over every process of the service. */
  cpuUs: number;
  /** The same, of the first process alone (the primary, with WORKERS > 1). */
  primaryUs: number;
}

async function measured(pids: readonly number[], run: () => Promise<LoadResult>): Promise<Measured> {
  const before = cpuOf(pids);
  const primaryBefore = cpuSeconds(pids[0]!);
  const r = await run();
  const cpu = cpuOf(pids) - before;
  const primary = cpuSeconds(pids[0]!) - primaryBefore;
  if (r.bad > 0) throw new Error(`${r.bad} of ${r.requests} requests failed (errors, timeouts or non-2xx)`);
  const ok = Math.max(r.ok, 1);
  return { load: r, cpuUs: (cpu * 1e6) / ok, primaryUs: (primary * 1e6) / ok };
}

const json = { "content-type": "application/json" };

export async function benchWorkers(o: BenchOptions): Promise<BenchRow[]> {
  const seconds = o.quick ? 2 : 8;
  const one = await startLedgerChild("ledger", { WORKERS: "1" });
  const two = await startLedgerChild("ledger", { WORKERS: "2" });
  try {
    const services = [
      { name: "1", s: one, pids: one.child.pids ?? [] },
      { name: "2", s: two, pids: two.child.pids ?? [] },
    ];
    if (services[1]!.pids.length !== 3) throw new Error(`WORKERS=2 should run 3 processes, the service reported ${JSON.stringify(services[1]!.pids)}`);
    const permissionBody = JSON.stringify({ query: PERMISSION, variables: { s: "bench-subject", p: "location" } });
    let n = 0;
    const recordBody = () => JSON.stringify({ query: RECORD, variables: { input: recordInput(`workers-${process.pid}-${n++}`) } });
    for (const { s } of services) {
      await gqlOnce(s.child.url, PERMISSION, { s: "bench-subject", p: "location" }, s.reader);
      // Warm-up: every worker's JIT and statement caches (32 connections reach every worker).
      await load(s.child.url, { seconds: 1, headers: { ...json, authorization: `Bearer ${s.reader}` }, body: permissionBody });
      await load(s.child.url, { seconds: 1, headers: { ...json, authorization: `Bearer ${s.writer}` }, body: recordBody });
    }
    const runs: Record<"permission" | "record", Record<string, Measured>>[] = [];
    for (let r = 0; r < o.runs; r++) {
      const run: (typeof runs)[number] = { permission: {}, record: {} };
      // Loaded in turn, alternating which goes first, so a drift in the machine's load falls on both.
      const order = r % 2 === 0 ? services : [...services].reverse();
      for (const { name, s, pids } of order)
        run.permission[name] = await measured(pids, () => load(s.child.url, { seconds, headers: { ...json, authorization: `Bearer ${s.reader}` }, body: permissionBody }));
      for (const { name, s, pids } of order)
        run.record[name] = await measured(pids, () => load(s.child.url, { seconds, headers: { ...json, authorization: `Bearer ${s.writer}` }, body: recordBody }));
      runs.push(run);
    }
    const rows: BenchRow[] = [];
    const common = `autocannon in the bench process, ${CONNECTIONS} connections, ${seconds} s per load, one service with WORKERS=1 and one with WORKERS=2 (a primary holding the SQLite writer thread, two worker processes serving the connections it hands them), each started by bench/http-server.ts, loaded in turn in each run (the order alternating from run to run); CPU is utime + stime from /proc/<pid>/stat of every process of the service (all its threads: the writer thread, V8's GC threads, libuv's pool), taken before and after each load, divided by the requests answered; median of ${o.runs} runs. The load generator shares the machine's cores with the service: with 2 cores, WORKERS=2 cannot add throughput, so the aim is on CPU per request (what more cores would turn into throughput), and the throughput is reported beside it.`;
    for (const [key, label, how] of [
      ["permission", "`permission`", "`permission(subjectId, purposeId)` for a seeded subject with a cached ES256 dev token"],
      ["record", "`recordConsent`", "`recordConsent` for a new subject on every request (3 events, sealed evidence, a signed receipt; FULL commits)"],
    ] as const) {
      const m = (name: string, f: (x: Measured) => number) => median(runs.map((x) => f(x[key][name]!)));
      const cpuRatio = median(runs.map((x) => x[key]["2"]!.cpuUs / x[key]["1"]!.cpuUs));
      const rpsRatio = median(runs.map((x) => x[key]["2"]!.load.rps / x[key]["1"]!.load.rps));
      const met = cpuRatio <= 1.1;
      rows.push({
        bench: "workers",
        what: `${label} CPU per request, WORKERS=2 against WORKERS=1, ${CONNECTIONS} connections`,
        figure: `${fmt(m("2", (x) => x.cpuUs))} µs CPU/request (${fmt(m("2", (x) => x.load.rps))} req/s, p99 ${fmt(m("2", (x) => x.load.p99))} ms)`,
        baseline: `${fmt(m("1", (x) => x.cpuUs))} µs CPU/request with WORKERS=1 (${fmt(m("1", (x) => x.load.rps))} req/s, p99 ${fmt(m("1", (x) => x.load.p99))} ms)`,
        ratio: cpuRatio,
        aim: "<= 1.10x (CPU per request within 10%; lower is better)",
        met,
        how: `${how}. Ratio = CPU per request with WORKERS=2 / with WORKERS=1 (throughput ratio ${fmtRatio(rpsRatio)}); of WORKERS=2's CPU per request the primary (accepting, relaying writes to its writer thread, which it holds, and sending each commit to the workers) used ${fmt(m("2", (x) => x.primaryUs))} µs. ${common}`,
        values: {
          cpuRatio,
          rpsRatio,
          cpuUs1: m("1", (x) => x.cpuUs),
          cpuUs2: m("2", (x) => x.cpuUs),
          primaryUs2: m("2", (x) => x.primaryUs),
          rps1: m("1", (x) => x.load.rps),
          rps2: m("2", (x) => x.load.rps),
        },
        ...(met
          ? {}
          : {
              note:
                key === "record"
                  ? "The primary's share (the column above: its SQLite writer thread, which WORKERS=1 also runs, plus relaying each write and sending each commit's events to every worker) is about what WORKERS=1 spends on its writer thread, so the extra CPU is the crossings: every write goes worker to primary to writer thread and back, and every commit's events are encoded once per worker and decoded by each (structured clone over the IPC channel, one wake-up per turn of the loop on each side), on top of the same request work. The rest is as for `permission`: two event loops each serving half the connections handle fewer requests per turn (more wake-ups and system calls per request), and three processes plus the load generator share 2 cores. What would move it: the workers writing to the writer thread without the primary's hop (a shared-memory queue), a commit's events sent only to workers that have subscribers (the others need the catalogue's changes and the head), and a machine where the load generator does not share the cores."
                  : "A `permission` read never reaches the primary (its share is the column above, about 1 µs), so the extra CPU is in the workers themselves: two event loops each serving half the connections handle fewer requests per turn of the loop (more epoll wake-ups, reads and writes per request, less batching of the answers), each process keeps its own JIT, caches and garbage collector warm, and three processes plus the load generator time-share 2 cores (context switches). More cores than load would turn the same per-request work into throughput; on this box the load generator competes for the same cores, so the figure is an upper bound of the overhead.",
            }),
      });
    }
    return rows;
  } finally {
    await Promise.allSettled([one.child.stop(), two.child.stop()]);
  }
}
