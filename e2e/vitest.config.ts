// `npm run test:e2e`: the browser tests, kept apart from `npm test` (they need the web build and Chromium).
import { defineConfig } from "vitest/config";

export const e2eConfig = defineConfig({
  resolve: { alias: { graphql: "graphql/index.js" } },
  test: {
    include: ["e2e/**/*.e2e.ts"],
    setupFiles: ["test/setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    // One browser at a time: the machine has two cores.
    fileParallelism: false,
  },
});

// Vitest reads a config module's default export.
export default e2eConfig;
