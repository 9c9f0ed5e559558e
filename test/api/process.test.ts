// The real server process (`node <build>/src/main.js`): start-up log, SIGTERM shutdown, production refusal; and the README's promise.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { type AddressInfo, createServer } from "node:net";
import { join, resolve } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { issueDevToken } from "../../src/auth/dev-keys.js";
import { RECORD_CONSENT, freshId } from "./helpers.js";
import { openSqliteLedgerAt } from "../support/ledger-commands.js";
import { makeTempDir } from "../support/common.js";

const dirs: string[] = [];
let MAIN = "";

beforeAll(() => {
  // Build once, as `npm start` would, into a folder of its own so that no other build swaps files under
  // the running server. tsc emits despite type errors: an error in the server's own sources fails this
  // file loudly, one elsewhere (bench/) does not stop the server from being tested.
  const build = makeTempDir("ledger-proc-build-");
  dirs.push(build);
  writeFileSync(join(build, "package.json"), JSON.stringify({ type: "module" }));
  symlinkSync(resolve("node_modules"), join(build, "node_modules"), "dir");
  const r = spawnSync(process.execPath, ["node_modules/typescript/bin/tsc", "-p", "tsconfig.build.json", "--outDir", join(build, "dist")], { encoding: "utf8" });
  const srcErrors = `${r.stdout}${r.stderr}`.split("\n").filter((l) => l.startsWith("src/"));
  if (srcErrors.length > 0) throw new Error(`the server does not compile:\n${srcErrors.join("\n")}`);
  MAIN = join(build, "dist", "src", "main.js");
  if (!existsSync(MAIN)) throw new Error(`tsc did not emit ${MAIN}: ${r.stdout}${r.stderr}`);
}, 180_000);
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = makeTempDir("ledger-proc-");
  dirs.push(d);
  return d;
}

/** The environment of a spawned server: this process's, minus anything that would change auth or mode. */
function serverEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(env)) if (/^(AUTH_|VITEST|NODE_ENV$|PORT$|HOST$|DATABASE_URL$|DATA_DIR$|CATALOG_DIR$|RECEIPT_KEY_FILE$|LOG_LEVEL$)/.test(k)) delete env[k];
  return { ...env, ...extra };
}

interface Run {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves with `probe`'s value once it has one, looked at as each piece of stdout arrives; rejects if the process exits first. */
  whenOut<T>(probe: (stdout: string) => T | undefined, what: string): Promise<T>;
}

