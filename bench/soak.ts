// The concurrency soak (`npm run soak [-- --seconds N]`): mixed reads, versioned writes and subscriptions for minutes, then checks nothing was lost, doubled or leaked.
import "reflect-metadata";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { createClient } from "graphql-ws";
import { pino } from "pino";
import WebSocket from "ws";
import { startApp } from "../src/app.js";
import { issueDevToken } from "../src/auth/dev-keys.js";
import { SCOPES } from "../src/auth/scopes.js";
import { loadConfig } from "../src/config.js";
import { openSqliteLedger, projectionRows, sqlite } from "./util.js";

const here = dirname(fileURLToPath(import.meta.url));
/** The repository root: dist/bench/ when compiled, bench/ under vitest. */
const root = existsSync(join(here, "..", "package.json")) ? resolve(here, "..") : resolve(here, "..", "..");

export interface SoakOptions {
  seconds: number;
  /** Concurrent HTTP clients, each one request at a time. */
  clients: number;
  /** Subjects shared by all clients: few enough that versioned writes collide. */
  subjects: number;
  /** WebSocket subscribers per kind (ledgerEvents, consentChanged). */
  subscribers: number;
  /** Share of a client's operations that are writes (the rest are reads). */
  writeShare: number;
  /** Run the server in this process (for the test suite) instead of `node dist/src/main.js`. */
  inProcess: boolean;
  /** Progress lines; silent when absent. */
  log?: (line: string) => void;
}

export const DEFAULT_SOAK: SoakOptions = { seconds: 180, clients: 32, subjects: 64, subscribers: 2, writeShare: 0.3, inProcess: false };

export interface SoakReport {
  seconds: number;
  reads: number;
  writes: number;
  versionConflicts: number;
  retries: number;
  /** Writes that still met a conflict after every retry (not a violation: contention). */
  gaveUp: number;
  errors: Record<string, number>;
  events: number;
  subscriptions: { kind: string; delivered: number; expected: number }[] | string;
  rssMiB: { first: number; last: number; max: number; samples: number };
  violations: string[];
}

interface Server {
  url: string;
  dataDir: string;
  dbPath: string;
  rssBytes(): number;
  stop(): Promise<void>;
}

const MIB = 1024 * 1024;
const REQUEST_TIMEOUT_MS = 15_000;
const MAX_RETRIES = 5;

function serverEnv(dataDir: string, dbPath: string): Record<string, string> {
  return { PORT: "0", HOST: "127.0.0.1", DATA_DIR: dataDir, DATABASE_URL: `sqlite:${dbPath}`, CATALOG_DIR: join(root, "data", "policies"), LOG_LEVEL: "warn" };
}

async function startInProcess(dataDir: string, dbPath: string): Promise<Server> {
  const app = await startApp(loadConfig(serverEnv(dataDir, dbPath)), { logger: pino({ level: "silent" }) });
  return { url: app.url, dataDir, dbPath, rssBytes: () => process.memoryUsage().rss, stop: () => app.close() };
}

/** Resident memory of another process from /proc (Linux); NaN where there is none. */
/** The resident memory of a process and its children (the supervisor and the service). */
function rssOfTree(pid: number): number {
  let children: number[] = [];
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(" ").filter(Boolean).map(Number);
  } catch {
    children = [];
  }
  return children.reduce((sum, c) => sum + rssOf(c), rssOf(pid));
}

function rssOf(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) * 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

async function startChild(dataDir: string, dbPath: string): Promise<Server> {
  const entry = join(root, "dist", "src", "main.js");
  if (!existsSync(entry)) throw new Error(`${entry} is missing: run \`npm run build\` first (npm run soak does)`);
  const child: ChildProcess = spawn(process.execPath, [entry], {
    cwd: root,
    env: { ...process.env, NODE_ENV: "", AUTH_JWKS_URL: "", AUTH_JWKS_FILE: "", AUTH_MODE: "", ...serverEnv(dataDir, dbPath), LOG_LEVEL: "info" },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const exited = new Promise<number | string | null>((res) => child.once("exit", (code, signal) => res(code ?? signal)));
  const url = await new Promise<string>((res, rej) => {
    let first = true;
    createInterface({ input: child.stdout! }).on("line", (line) => {
      if (!first) return;
      first = false;
      const m = /"msg":"listening on (http:[^"]+)"/.exec(line);
      if (m) res(m[1]!);
      else rej(new Error(`unexpected first log line: ${line}`));
    });
    void exited.then((code) => rej(new Error(`the server exited (${String(code)}) before listening`)));
  });
  return {
    url,
    dataDir,
    dbPath,
    // The supervisor and the service it runs as its child (main.js): the deployment's memory.
    rssBytes: () => rssOfTree(child.pid!),
    stop: async () => {
      child.kill("SIGTERM");
      const code = await exited;
      if (code !== 0) throw new Error(`the server did not stop cleanly on SIGTERM (exit ${String(code)})`);
    },
  };
}

