import { defineConfig } from "vitest/config";
import { currentTarget } from "./scripts/mutation-targets.mjs";

// The fast, PostgreSQL-free tests of one mutation target (MUTATION_TARGET, default "domain"; see
// scripts/mutation-targets.mjs); `npm run test:mutation -- <target>` runs StrykerJS against these only.
export default defineConfig({
  // type-graphql is CommonJS and loads graphql's CJS build; make vitest use the same copy.
  resolve: { alias: { graphql: "graphql/index.js" } },
  test: {
    include: currentTarget().tests,
    exclude: ["**/node_modules/**", ...(currentTarget().exclude ?? [])],
    setupFiles: ["test/setup.ts"],
    testTimeout: 30_000,
    // Each file gets a fresh module graph: a mutant in a module-level value (a constant list, a regex,
    // an arrow assigned at load) only takes effect when the module is loaded again. With one shared
    // graph those mutants survive every test that asserts them.
    isolate: true,
  },
});
