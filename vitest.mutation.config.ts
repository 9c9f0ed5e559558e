import { defineConfig } from "vitest/config";

// The fast, database-free tests that exercise the mutated rules (src/domain, src/auth/authorize.ts);
// `npm run test:mutation` runs StrykerJS against these only.
export default defineConfig({
  // type-graphql is CommonJS and loads graphql's CJS build; make vitest use the same copy.
  resolve: { alias: { graphql: "graphql/index.js" } },
  test: {
    include: ["test/domain/**/*.test.ts", "test/auth/authorize*.test.ts"],
    setupFiles: ["test/setup.ts"],
    testTimeout: 30_000,
    // Each file gets a fresh module graph: a mutant in a module-level value (a constant list, a regex,
    // an arrow assigned at load) only takes effect when the module is loaded again. With one shared
    // graph those mutants survive every test that asserts them.
    isolate: true,
  },
});
