// `npm start` on a fresh clone builds first, and says so: a line before the build, its time after.
import { spawnSync } from "node:child_process";
import { utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { tempDir } from "../support/common.js";

/** Runs buildIfStale in a child node, with a build step that writes the marker; returns its stderr. */
function buildStderr(dir: string, sourcesMtime: number): string {
  const out = join(dir, "out");
  const step = join(dir, "build.mjs");
  writeFileSync(step, `import { writeFileSync } from "node:fs"; writeFileSync(${JSON.stringify(out)}, "built");`);
  const script = `import { buildIfStale } from ${JSON.stringify(new URL("../../scripts/build-step.mjs", import.meta.url).href)};
    buildIfStale({ what: "the thing", marker: ${JSON.stringify(out)}, sourcesMtime: ${sourcesMtime}, steps: [[${JSON.stringify(step)}]] });`;
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
  expect(r.status, r.stderr).toBe(0);
  return r.stderr;
}

describe("the build step of npm start", () => {
  it("says what it builds and why before building, and how long it took after; says nothing when up to date", () => {
    const { dir, cleanup } = tempDir();
    try {
      expect(buildStderr(dir, 0)).toMatch(/^consent-ledger: building the thing \(first start\); this takes .*\nconsent-ledger: built the thing in \d+\.\d s\n$/);
      expect(buildStderr(dir, 0)).toBe("");
      // Sources newer than the output: built again, and the reason says so.
      utimesSync(join(dir, "out"), new Date(1_000), new Date(1_000));
      expect(buildStderr(dir, Date.now())).toMatch(/building the thing \(its sources changed\)/);
    } finally {
      cleanup();
    }
  });
});
