// The suite's own rule: no test waits a fixed time. Tests wait on events (a message, a gate, an
// exit) or move a TestClock; what nothing announces goes through eventually() (test/support/common.ts).
import { readFileSync, readdirSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";

const ROOTS = ["test", "client/test", "e2e"];
/** The one place a delay lives: eventually()'s interval between two looks. */
const ALLOWED = new Set(["test/support/common.ts"]);

function tsFiles(dir: string): string[] {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return e.name === "node_modules" || e.name === "fixtures" ? [] : tsFiles(path);
    return /\.(ts|tsx|mts)$/.test(e.name) ? [path] : [];
  });
}

describe("test hygiene", () => {
  it("no test file calls sleep(): waits are on events, a test clock, or eventually()", () => {
    const offenders = ROOTS.flatMap(tsFiles)
      .map((f) => relative(process.cwd(), f))
      .filter((f) => !ALLOWED.has(f) && f !== "test/test-hygiene.test.ts")
      .flatMap((f) =>
        readFileSync(f, "utf8")
          .split("\n")
          .map((line, i) => ({ where: `${f}:${i + 1}`, line }))
          .filter(({ line }) => /\bsleep\s*\(/.test(line) && !/^\s*(\/\/|\*)/.test(line)),
      )
      .map(({ where, line }) => `${where}: ${line.trim()}`);
    expect(offenders).toEqual([]);
  });
});
