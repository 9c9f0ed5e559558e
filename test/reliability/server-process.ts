// Builds the service once and runs it as a child process (`node .../src/main.js`), as production would.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";

export const REPO_ROOT = resolve(import.meta.dirname, "../..");

/**
 * Compiles src/ (tsconfig.build.json) into a folder of its own, so that a concurrent `npm run build`
 * or another suite never swaps files under a running server. It sits under node_modules so that the
 * compiled code resolves the project's dependencies; its package.json makes it ESM like the project.
 */
export function buildService(): string {
  const outDir = join(REPO_ROOT, "node_modules", ".cache", `consent-ledger-reliability-${process.pid}`);
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, "package.json"), JSON.stringify({ type: "module" }));
  const tsc = join(REPO_ROOT, "node_modules", "typescript", "bin", "tsc");
  const r = spawnSync(process.execPath, [tsc, "-p", "tsconfig.build.json", "--outDir", outDir], { cwd: REPO_ROOT, encoding: "utf8" });
  // Type errors still emit JavaScript; only a build that produced no entry points is fatal here.
  if (!existsSync(join(outDir, "src", "main.js")) || !existsSync(join(outDir, "src", "cli.js")))
    throw new Error(`the build emitted no entry point (exit ${r.status}):\n${r.stdout}${r.stderr}`);
  return outDir;
}

export interface ServiceProcess {
  child: ChildProcess;
  port: number;
  url: string;
  /** Everything the process wrote to stderr so far. */
  stderr(): string;
  /** The log lines at error level or above (pino level >= 50) written so far. */
  errorLogs(): string[];
  /** Resolves with the exit code (or signal) once the process is gone. */
  exited: Promise<number | string | null>;
}

export interface ServiceEnv {
  dataDir: string;
  dbPath: string;
  /** A DATABASE_URL that overrides `sqlite:<dbPath>` (a PostgreSQL database, say). */
  databaseUrl?: string;
  /** Further settings for the child. */
  extra?: Record<string, string>;
}

export const serviceEnv = (env: ServiceEnv): NodeJS.ProcessEnv => {
  const out: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: "0",
    HOST: "127.0.0.1",
    DATA_DIR: env.dataDir,
    DATABASE_URL: env.databaseUrl ?? `sqlite:${env.dbPath}`,
    CATALOG_DIR: join(REPO_ROOT, "data", "policies"),
    LOG_LEVEL: "info",
    ...env.extra,
  };
  // The test runner's environment must not make the child a production server or point it elsewhere.
  for (const k of ["NODE_ENV", "AUTH_JWKS_URL", "AUTH_JWKS_FILE", "AUTH_MODE", "AUTH_ISSUER", "AUTH_AUDIENCE", "RECEIPT_KEY_FILE", "VITEST", "VITEST_POOL_ID", "VITEST_WORKER_ID"])
    delete out[k];
  return out;
};

/** Starts `node <build>/src/main.js`; resolves once its first log line names the port it listens on. */
export function startService(buildDir: string, env: ServiceEnv, timeoutMs = 20_000): Promise<ServiceProcess> {
  const child = spawn(process.execPath, [join(buildDir, "src", "main.js")], { cwd: REPO_ROOT, env: serviceEnv(env), stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr!.setEncoding("utf8").on("data", (d: string) => (stderr += d));
  const exited = new Promise<number | string | null>((res) => child.once("exit", (code, signal) => res(code ?? signal)));
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`the service did not log its port within ${timeoutMs} ms; stderr: ${stderr}`));
    }, timeoutMs);
    let first = true;
    const errorLogs: string[] = [];
    // Keep reading stdout for the life of the process: a full pipe would block the server.
    createInterface({ input: child.stdout! }).on("line", (line) => {
      if (/"level":\s*(5\d|6\d)\b/.test(line)) errorLogs.push(line);
      if (!first) return;
      first = false;
      clearTimeout(timer);
      try {
        const log = JSON.parse(line) as { msg?: string; port?: number };
        const m = /^listening on (http:\/\/127\.0\.0\.1:(\d+)\/graphql)$/.exec(log.msg ?? "");
        if (!m || log.port !== Number(m[2])) throw new Error(`unexpected first log line: ${line}`);
        resolvePromise({ child, port: log.port, url: m[1]!, stderr: () => stderr, errorLogs: () => [...errorLogs], exited });
      } catch (e) {
        child.kill("SIGKILL");
        reject(e instanceof Error ? e : new Error(String(e)));
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      if (first) reject(new Error(`the service exited (${String(code)}) before listening; stderr: ${stderr}`));
    });
  });
}

/** Runs the CLI (`node <build>/src/cli.js ...args`) against the same data; resolves with its output. */
export function runCli(buildDir: string, env: ServiceEnv, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(buildDir, "src", "cli.js"), ...args], { cwd: REPO_ROOT, env: serviceEnv(env), encoding: "utf8", timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
