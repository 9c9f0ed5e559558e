// The third security review's attacks, as one module: the reliability test (test/reliability/attacks.test.ts)
// runs them once together and asserts safety bounds; the attack bench (bench/attack.ts) runs them for a
// fixed time and alone, and reports /healthz, RSS and the server's loop stalls. No test runner here.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { type Client, createClient } from "graphql-ws";
import WebSocket from "ws";
import { commandProgram } from "../src/application/handle-command.js";
import { issueDevToken } from "../src/auth/dev-keys.js";
import { publishCatalogDir } from "../src/catalog-dir.js";
import { Ledger } from "../src/ledger.js";
import { SqliteStorage } from "../src/storage/sqlite/sqlite-storage.js";
import { RawWsClient } from "./raw-ws.js";

/** Subjects who accepted the shipped policy before the attacks: what a version's coming into effect and replays walk. */
export const ATTACK_SUBJECTS = 3_000;

/** The largest evidence a command may carry. */
export const MAX_EVIDENCE = { channel: "c".repeat(256), formId: "f".repeat(256), locale: "l".repeat(256), ipAddress: "i".repeat(256), userAgent: "u".repeat(1_024) };

/**
 * Writes the population straight into a SQLite database before the server starts (seconds, not
 * minutes of requests): `subjects` subjects who accepted the shipped policy, and one subject with the
 * largest evidence on three events.
 */
export async function populateAttackLedger(dbPath: string, catalogDir: string, subjects = ATTACK_SUBJECTS): Promise<void> {
  const ledger = await Ledger.open(await SqliteStorage.open({ commands: commandProgram, path: dbPath }));
  try {
    await publishCatalogDir(ledger, catalogDir);
    const record = (id: string, grant: string[], evidence: Record<string, string> | null = null) =>
      ledger.recordConsent(id, { policyId: null, policyVersion: 1, acceptPolicy: true, grant, withdraw: [], occurredAt: null, evidence, expectedVersion: null }, { kind: "SUBJECT", id });
    for (let i = 0; i < subjects; i += 100)
      await Promise.all(Array.from({ length: Math.min(100, subjects - i) }, (_, j) => record(`pop-${String(i + j).padStart(5, "0")}`, ["location"])));
    await record("bytes-attacker", ["location", "access-analytics"], MAX_EVIDENCE);
  } finally {
    await ledger.close();
  }
}

/** The callers the attacks act as. */
export interface AttackTokens {
  victim: string;
  bytes: string;
  writer: string;
  auditor: string;
  officer: string;
  invisible: string;
}

export async function attackTokens(dataDir: string): Promise<AttackTokens> {
  const token = (sub: string, scope: string) => issueDevToken({ dataDir, sub, scope, ttlSeconds: 86_400 });
  const [victim, bytes, writer, auditor, officer, invisible] = await Promise.all([
    token("pop-00001", "consent:self"),
    token("bytes-attacker", "consent:self"),
    token("write-attacker", "consent:self"),
    token("slow-auditor", "ledger:read"),
    token("attack-officer", "policy:write"),
    token("\u3164", "consent:self"),
  ]);
  return { victim, bytes, writer, auditor, officer, invisible };
}

/** One GraphQL request over HTTP; the answer's status and parsed body (or null when the body is not JSON). */
export async function gql(url: string, query: string, variables: Record<string, unknown> | undefined, token: string | null): Promise<{ status: number; body: { data?: unknown; errors?: unknown[] } | null }> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const text = await res.text();
  try {
    return { status: res.status, body: JSON.parse(text) as { data?: unknown; errors?: unknown[] } };
  } catch {
    return { status: res.status, body: null };
  }
}

