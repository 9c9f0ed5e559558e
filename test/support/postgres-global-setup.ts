// Vitest global setup: one PostgreSQL server for the whole run; each test file makes its own database.
import type { TestProject } from "vitest/node";
import { type PostgresServer, startPostgresServer } from "./postgres-server.js";

declare module "vitest" {
  export interface ProvidedContext {
    /** The test server's maintenance database URL (`…/postgres`). */
    postgresUrl: string;
  }
}

let server: PostgresServer | undefined;

export async function setup(project: TestProject): Promise<void> {
  server = await startPostgresServer();
  project.provide("postgresUrl", server.url());
}

export async function teardown(): Promise<void> {
  await server?.stop();
  server = undefined;
}
