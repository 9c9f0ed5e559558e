// A failing test fails the run: the embedded PostgreSQL's exit hooks (which call process.exit(0) before
// exit) must not turn vitest's failing exit code into success. Runs vitest on one failing test with the
// same global setup as the suite.
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { tempDir } from "./support/common.js";

describe("the test run's exit code", () => {
  it("is non-zero when a test fails, with the PostgreSQL global setup in place", () => {
    const { dir, cleanup } = tempDir();
    try {
      writeFileSync(join(dir, "fail.test.mjs"), `import { it, expect } from "vitest";\nit("fails on purpose", () => expect(1).toBe(2));\n`);
      writeFileSync(
        join(dir, "vitest.config.mjs"),
        `export default { test: { root: ${JSON.stringify(dir)}, include: ["fail.test.mjs"], globalSetup: [${JSON.stringify(resolve("test/support/postgres-global-setup.ts"))}] } };\n`,
      );
      const r = spawnSync(process.execPath, [resolve("node_modules/vitest/vitest.mjs"), "run", "--config", join(dir, "vitest.config.mjs")], { encoding: "utf8", timeout: 120_000 });
      expect(r.stdout + r.stderr).toMatch(/fails on purpose/);
      expect(r.status).toBe(1);
    } finally {
      cleanup();
    }
  }, 150_000);
});