const wsClient = (url: string, token: string): Client =>
  createClient({ url: url.replace(/^http/, "ws"), webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${token}` }, retryAttempts: 0, lazy: true });

/** Resolves on the subscription's first message, its error or its end, then stops it. */
const firstMessage = (client: Client, query: string): Promise<void> =>
  new Promise<void>((resolve) => {
    const stop = client.subscribe({ query }, { next: () => (stop(), resolve()), error: () => resolve(), complete: () => resolve() });
  });

/** Resolves once `cond` holds, looking again every `intervalMs`; rejects naming `what` after `timeoutMs`. */
async function until(what: string, cond: () => boolean | Promise<boolean>, timeoutMs: number, intervalMs = 200): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/**
 * Warms the server up, so the first requests' compilation is not counted as the attacks' cost, and
 * waits for the transparency log to take in the population written before the start (its catch-up
 * is not an attack).
 */
export async function settle(url: string, tokens: AttackTokens, timeoutMs = 120_000): Promise<void> {
  await gql(url, `{ me { id } }`, {}, tokens.victim);
  const warm = wsClient(url, tokens.victim);
  await firstMessage(warm, `subscription { consentChanged(after: "0000000000000000") { cursor } }`);
  await warm.dispose();
  await until(
    "the transparency log taking in the population",
    async () => {
      const r = await gql(url, `{ ledgerCheckpoint { treeSize } ledgerHead { position } }`, {}, tokens.auditor);
      const d = r.body?.data as { ledgerCheckpoint: { treeSize: number }; ledgerHead: { position: string } } | undefined;
      return d ? d.ledgerCheckpoint.treeSize === Number(d.ledgerHead.position) : false;
    },
    timeoutMs,
  );
}

const aliases = (n: number, field: string) => Array.from({ length: n }, (_, i) => `a${i}: ${field}`).join(" ");

/** Runs `n` tasks with at most `width` at once; a task's failure is the attack's answer, not an error. */
async function pool(n: number, width: number, task: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => { for (let i = next++; i < n; i = next++) await task(i).catch(() => undefined); }));
}

const PUBLISH = `mutation($input: PublishPolicyVersionInput!) { publishPolicyVersion(input: $input) { policyId number } }`;
const RECORD = `mutation($i: RecordConsentInput!) { recordConsent(input: $i) { subject { version } } }`;

/**
 * One attack: `round` does it once. `once` marks one that a fixed-time run does not repeat: the unread
 * connections (their round holds what it opened until `close`) and the publications (an officer's
 * act: a version coming into effect for everyone is the attack, not an officer publishing on a loop).
 */
export interface Attack {
  /** A short name (the bench's rows and `ATTACKS=` select by it). */
  name: string;
  /** The review's finding it attacks. */
  finding: number;
  round(): Promise<unknown>;
  once?: boolean;
}

/** The attacks, and what they opened that must be closed once they are over. */
export interface AttackSet {
  attacks: Attack[];
  close(): Promise<void>;
}

export function attackSet(url: string, tokens: AttackTokens, catalogDir: string): AttackSet {
  const { victim, bytes, writer, auditor, officer, invisible } = tokens;
  const v1 = JSON.parse(readFileSync(join(catalogDir, "clavis-privacy.v1.json"), "utf8")) as { purposes: unknown[] };
  const post = (query: string, variables: Record<string, unknown> | undefined, token: string | null) => gql(url, query, variables, token);
  const raw: RawWsClient[] = [];
  const publish = (policyId: string, extra: Record<string, unknown>) =>
    post(PUBLISH, { input: { policyId, effectiveAt: new Date().toISOString(), documentDigest: "b".repeat(64), purposes: v1.purposes, ...extra } }, officer);
  const attacks: Attack[] = [
    {
      // 1. One WebSocket with 100 consentChanged replays from position 0.
      name: "replays",
      finding: 1,
      round: async () => {
        const c = wsClient(url, victim);
        try {
          await Promise.all(Array.from({ length: 100 }, () => firstMessage(c, `subscription { consentChanged(after: "0000000000000000") { cursor subjectId current { status } } }`)));
        } finally {
          await c.dispose();
        }
      },
    },
    // 1. A version coming into effect at once for every subject.
    { name: "in-effect", finding: 1, once: true, round: () => publish("clavis-privacy", { title: "v2", requiresConsent: false, changeSummary: "in effect at once" }) },
    // 2. Answers priced by count: eight canonical-heavy histories at once.
    { name: "canonical", finding: 2, round: () => pool(8, 8, () => post(`{ me { history(first: 3) { edges { node { ${aliases(3_000, "canonical")} } } } } }`, {}, bytes)) },
    {
      // 2. Two connections with 40 subscriptions each that stop reading (held until the attacks end).
      name: "unread",
      finding: 2,
      once: true,
      round: async () => {
        for (let k = 0; k < 2; k++) {
          const r = await RawWsClient.open(url);
          raw.push(r);
          r.send({ type: "connection_init", payload: { authorization: `Bearer ${auditor}` } });
          await r.until(() => r.messages().some((m) => m.type === "connection_ack"), "connection_ack");
          r.pause();
          for (let i = 0; i < 40; i++) r.send({ id: `s${i}`, type: "subscribe", payload: { query: `subscription { ledgerEvents(after: "0000000000000000") { position ${aliases(20, "canonical")} data } }` } });
        }
      },
    },
    {
      // 3. Writes to one subject, then ten exports of its record at once.
      name: "writes-exports",
      finding: 3,
      round: async () => {
        await post(RECORD, { i: { policyVersion: 1, acceptPolicy: true } }, writer);
        await pool(1_200, 20, (i) => post(RECORD, { i: { policyVersion: 1, [i % 2 ? "withdraw" : "grant"]: ["location", "access-analytics", "traffic-analysis"], evidence: MAX_EVIDENCE } }, writer));
        await pool(10, 10, () => post(`query { subjectExport(subjectId: "write-attacker") }`, {}, writer));
      },
    },
    // 4. Validation CPU, with a token and without, each request behind a random comment.
    { name: "validation-token", finding: 4, round: () => pool(20, 4, () => post(`# ${Math.random()}\n{ me { ${"history(first: 3) { edges { node { id } } } ".repeat(200)} } }`, {}, bytes)) },
    { name: "validation-tokenless", finding: 4, round: () => pool(20, 4, () => post(`# ${Math.random()}\n{ ${"externalTransmissions { purposeId } ".repeat(270)} }`, {}, null)) },
    // 6, 8, 9, 10 as plain requests (their fixes are elsewhere): only health, memory and the log are judged.
    { name: "second-base", finding: 6, once: true, round: () => publish("second-base", { title: "another base", requiresConsent: true, documentDigest: "c".repeat(64), changeSummary: "second base policy" }) },
    { name: "javascript-url", finding: 8, once: true, round: () => publish("js-url", { title: "js", requiresConsent: true, documentDigest: "d".repeat(64), documentUrl: "javascript:alert(1)", changeSummary: "x" }) },
    { name: "invisible-id", finding: 9, round: () => post(`{ me { id } }`, {}, invisible) },
    {
      name: "deep-variable",
      finding: 10,
      round: () =>
        fetch(url, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${victim}` },
          body: `{"query":"query($v: JSON) { me { id } }","variables":{"v":${"[".repeat(400_000)}${"]".repeat(400_000)}}}`,
        }).then((r) => r.text()),
    },
  ];
  return {
    attacks,
    close: async () => {
      for (const r of raw.splice(0)) r.close();
    },
  };
}

/**
 * Runs the attacks together: each once, or (with `untilMs`, an epoch time) round after round until
 * then (an attack marked `once` runs one round). Resolves when all are over or at `capMs`.
 */
export async function runAttacks(attacks: readonly Attack[], opts: { untilMs?: number; capMs: number }): Promise<void> {
  const cap = new Promise<void>((resolve) => setTimeout(resolve, opts.capMs).unref());
  const { untilMs } = opts;
  const run = async (a: Attack) => {
    do await a.round().catch(() => undefined);
    while (untilMs !== undefined && !a.once && Date.now() < untilMs);
  };
  await Promise.race([Promise.allSettled(attacks.map(run)), cap]);
}

/** Probes taken before the attacks start: the same run's idle baseline. */
export const BASELINE_PROBES = 40;

export interface ProbeResult {
  /** Each probe as [when it started (epoch ms), how long it took (ms)]. */
  probes: [number, number][];
  /** RSS samples as [when (epoch ms), MiB] of the process and its children summed. */
  rss: [number, number][];
}

/**
 * Probes /healthz one request at a time (10 ms apart) and samples the RSS of `pid` and its children
 * every 100 ms, on a thread of its own so that the attackers' work in this process does not delay the
 * probe's own clock.
 */
export interface Probe {
  /** Resolves once the probe has answered `BASELINE_PROBES` times with the server idle. */
  warm: Promise<void>;
  stop(): Promise<ProbeResult>;
}

export function startProbe(url: string, pid: number): Probe {
  const worker = new Worker(
    `
    const { parentPort, workerData } = require("node:worker_threads");
    const http = require("node:http");
    const { readFileSync } = require("node:fs");
    const probes = [];
    const rssMiB = [];
    let running = true;
    parentPort.on("message", () => { running = false; });
    const kib = (pid) => { const m = /VmRSS:\\s+(\\d+) kB/.exec(readFileSync("/proc/" + pid + "/status", "utf8")); return m ? Number(m[1]) : 0; };
    const children = (pid) => { try { return readFileSync("/proc/" + pid + "/task/" + pid + "/children", "utf8").trim().split(" ").filter(Boolean).map(Number); } catch { return []; } };
    const rss = () => { try { const total = children(workerData.pid).reduce((sum, c) => sum + kib(c), kib(workerData.pid)); rssMiB.push([Date.now(), total / 1024]); } catch {} };
    const sampler = setInterval(rss, 100);
    // The first requests warm this thread up; they are not counted.
    let skip = 5;
    const done = (at, ms) => {
      if (skip > 0) skip--;
      else probes.push([at, ms]);
      if (probes.length === workerData.baseline) parentPort.postMessage("warm");
      setTimeout(probe, 10);
    };
    const probe = () => {
      if (!running) { clearInterval(sampler); rss(); parentPort.postMessage({ probes, rss: rssMiB }); return; }
      const at = Date.now();
      const started = performance.now();
      http.get(workerData.url, { agent: false }, (res) => {
        res.resume();
        res.on("end", () => done(at, performance.now() - started));
      }).on("error", () => done(at, Infinity));
    };
    probe();
    `,
    { eval: true, workerData: { url: url.replace(/\/graphql$/, "/healthz"), pid, baseline: BASELINE_PROBES } },
  );
  let result: ((m: ProbeResult) => void) | null = null;
  const warm = new Promise<void>((resolve) =>
    worker.on("message", (m: "warm" | ProbeResult) => {
      if (m === "warm") resolve();
      else {
        void worker.terminate();
        result?.(m);
      }
    }),
  );
  return {
    warm,
    stop: () =>
      new Promise((resolve) => {
        result = resolve;
        worker.postMessage("stop");
      }),
  };
}

/** The probe's figures split at `attackStart`: idle before, under attack after. */
export function splitProbes(r: ProbeResult, attackStart: number): { idle: number[]; attacked: number[]; idleRss: number[]; attackedRss: number[] } {
  return {
    idle: r.probes.filter(([at]) => at < attackStart).map(([, ms]) => ms),
    attacked: r.probes.filter(([at]) => at >= attackStart).map(([, ms]) => ms),
    idleRss: r.rss.filter(([at]) => at < attackStart).map(([, mib]) => mib),
    attackedRss: r.rss.filter(([at]) => at >= attackStart).map(([, mib]) => mib),
  };
}
