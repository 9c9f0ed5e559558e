// StrykerJS: mutation testing of the rules (the pure domain, the authorization rules, the transparency
// log, the token verifier, the operation cost model, the storage port's pure helpers).
// `npm run test:mutation -- <target>` runs it through scripts/mutation.mjs, which sets MUTATION_TARGET
// and writes the target's summary; scripts/mutation-targets.mjs lists the targets.
import { TARGETS, currentTarget } from "./scripts/mutation-targets.mjs";

const target = currentTarget();

/** The files whose mutants are counted; a run with another `--mutate` writes a partial summary only. */
export const MUTATE = target.mutate;

/** Every file some target mutates: the TypeScript checker's tsconfig includes them all. */
export const ALL_MUTATED = Object.values(TARGETS).flatMap((t) => t.mutate.filter((m) => !m.startsWith("!")));

/** @type {import("@stryker-mutator/api/core").PartialStrykerOptions} */
export default {
  packageManager: "npm",
  testRunner: "vitest",
  // vitest.mutation.config.ts reads MUTATION_TARGET too, and runs only the target's tests.
  vitest: { configFile: "vitest.mutation.config.ts" },
  // The checker drops mutants that do not type-check before any test runs; a target may go without it
  // (`checker: false`) when the program it would check (everything its tests import) costs more than
  // running those mutants' tests: vitest strips types, so such a mutant runs as the JavaScript it is.
  checkers: target.checker === false ? [] : ["typescript"],
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
  // One report folder per target, so that targets can run side by side.
  htmlReporter: { fileName: `reports/mutation/${target.name}/mutation.html` },
  jsonReporter: { fileName: `reports/mutation/${target.name}/mutation.json` },
  clearTextReporter: { allowColor: false, logTests: false, reportScoreTable: true, reportMutants: false },
  incrementalFile: `reports/stryker-incremental-${target.name}.json`,
  // One sandbox folder per target (targets may run side by side); none is copied into another's sandbox.
  tempDirName: `.stryker-tmp/${target.name}`,
  ignorePatterns: ["/.stryker-tmp", "/reports", "/dist", "/docs/mutation", "/MUTATION.md"],
  cleanTempDir: "always",
  // The whole run fails below 90%; scripts/mutation.mjs also fails it when any single file is below.
  thresholds: { high: 95, low: 90, break: 90 },
};
