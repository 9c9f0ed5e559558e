// Starts the whole service in-process on a free port, in dev mode, with its data in a temp folder.
import { rmSync } from "node:fs";
import { join } from "node:path";
import { type Logger, pino } from "pino";
import { type App, startApp } from "../../src/app.js";
import { issueDevToken } from "../../src/auth/dev-keys.js";
import { type Config, loadConfig } from "../../src/config.js";
import { type GqlResult, makeTempDir, postGraphql } from "./common.js";

export interface TestServer {
  app: App;
  url: string;
  dataDir: string;
  config: Config;
  /** A dev token for `sub` with the given scopes (space separated). */
  token(sub: string, scope: string, ttlSeconds?: number): Promise<string>;
  /** POSTs a GraphQL request; returns the HTTP status and the parsed body. */
  gql<T = Record<string, unknown>>(query: string, variables?: Record<string, unknown>, token?: string | null): Promise<GqlResult<T>>;
  close(): Promise<void>;
}

export type { GqlResult } from "./common.js";

export interface TestServerOptions {
  env?: Record<string, string>;
  clock?: () => number;
  dataDir?: string;
  /** The service's logger; silent unless given (tests that read the log pass one with a stream destination). */
  logger?: Logger;
}

export async function startTestServer(opts: TestServerOptions = {}): Promise<TestServer> {
  const dataDir = opts.dataDir ?? makeTempDir("ledger-test-");
  const config = loadConfig({
    PORT: "0",
    HOST: "127.0.0.1",
    DATA_DIR: dataDir,
    DATABASE_URL: `sqlite:${join(dataDir, "ledger.db")}`,
    CATALOG_DIR: "data/policies",
    LOG_LEVEL: "silent",
    // The API suites run on the writer thread (a file's default); SQLITE_WRITER=in-process runs them on the main thread.
    ...(process.env["SQLITE_WRITER"] ? { SQLITE_WRITER: process.env["SQLITE_WRITER"] } : {}),
    ...opts.env,
  });
  const app = await startApp(config, { logger: opts.logger ?? pino({ level: "silent" }), ...(opts.clock ? { clock: opts.clock } : {}) });
  const gql = <T>(query: string, variables?: Record<string, unknown>, token?: string | null): Promise<GqlResult<T>> =>
    postGraphql<T>(app.url, query, variables, token);
  return {
    app,
    url: app.url,
    dataDir,
    config,
    token: (sub, scope, ttlSeconds) => issueDevToken({ dataDir, sub, scope, ...(ttlSeconds !== undefined ? { ttlSeconds } : {}) }),
    gql,
    close: async () => {
      await app.close();
      if (!opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
