// StrykerJS: mutation testing of the rules (the pure domain and the authorization rules).
// `npm run test:mutation` runs it through scripts/mutation.mjs, which writes MUTATION.md.

/** The files whose mutants are counted; a run with another `--mutate` writes a partial summary only. */
export const MUTATE = ["src/domain/**/*.ts", "src/auth/authorize.ts"];

/** @type {import("@stryker-mutator/api/core").PartialStrykerOptions} */
export default {
  packageManager: "npm",
  testRunner: "vitest",
  vitest: { configFile: "vitest.mutation.config.ts" },
  checkers: ["typescript"],
  tsconfigFile: "tsconfig.mutation.json",
  typescriptChecker: { prioritizePerformanceOverAccuracy: true },
  mutate: MUTATE,
  coverageAnalysis: "perTest",
  // Two cores, shared: one test process per core; generous timeouts for a loaded machine.
  concurrency: 2,
  timeoutMS: 10_000,
  timeoutFactor: 2,
  dryRunTimeoutMinutes: 10,
  reporters: ["progress", "clear-text", "html", "json"],
  htmlReporter: { fileName: "reports/mutation/mutation.html" },
  jsonReporter: { fileName: "reports/mutation/mutation.json" },
  clearTextReporter: { allowColor: false, logTests: false, reportScoreTable: true, reportMutants: false },
  incrementalFile: "reports/stryker-incremental.json",
  tempDirName: ".stryker-tmp",
  cleanTempDir: "always",
  thresholds: { high: 90, low: 85, break: null },
};