interface Answer<T> {
  data?: T | null;
  errors?: { message: string; extensions?: { code?: string } }[];
}

async function gql<T>(url: string, token: string, query: string, variables?: Record<string, unknown>): Promise<Answer<T> & { status: number }> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  return { status: res.status, ...((await res.json()) as Answer<T>) };
}

const READ_SUBJECT = `query S($id: ID!) { subject(id: $id) { version consents { purpose { id } status } } }`;
const WRITE = `mutation W($input: RecordConsentInput!) { recordConsent(input: $input) { subject { version } events { id position hash type } } }`;
const READS = [
  `query P($id: ID!) { permission(subjectId: $id, purposeId: "location") { permitted reason } }`,
  `query M { me { id status version } }`,
  `query C($id: ID!) { subject(id: $id) { id consents { purpose { id } status permitted reason } } }`,
];

interface AckedWrite {
  subjectId: string;
  version: number;
  event: { id: string; position: string; hash: string; type: string };
}

interface Subscriber {
  kind: "ledgerEvents" | "consentChanged";
  /** Event ids in the order delivered (one per change for consentChanged). */
  received: string[];
  lastPosition: number;
  error: string | null;
  dispose(): void;
}

function subscribe(wsUrl: string, token: string, kind: Subscriber["kind"], after: string): Subscriber {
  const client = createClient({ url: wsUrl, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${token}` }, retryAttempts: 0, lazy: false });
  const s: Subscriber = { kind, received: [], lastPosition: Number(after), error: null, dispose: () => void client.dispose() };
  const query =
    kind === "ledgerEvents"
      ? `subscription L($after: String) { ledgerEvents(after: $after) { id position } }`
      : `subscription C($after: String) { consentChanged(after: $after) { cursor purposeId event { id position } } }`;
  client.subscribe<{ ledgerEvents?: { id: string; position: string }; consentChanged?: { event: { id: string; position: string } } }>(
    { query, variables: { after } },
    {
      next: (msg) => {
        if (msg.errors) s.error ??= JSON.stringify(msg.errors);
        const e = msg.data?.ledgerEvents ?? msg.data?.consentChanged?.event;
        if (!e) return;
        s.received.push(e.id);
        s.lastPosition = Math.max(s.lastPosition, Number(e.position));
      },
      error: (err) => {
        s.error ??= err instanceof Error ? err.message : JSON.stringify(err);
      },
      complete: () => {},
    },
  );
  return s;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Runs the soak; the report's `violations` is empty when every invariant held. */
export async function runSoak(opts: Partial<SoakOptions> = {}): Promise<SoakReport> {
  const o: SoakOptions = { ...DEFAULT_SOAK, ...opts };
  const log = o.log ?? (() => {});
  const dataDir = mkdtempSync(join(tmpdir(), "ledger-soak-"));
  const dbPath = join(dataDir, "ledger.db");
  const violations: string[] = [];
  const errors: Record<string, number> = {};
  const countError = (code: string) => (errors[code] = (errors[code] ?? 0) + 1);
  const server = o.inProcess ? await startInProcess(dataDir, dbPath) : await startChild(dataDir, dbPath);
  let stopped = false;
  try {
    const officer = await issueDevToken({ dataDir, sub: "soak-officer", scope: SCOPES.join(" "), ttlSeconds: o.seconds + 3_600 });
    const subjects = Array.from({ length: o.subjects }, (_, i) => `soak-${i}`);

    // ---- set-up: every subject accepts the policy and grants location (before any subscriber starts) ----
    const acked: AckedWrite[] = [];
    for (const id of subjects) {
      const r = await gql<{ recordConsent: { events: AckedWrite["event"][] } }>(server.url, officer, WRITE, {
        input: { subjectId: id, policyVersion: 1, acceptPolicy: true, grant: ["location"], expectedVersion: 0 },
      });
      if (!r.data) throw new Error(`set-up failed: ${JSON.stringify(r.errors)}`);
    }
    const head = await gql<{ ledgerIntegrity: { headPosition: string; eventCount: number } }>(server.url, officer, `{ ledgerIntegrity { headPosition eventCount } }`);
    const startPosition = head.data!.ledgerIntegrity.headPosition;

    // ---- subscribers, resuming from the head so that no change between here and the load is missed ----
    const wsAvailable = existsSync(join(root, "src", "http", "ws.ts"));
    const subscribers: Subscriber[] = [];
    if (wsAvailable) {
      const wsUrl = server.url.replace(/^http/, "ws");
      for (let i = 0; i < o.subscribers; i++) {
        subscribers.push(subscribe(wsUrl, officer, "ledgerEvents", startPosition));
        subscribers.push(subscribe(wsUrl, officer, "consentChanged", startPosition));
      }
    }

    // ---- the load ----
    const rss: number[] = [];
    const sampleEvery = Math.max(250, Math.min(5_000, (o.seconds * 1_000) / 60));
    rss.push(server.rssBytes());
    const sampler = setInterval(() => rss.push(server.rssBytes()), sampleEvery);
    const deadline = Date.now() + o.seconds * 1_000;
    let reads = 0;
    let writes = 0;
    let versionConflicts = 0;
    let retries = 0;
    let gaveUp = 0;
    const progress = setInterval(() => log(`  ${Math.round((deadline - Date.now()) / 1000)} s left: ${reads} reads, ${writes} writes, ${versionConflicts} conflicts, rss ${((rss.at(-1) ?? 0) / MIB).toFixed(0)} MiB`), 15_000);

    const tokens = await Promise.all(
      Array.from({ length: o.clients }, (_, i) => issueDevToken({ dataDir, sub: subjects[i % subjects.length]!, scope: "consent:self consent:read consent:write", ttlSeconds: o.seconds + 3_600 })),
    );
    const client = async (token: string, seed: number) => {
      let rnd = seed;
      const random = () => ((rnd = (rnd * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
      while (Date.now() < deadline) {
        const subjectId = subjects[Math.floor(random() * subjects.length)]!;
        try {
          if (random() < o.writeShare) {
            // Read the version, then write with it; on a conflict read again and retry.
            for (let attempt = 0; ; attempt++) {
              const s = await gql<{ subject: { version: number; consents: { purpose: { id: string }; status: string }[] } }>(server.url, token, READ_SUBJECT, { id: subjectId });
              if (!s.data) {
                const code = s.errors?.[0]?.extensions?.code ?? `HTTP_${s.status}`;
                countError(code);
                if (violations.length < 50) violations.push(`the read before a write failed with ${code}: ${s.errors?.[0]?.message}`);
                break;
              }
              const granted = s.data.subject.consents.find((c) => c.purpose.id === "location")?.status === "GRANTED";
              const version = s.data.subject.version;
              const w = await gql<{ recordConsent: { subject: { version: number }; events: AckedWrite["event"][] } }>(server.url, token, WRITE, {
                input: { subjectId, policyVersion: 1, ...(granted ? { withdraw: ["location"] } : { grant: ["location"] }), expectedVersion: version, evidence: { channel: "soak" } },
              });
              if (w.data) {
                writes++;
                for (const event of w.data.recordConsent.events) acked.push({ subjectId, version: version + 1, event });
                break;
              }
              const code = w.errors?.[0]?.extensions?.code ?? `HTTP_${w.status}`;
              if (code !== "VERSION_CONFLICT") {
                countError(code);
                if (violations.length < 50) violations.push(`a versioned write failed with ${code}: ${w.errors?.[0]?.message}`);
                break;
              }
              versionConflicts++;
              if (attempt >= MAX_RETRIES) {
                gaveUp++;
                break;
              }
              retries++;
            }
          } else {
            const q = READS[Math.floor(random() * READS.length)]!;
            const r = await gql(server.url, token, q, q.includes("$id") ? { id: subjectId } : undefined);
            if (r.errors) {
              const code = r.errors[0]?.extensions?.code ?? `HTTP_${r.status}`;
              countError(code);
              if (violations.length < 50) violations.push(`a read failed with ${code}: ${r.errors[0]?.message}`);
            } else reads++;
          }
        } catch (e) {
          const what = e instanceof Error && e.name === "TimeoutError" ? "TIMEOUT" : "NETWORK";
          countError(what);
          if (violations.length < 50) violations.push(`a request got no answer (${what}): ${e instanceof Error ? e.message : String(e)}`);
        }
      }
    };
    await Promise.all(tokens.map((t, i) => client(t, i + 1)));
    clearInterval(sampler);
    clearInterval(progress);
    rss.push(server.rssBytes());

    // ---- subscribers catch up with the final head, then stop ----
    const final = await gql<{ ledgerIntegrity: { headPosition: string } }>(server.url, officer, `{ ledgerIntegrity { headPosition } }`);
    const finalPosition = Number(final.data!.ledgerIntegrity.headPosition);
    const consentEventsAfterStart = acked.filter((a) => a.event.type === "ConsentGranted" || a.event.type === "ConsentWithdrawn").length;
    const caughtUp = (s: Subscriber) => (s.kind === "ledgerEvents" ? s.lastPosition >= finalPosition : s.received.length >= consentEventsAfterStart);
    const waitUntil = Date.now() + 30_000;
    while (subscribers.some((s) => !caughtUp(s) && !s.error) && Date.now() < waitUntil) await sleep(100);
    await sleep(200); // anything still arriving after the head would be a duplicate
    for (const s of subscribers) s.dispose();

    await server.stop();
    stopped = true;

    // ---- the checks, on the file the server left ----
    const ledger = await openSqliteLedger(dbPath);
    try {
      const integrity = (await ledger.integrity());
      if (!integrity.ok) violations.push(`the hash chain breaks at position ${integrity.firstInvalidPosition}`);
      const stored = sqlite(ledger).store.readAll(0, Number.MAX_SAFE_INTEGER);
      const byId = new Map(stored.map((e) => [e.id, e]));
      if (byId.size !== stored.length) violations.push(`${stored.length - byId.size} duplicate event ids in the log`);
      // No lost update: every acknowledged write is stored, identical.
      let missing = 0;
      for (const a of acked) {
        const e = byId.get(a.event.id);
        if (!e || e.hash !== a.event.hash || String(e.position).padStart(16, "0") !== a.event.position) missing++;
      }
      if (missing > 0) violations.push(`${missing} acknowledged events missing or altered`);
      // Every write flipped location under expectedVersion: each subject's stream after set-up alternates
      // withdraw/grant with no two alike (a lost update would grant twice) and holds exactly the acknowledged writes.
      const ackedBySubject = new Map<string, number>();
      for (const a of acked) ackedBySubject.set(a.subjectId, (ackedBySubject.get(a.subjectId) ?? 0) + 1);
      for (const id of subjects) {
        const stream = sqlite(ledger).store.readStream(`subject:${id}`).slice(2);
        let due = "ConsentWithdrawn";
        for (const e of stream) {
          if (e.type !== due) {
            violations.push(`subject ${id}: ${e.type} at version ${e.streamVersion} where ${due} was due (a lost update)`);
            break;
          }
          due = due === "ConsentWithdrawn" ? "ConsentGranted" : "ConsentWithdrawn";
        }
        if (stream.length !== (ackedBySubject.get(id) ?? 0))
          violations.push(`subject ${id}: ${stream.length} writes stored, ${ackedBySubject.get(id) ?? 0} acknowledged`);
      }
      // Subscriptions: every event (every change) after the start exactly once, in log order.
      const after = stored.filter((e) => e.position > Number(startPosition));
      const expectedIds = {
        ledgerEvents: after.map((e) => e.id),
        consentChanged: after.filter((e) => e.type === "ConsentGranted" || e.type === "ConsentWithdrawn").map((e) => e.id),
      };
      for (const s of subscribers) {
        const want = expectedIds[s.kind];
        if (s.error) violations.push(`a ${s.kind} subscriber failed: ${s.error}`);
        else if (s.received.length !== want.length || s.received.some((id, i) => id !== want[i])) {
          const dupes = s.received.length - new Set(s.received).size;
          violations.push(`a ${s.kind} subscriber got ${s.received.length} (${dupes} duplicates), the log has ${want.length}`);
        }
      }
      // Projections equal a rebuild from the log.
      const live = JSON.stringify(projectionRows(ledger));
      (await ledger.rebuild());
      if (JSON.stringify(projectionRows(ledger)) !== live) violations.push("the projections differ from a rebuild of the log");

      // Memory flat: the last quarter of the run against the second (after warm-up).
      const mib = rss.filter((b) => Number.isFinite(b)).map((b) => b / MIB);
      const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(xs.length, 1);
      const q = Math.floor(mib.length / 4);
      if (q >= 2) {
        const early = mean(mib.slice(q, 2 * q));
        const late = mean(mib.slice(3 * q));
        if (late > early * 1.5 && late - early > 64) violations.push(`memory grew from ${early.toFixed(0)} MiB to ${late.toFixed(0)} MiB`);
      }
      return {
        seconds: o.seconds,
        reads,
        writes,
        versionConflicts,
        retries,
        gaveUp,
        errors,
        events: stored.length,
        subscriptions: wsAvailable
          ? subscribers.map((s) => ({ kind: s.kind, delivered: s.received.length, expected: expectedIds[s.kind].length }))
          : "src/http/ws.ts is not in the tree: no subscriptions",
        rssMiB: { first: mib[0] ?? Number.NaN, last: mib.at(-1) ?? Number.NaN, max: Math.max(...mib), samples: mib.length },
        violations,
      };
    } finally {
      await ledger.close();
    }
  } finally {
    if (!stopped) await server.stop().catch(() => {});
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function parseArgs(argv: string[]): Partial<SoakOptions> {
  const out: Partial<SoakOptions> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const num = (name: string) => {
      const v = Number(argv[++i]);
      if (!Number.isFinite(v) || v <= 0) throw new Error(`${name} needs a positive number`);
      return v;
    };
    if (a === "--seconds") out.seconds = num(a);
    else if (a === "--clients") out.clients = Math.round(num(a));
    else if (a === "--subjects") out.subjects = Math.round(num(a));
    else if (a === "--in-process") out.inProcess = true;
    else throw new Error(`unknown argument ${a}\nusage: npm run soak -- [--seconds N] [--clients N] [--subjects N] [--in-process]`);
  }
  return out;
}

export function formatReport(r: SoakReport): string {
  const subs = typeof r.subscriptions === "string" ? r.subscriptions : r.subscriptions.map((s) => `${s.kind} ${s.delivered}/${s.expected}`).join(", ");
  return [
    `soak: ${r.seconds} s`,
    `  reads ${r.reads} (${(r.reads / r.seconds).toFixed(0)}/s), writes ${r.writes} (${(r.writes / r.seconds).toFixed(0)}/s)`,
    `  VERSION_CONFLICT ${r.versionConflicts}, retries ${r.retries}, gave up after ${MAX_RETRIES} retries ${r.gaveUp}`,
    `  errors ${JSON.stringify(r.errors)}`,
    `  log ${r.events} events; subscriptions: ${subs}`,
    `  server RSS MiB: first ${r.rssMiB.first.toFixed(0)}, last ${r.rssMiB.last.toFixed(0)}, max ${r.rssMiB.max.toFixed(0)} (${r.rssMiB.samples} samples)`,
    r.violations.length === 0 ? "  OK: no lost update, no duplicate, projections equal a rebuild, memory flat" : `  VIOLATIONS:\n${r.violations.map((v) => `    - ${v}`).join("\n")}`,
  ].join("\n");
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const opts = parseArgs(process.argv.slice(2));
  const seconds = opts.seconds ?? DEFAULT_SOAK.seconds;
  process.stdout.write(`soak: ${seconds} s, ${opts.clients ?? DEFAULT_SOAK.clients} clients, ${opts.subjects ?? DEFAULT_SOAK.subjects} subjects\n`);
  runSoak({ ...opts, log: (l) => process.stdout.write(`${l}\n`) }).then(
    (r) => {
      process.stdout.write(`${formatReport(r)}\n`);
      process.exit(r.violations.length === 0 ? 0 : 1);
    },
    (e: unknown) => {
      process.stderr.write(`soak failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exit(2);
    },
  );
}