function run(env: NodeJS.ProcessEnv): Run {
  const child = spawn(process.execPath, [MAIN], { env, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout!.on("data", (c: Buffer) => (out += c.toString("utf8")));
  child.stderr!.on("data", (c: Buffer) => (err += c.toString("utf8")));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
  const whenOut = <T>(probe: (stdout: string) => T | undefined, what: string) =>
    new Promise<T>((resolve, reject) => {
      const look = () => {
        const v = probe(out);
        if (v === undefined) return false;
        child.stdout!.off("data", look);
        resolve(v);
        return true;
      };
      if (look()) return;
      child.stdout!.on("data", look);
      void exit.then(({ code, signal }) => reject(new Error(`the process exited (${signal ?? code}) before ${what}: ${err}`)));
    });
  return { child, stdout: () => out, stderr: () => err, exit, whenOut };
}

async function waitFor<T>(probe: () => T | undefined, what: string, ms = 20_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function waitForAsync<T>(probe: () => Promise<T | undefined>, what: string, ms = 20_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A file of a process's main thread under /proc ("" once the process is gone). */
const readProc = (pid: number, file: string): string => {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/${file}`, "utf8").trim();
  } catch {
    return "";
  }
};

/** The process ids of a process's children. */
const childrenOf = (pid: number): number[] =>
  readProc(pid, "children")
    .split(" ")
    .filter((c) => c !== "")
    .map(Number);

/** A port nothing listens on right now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

const logLines = (text: string) =>
  text
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe("the server process", () => {
  it("logs its URL first, serves, and on SIGTERM drains, closes the database cleanly and exits 0", async () => {
    const dir = tempDir();
    const db = join(dir, "ledger.db");
    const p = run(serverEnv({ PORT: "0", HOST: "127.0.0.1", DATA_DIR: dir, DATABASE_URL: `sqlite:${db}`, CATALOG_DIR: "data/policies", LOG_LEVEL: "info" }));
    try {
      const first = await p.whenOut((out) => (out.includes("\n") ? logLines(out)[0] : undefined), "the first log line");
      expect(first["url"]).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/graphql$/);
      expect(String(first["msg"])).toContain(String(first["url"]));
      const url = String(first["url"]);

      const me = freshId();
      const token = await issueDevToken({ dataDir: dir, sub: me, scope: "consent:self" });
      const res = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: RECORD_CONSENT, variables: { input: { policyVersion: 1, acceptPolicy: true, grant: ["location"] } } }),
      });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { data: { recordConsent: { events: { id: string }[] } } };
      const ids = body.data.recordConsent.events.map((e) => e.id);
      expect(ids).toHaveLength(2);

      p.child.kill("SIGTERM");
      const { code, signal } = await p.exit;
      expect(signal).toBeNull();
      expect(code).toBe(0);
      const msgs = logLines(p.stdout()).map((l) => String(l["msg"]));
      expect(msgs.some((m) => m.includes("shutting down"))).toBe(true);
      expect(msgs.at(-1)).toBe("stopped cleanly");
      expect(p.stderr()).toBe("");

      // Closed cleanly: the WAL was folded in and removed, the file passes SQLite's own check, the chain verifies.
      expect(existsSync(`${db}-wal`)).toBe(false);
      const raw = new Database(db, { readonly: true });
      try {
        expect(raw.pragma("integrity_check", { simple: true })).toBe("ok");
      } finally {
        raw.close();
      }
      const ledger = await openSqliteLedgerAt(db);
      try {
        expect((await ledger.integrity()).ok).toBe(true);
        expect((await ledger.history(me, 0, 10)).map((e) => e.id)).toEqual(ids);
      } finally {
        await ledger.close();
      }
    } finally {
      if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill("SIGKILL");
    }
  });

  it("with NODE_ENV=production and no JWKS, refuses to start: exit 1 and one line on stderr", async () => {
    const dir = tempDir();
    const p = run(serverEnv({ NODE_ENV: "production", PORT: "0", DATA_DIR: dir, DATABASE_URL: `sqlite:${join(dir, "ledger.db")}`, CATALOG_DIR: "data/policies" }));
    const { code } = await p.exit;
    expect(code).toBe(1);
    const lines = p.stderr().split("\n").filter((l) => l !== "");
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0]!) as { msg: string; level: number };
    expect(line.msg).toMatch(/NODE_ENV=production/);
    expect(line.msg).toMatch(/AUTH_JWKS_URL|AUTH_JWKS_FILE/);
    expect(p.stdout()).toBe("");
    // Nothing was created: it refused before touching the data folder.
    expect(existsSync(join(dir, "ledger.db"))).toBe(false);
    expect(existsSync(join(dir, "keys"))).toBe(false);
  });

  it("with NODE_ENV=production and AUTH_MODE=dev, refuses to start the same way", async () => {
    const dir = tempDir();
    const p = run(serverEnv({ NODE_ENV: "production", AUTH_MODE: "dev", PORT: "0", DATA_DIR: dir, DATABASE_URL: `sqlite:${join(dir, "ledger.db")}` }));
    expect((await p.exit).code).toBe(1);
    expect(p.stderr().trim().split("\n")).toHaveLength(1);
  });
});

describe("finding 9: the server says which auth mode it runs in and why; dev mode only on purpose or on loopback", () => {
  it("names the mode and the reason in the first log line", async () => {
    const dir = tempDir();
    const p = run(serverEnv({ PORT: "0", HOST: "127.0.0.1", DATA_DIR: dir, DATABASE_URL: `sqlite:${join(dir, "ledger.db")}`, CATALOG_DIR: "data/policies", LOG_LEVEL: "info" }));
    try {
      const first = await p.whenOut((out) => (out.includes("\n") ? logLines(out)[0] : undefined), "the first log line");
      expect(first).toMatchObject({ authMode: "dev", authModeReason: "no JWKS is configured and HOST=127.0.0.1 is loopback" });
    } finally {
      p.child.kill("SIGKILL");
      await p.exit;
    }
  });

  it.each([
    ["HOST=0.0.0.0 without a JWKS", { HOST: "0.0.0.0" }, /HOST=0\.0\.0\.0 is not loopback/],
    ["NODE_ENV=Production", { NODE_ENV: "Production" }, /NODE_ENV=Production needs AUTH_JWKS_URL/],
    ["NODE_ENV=prod", { NODE_ENV: "prod", HOST: "0.0.0.0" }, /NODE_ENV=prod needs AUTH_JWKS_URL/],
  ])("refuses to start with %s, in one line", async (_what, extra, reason) => {
    const dir = tempDir();
    const p = run(serverEnv({ PORT: "0", DATA_DIR: dir, DATABASE_URL: `sqlite:${join(dir, "ledger.db")}`, ...extra }));
    expect((await p.exit).code).toBe(1);
    const lines = p.stderr().trim().split("\n");
    expect(lines).toHaveLength(1);
    expect((JSON.parse(lines[0]!) as { msg: string }).msg).toMatch(reason);
    expect(existsSync(join(dir, "keys"))).toBe(false);
  });

  it("`token` refuses to mint unless the configuration is dev mode", () => {
    const cli = join(MAIN, "..", "cli.js");
    const dir = tempDir();
    const mint = (extra: Record<string, string>) =>
      spawnSync(process.execPath, [cli, "token", "--sub", "mallory", "--scope", "subject:admin"], { env: serverEnv({ DATA_DIR: dir, ...extra }), encoding: "utf8" });
    for (const extra of [{ NODE_ENV: "Production" }, { NODE_ENV: "prod" }, { HOST: "0.0.0.0" }] as Record<string, string>[]) {
      const r = mint(extra);
      expect(r.status, JSON.stringify(extra)).toBe(1);
      expect(r.stdout).toBe("");
      expect(r.stderr).toMatch(/refusing to start|dev mode/);
    }
    const jwks = mint({ AUTH_JWKS_FILE: "/nonexistent/jwks.json", AUTH_ISSUER: "https://idp", AUTH_AUDIENCE: "ledger" });
    expect(jwks.status).toBe(1);
    expect(jwks.stderr).toMatch(/dev mode only; this configuration is jwks mode \(AUTH_JWKS_FILE is set\)/);
    const ok = mint({ HOST: "127.0.0.1" });
    expect(ok.status).toBe(0);
    expect(ok.stdout.trim().split(".")).toHaveLength(3);
  });
});

describe("finding 14: SIGTERM stops the service whatever happens to its log pipe", () => {
  it("exits cleanly on SIGTERM after the reader of its stdout has gone (node main.js | head -c 300)", async () => {
    const dir = tempDir();
    const child = spawn(process.execPath, [MAIN], {
      env: serverEnv({ PORT: "0", HOST: "127.0.0.1", DATA_DIR: dir, DATABASE_URL: `sqlite:${join(dir, "ledger.db")}`, CATALOG_DIR: "data/policies", LOG_LEVEL: "debug" }),
      stdio: ["ignore", "pipe", "pipe"],
    });
    const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
    try {
      // Like `head -c 300`: read the first bytes, then close the read end of the pipe for good.
      let seen = "";
      await new Promise<void>((resolve) => {
        child.stdout!.on("data", (c: Buffer) => {
          seen += c.toString("utf8");
          if (seen.length >= 300 || seen.includes("listening on")) resolve();
        });
      });
      child.stdout!.destroy();
      const url = String((JSON.parse(seen.split("\n")[0]!) as { url: string }).url);
      // The server still answers, and logs into the dead pipe while it does.
      expect((await fetch(url.replace("/graphql", "/healthz"))).status).toBe(200);

      child.kill("SIGTERM");
      const outcome = await Promise.race([exit, new Promise<"still running">((r) => setTimeout(() => r("still running"), 8_000))]);
      // Before the fix the process sat in Atomics.wait for good; the exit guard would only kill it after 12 s.
      expect(outcome).toEqual({ code: 0, signal: null });
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
  }, 30_000);
});

describe("finding 7: SIGTERM stops the service while its main thread is stuck writing to a live but stalled log reader", () => {
  it("is killed by the supervisor's watchdog after the shutdown deadline, though the service's own signal handler never runs", async () => {
    const dir = tempDir();
    const port = await freePort();
    const child = spawn(process.execPath, [MAIN], {
      env: serverEnv({ PORT: String(port), HOST: "127.0.0.1", DATA_DIR: dir, DATABASE_URL: `sqlite:${join(dir, "ledger.db")}`, CATALOG_DIR: "data/policies" }),
      // stdout is a pipe this test never reads: its reader is alive and stuck.
      stdio: ["ignore", "pipe", "pipe"],
    });
    let err = "";
    child.stderr!.on("data", (c: Buffer) => (err += c.toString("utf8")));
    const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
    const base = `http://127.0.0.1:${port}`;
    const inFlight = new AbortController();
    let servicePid = 0;
    let workerPids: number[] = [];
    try {
      await waitForAsync(async () => ((await fetch(`${base}/healthz`).catch(() => null))?.ok ? true : undefined), "the service to answer");
      // The service is the supervisor's child (or, without a supervisor, the process itself).
      const children = readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, "utf8").trim();
      servicePid = children === "" ? child.pid! : Number(children.split(" ")[0]);
      workerPids = childrenOf(servicePid);
      // With WORKERS > 1 the requests, and their log lines, are the worker processes' (the service's children).
      const wchan = () => [servicePid, ...workerPids].map((pid) => readProc(pid, "wchan")).join(" ");
      // Every refused token is a log line: requests until the pipe is full and the main thread waits in its write.
      let blocked = false;
      for (let batch = 0; batch < 200 && !blocked; batch++) {
        for (let i = 0; i < 100; i++)
          void fetch(`${base}/graphql`, { method: "POST", signal: inFlight.signal, headers: { "content-type": "application/json", authorization: "Bearer not-a-token" }, body: '{"query":"{ me { id } }"}' }).then(
            (r) => r.text(),
            () => undefined,
          );
        // Waiting in a write (or in the logger's back-off between retries of one), sample after sample:
        // a blip of another wait (a garbage collection) does not last that long.
        let waiting = 0;
        for (let look = 0; look < 20 && !blocked; look++) {
          await new Promise((r) => setTimeout(r, 20));
          waiting = /futex|pipe_write|unix_stream|sock_alloc|wait_woken/.test(wchan()) ? waiting + 1 : 0;
          blocked = waiting >= 8;
        }
      }
      expect(blocked, "the service's main thread never blocked on its log").toBe(true);

      child.kill("SIGTERM");
      const outcome = await Promise.race([exit, new Promise<"still running">((r) => setTimeout(() => r("still running"), 30_000))]);
      expect(outcome).toEqual({ code: 1, signal: null });
      // The supervisor's last line is in once its stderr has ended.
      if (!child.stderr!.readableEnded) await new Promise((r) => child.stderr!.once("end", r));
      expect(err).toMatch(/shutdown took longer than 12 s; killed/);
      expect(existsSync(`/proc/${servicePid}`)).toBe(false);
    } finally {
      inFlight.abort();
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      for (const pid of [servicePid, ...workerPids]) if (pid && existsSync(`/proc/${pid}`)) process.kill(pid, "SIGKILL");
    }
  }, 90_000);

  it("runs the service as the supervisor's child, and a killed supervisor takes the service with it", async () => {
    const dir = tempDir();
    const p = run(serverEnv({ PORT: "0", HOST: "127.0.0.1", DATA_DIR: dir, DATABASE_URL: `sqlite:${join(dir, "ledger.db")}`, CATALOG_DIR: "data/policies" }));
    try {
      await p.whenOut((out) => (out.includes("listening on") ? true : undefined), "the start line");
      const children = readFileSync(`/proc/${p.child.pid}/task/${p.child.pid}/children`, "utf8").trim();
      expect(children, "the service runs as the supervisor's child").not.toBe("");
      const servicePid = Number(children.split(" ")[0]);
      p.child.kill("SIGKILL");
      await p.exit;
      // The service sees its supervisor gone and goes with it, as one process killed outright would.
      await waitFor(() => (existsSync(`/proc/${servicePid}`) ? undefined : true), "the service to exit", 20_000);
    } finally {
      if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill("SIGTERM");
    }
  }, 60_000);
});

describe("the README", () => {
  const readme = readFileSync("README.md", "utf8");
  const firstSection = readme.split(/^## /m)[0]!;

  it("says how to set up, run and test in its first section", () => {
    expect(firstSection).toContain("npm ci && npm start");
    expect(firstSection).toMatch(/^npm test\b/m);
  });

  it("names the test command CI runs", () => {
    const ci = readFileSync(".ci/run", "utf8");
    expect(ci).toMatch(/^npm test$/m);
  });
});
