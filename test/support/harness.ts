// Starts the whole service in-process on a free port, in dev mode, with its data in a temp folder,
// on SQLite (a file in that folder) or on a fresh database of the run's PostgreSQL server.
import { rmSync } from "node:fs";
import { join } from "node:path";
import { type Logger, pino } from "pino";
import { type App, startApp } from "../../src/app.js";
import { issueDevToken } from "../../src/auth/dev-keys.js";
import { type Config, loadConfig } from "../../src/config.js";
import { type Backend, backend as runBackend } from "./backend.js";
import type { TestClock } from "./clock.js";
import { type GqlResult, makeTempDir, postGraphql } from "./common.js";
import { freshDatabase } from "./postgres.js";

export interface TestServer {
  app: App;
  url: string;
  dataDir: string;
  config: Config;
  /** The storage backend the service runs on. */
  backend: Backend;
  /** A dev token for `sub` with the given scopes (space separated). */
  token(sub: string, scope: string, ttlSeconds?: number): Promise<string>;
  /** POSTs a GraphQL request; returns the HTTP status and the parsed body. */
  gql<T = Record<string, unknown>>(query: string, variables?: Record<string, unknown>, token?: string | null): Promise<GqlResult<T>>;
  close(): Promise<void>;
}

export type { GqlResult } from "./common.js";

export interface TestServerOptions {
  env?: Record<string, string>;
  /** The service's clock instead of the real time: a TestClock (test/support/clock.ts), whose moves the service follows, or a plain function. */
  clock?: TestClock | (() => number);
  /**
   * The data folder; a second server started on the same folder finds the same data (on PostgreSQL,
   * the same database, remembered by folder for the test file's lifetime).
   */
  dataDir?: string;
  /** The storage backend; defaults to the run's (LEDGER_BACKEND). An explicit DATABASE_URL in `env` wins over both. */
  backend?: Backend;
  /** The service's logger; silent unless given (tests that read the log pass one with a stream destination). */
  logger?: Logger;
}

/** The PostgreSQL database of each data folder, so that a restart on the same folder finds its log. */
const databases = new Map<string, Promise<string>>();

function databaseUrl(backend: Backend, dataDir: string): Promise<string> {
  if (backend === "sqlite") return Promise.resolve(`sqlite:${join(dataDir, "ledger.db")}`);
  let url = databases.get(dataDir);
  if (!url) databases.set(dataDir, (url = freshDatabase("api")));
  return url;
}

const clockOptions = (clock: TestServerOptions["clock"]) =>
  clock === undefined ? {} : typeof clock === "function" ? { clock } : { clock: clock.now, clockMoved: clock.onMove };

export async function startTestServer(opts: TestServerOptions = {}): Promise<TestServer> {
  const dataDir = opts.dataDir ?? makeTempDir("ledger-test-");
  const explicitUrl = opts.env?.["DATABASE_URL"];
  const backend: Backend = explicitUrl !== undefined ? (explicitUrl.startsWith("sqlite:") ? "sqlite" : "postgres") : (opts.backend ?? runBackend);
  const config = loadConfig({
    PORT: "0",
    HOST: "127.0.0.1",
    DATA_DIR: dataDir,
    DATABASE_URL: explicitUrl ?? (await databaseUrl(backend, dataDir)),
    CATALOG_DIR: "data/policies",
    LOG_LEVEL: "silent",
    // The API suites run on the writer thread (a file's default); SQLITE_WRITER=in-process runs them on the main thread.
    ...(process.env["SQLITE_WRITER"] ? { SQLITE_WRITER: process.env["SQLITE_WRITER"] } : {}),
    // The workers project runs the API suites with WORKERS=2: request-serving processes beside this one.
    ...(process.env["WORKERS"] ? { WORKERS: process.env["WORKERS"] } : {}),
    ...opts.env,
  });
  const app = await startApp(config, { logger: opts.logger ?? pino({ level: "silent" }), ...clockOptions(opts.clock) });
  // With WORKERS > 1 the workers follow a TestClock's moves by message: a request waits until they all have.
  const gql = async <T>(query: string, variables?: Record<string, unknown>, token?: string | null): Promise<GqlResult<T>> => {
    await app.clockSynced?.();
    return postGraphql<T>(app.url, query, variables, token);
  };
  return {
    app,
    url: app.url,
    dataDir,
    config,
    backend,
    token: (sub, scope, ttlSeconds) => issueDevToken({ dataDir, sub, scope, ...(ttlSeconds !== undefined ? { ttlSeconds } : {}) }),
    gql,
    close: async () => {
      await app.close();
      if (!opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
