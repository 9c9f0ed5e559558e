// The mutation-testing targets: which source files StrykerJS mutates and which test files run against
// each mutant. `npm run test:mutation -- <target>` picks one (default: domain); stryker.config.mjs and
// vitest.mutation.config.ts both read the target named by MUTATION_TARGET from here.

/**
 * Each target lists the files it mutates, the tests that run against them (fast, no PostgreSQL; minus
 * `exclude`), and where its summary goes. The tests are the ones that exercise those files; a narrower set keeps a
 * run affordable on a shared two-core machine.
 */
export const TARGETS = {
  domain: {
    mutate: ["src/domain/**/*.ts", "src/auth/authorize.ts"],
    tests: ["test/domain/**/*.test.ts", "test/auth/authorize*.test.ts"],
    summary: "MUTATION.md",
  },
  merkle: {
    mutate: ["src/log/merkle/**/*.ts"],
    tests: ["test/log/merkle/**/*.test.ts"],
    // The same rules as verify's and tree-arithmetic's at many times their cost (every size up to 200):
    // it runs in `npm test`, too slow to run against every mutant.
    exclude: ["test/log/merkle/proof-generation.test.ts"],
    summary: "docs/mutation/merkle.md",
    checker: false,
  },
  checkpoint: {
    mutate: ["src/log/checkpoint/**/*.ts"],
    tests: ["test/log/checkpoint/**/*.test.ts", "test/log/log-parts.test.ts"],
    summary: "docs/mutation/checkpoint.md",
    checker: false,
  },
  log: {
    mutate: ["src/log/*.ts", "!src/log/transparency-log.ts"],
    tests: ["test/log/log-parts.test.ts", "test/log/canonical.test.ts"],
    summary: "docs/mutation/log.md",
    checker: false,
  },
  transparency: {
    mutate: ["src/log/transparency-log.ts"],
    tests: ["test/log/transparency-log.test.ts", "test/log/log-parts.test.ts"],
    summary: "docs/mutation/transparency.md",
    checker: false,
  },
  auth: {
    mutate: ["src/auth/token-verifier.ts"],
    tests: ["test/auth/token-verifier*.test.ts"],
    summary: "docs/mutation/auth.md",
    checker: false,
  },
  graphql: {
    mutate: ["src/graphql/operation-cost.ts"],
    tests: ["test/graphql/operation-cost*.test.ts", "test/graphql/limits.test.ts"],
    summary: "docs/mutation/graphql.md",
    checker: false,
  },
  storage: {
    mutate: ["src/storage/event-row.ts", "src/storage/store-unavailable.ts", "src/feed/feed-cursor.ts"],
    tests: ["test/storage/pure/**/*.test.ts", "test/feed/feed-cursor*.test.ts", "test/log/canonical.test.ts"],
    summary: "docs/mutation/storage.md",
    checker: false,
  },
};

export const DEFAULT_TARGET = "domain";

/** The target named by MUTATION_TARGET (default: domain); an unknown name throws. */
export function currentTarget(env = process.env) {
  const name = env.MUTATION_TARGET || DEFAULT_TARGET;
  const target = TARGETS[name];
  if (!target) throw new Error(`unknown mutation target "${name}"; known: ${Object.keys(TARGETS).join(", ")}`);
  return { name, ...target };
}
