// The third security review's attacks, run together for a bounded number of requests against one real
// server process (loopback only): /healthz stays quick, memory stays bounded, nothing is logged as an error.
// The attacks themselves live in bench/attack-suite.ts, which the attack bench (bench/attack.ts) runs too.
import { rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { attackSet, attackTokens, gql, populateAttackLedger, runAttacks, settle, splitProbes, startProbe } from "../../bench/attack-suite.js";
import { makeTempDir } from "../support/common.js";
import { type ServiceEnv, type ServiceProcess, REPO_ROOT, buildService, startService } from "./server-process.js";

/**
 * The bounds this test asserts (docs/security.md names them). /healthz answers in a few ms when idle;
 * the bound leaves room for a loaded 2-core CI machine, where the attacks' burst of requests queues
 * the probe behind them, and is still far below the many seconds the unbounded attacks blocked it.
 * The aim, p99 under 100 ms, is measured by the attack bench (bench/attack.ts) and not asserted here:
 * on a shared 2-core machine the probe also waits for a core.
 */
const HEALTHZ_P99_MS = 3_000;
const RSS_BOUND_MIB = 768;
/** No attack runs longer than this; they all end well before it on a fixed server. */
const ATTACK_CAP_MS = 60_000;
const CATALOG_DIR = join(REPO_ROOT, "data", "policies");

let buildDir: string;
let dataDir: string;
let env: ServiceEnv;
let server: ServiceProcess | null = null;

beforeAll(async () => {
  buildDir = buildService();
  dataDir = makeTempDir("ledger-attacks-");
  env = { dataDir, dbPath: join(dataDir, "ledger.db") };
  await populateAttackLedger(env.dbPath, CATALOG_DIR);
}, 300_000);

afterAll(async () => {
  if (server && server.child.exitCode === null) {
    server.child.kill("SIGKILL");
    await server.exited;
  }
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(buildDir, { recursive: true, force: true });
});

const p99 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * 0.99))]!;

describe("the third review's attacks together against one server process", () => {
  it(`keeps /healthz p99 under ${HEALTHZ_P99_MS} ms, RSS under ${RSS_BOUND_MIB} MiB and logs no error`, async () => {
    server = await startService(buildDir, env);
    const url = server.url;
    const tokens = await attackTokens(dataDir);
    await settle(url, tokens);

    const probe = startProbe(url, server.child.pid!);
    await probe.warm;
    const attackStart = Date.now();
    const set = attackSet(url, tokens, CATALOG_DIR);
    // ATTACKS=replays,canonical runs only those (by name), to measure one attack's figures on its own.
    const only = process.env["ATTACKS"]?.split(",");
    await runAttacks(only ? set.attacks.filter((a) => only.includes(a.name)) : set.attacks, { capMs: ATTACK_CAP_MS });
    const result = await probe.stop();
    const attackEnd = Date.now();
    await set.close();
    const { idle, attacked: latencies, attackedRss: rssMiB } = splitProbes(result, attackStart);

    const worst = Math.max(...latencies);
    const peak = Math.max(...rssMiB);
    const report =
      `attacks ${attackEnd - attackStart} ms; healthz idle: ${idle.length} probes, p99 ${p99(idle).toFixed(0)} ms; ` +
      `under attack: ${latencies.length} probes, p99 ${p99(latencies).toFixed(0)} ms, max ${worst.toFixed(0)} ms; RSS peak ${peak.toFixed(0)} MiB`;
    // The figures, for the review's before-and-after note.
    process.stdout.write(`${report}\n`);
    expect(latencies.length).toBeGreaterThan(10);
    expect(p99(latencies), report).toBeLessThan(HEALTHZ_P99_MS);
    expect(peak, report).toBeLessThan(RSS_BOUND_MIB);
    expect(server.errorLogs()).toEqual([]);
    // The server is still serving.
    expect((await gql(url, `{ me { id } }`, {}, tokens.victim)).status).toBe(200);
  }, 400_000);
});
