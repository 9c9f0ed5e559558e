// package.json's engines range and what docs/operations.md says about it: the Node running the tests is
// inside the range, and the packages that declare a newer Node than its floor are exactly the ones named there.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

const pkg = JSON.parse(readFileSync("package.json", "utf8")) as { engines: { node: string } };
const lock = JSON.parse(readFileSync("package-lock.json", "utf8")) as { packages: Record<string, { engines?: { node?: string } | string[] }> };

type Version = [number, number, number];
const parse = (v: string): Version => {
  const [a = 0, b = 0, c = 0] = v.replace(/^v/, "").split(".").map((n) => Number.parseInt(n, 10));
  return [a, b, c];
};
const cmp = (a: Version, b: Version) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2];

/** The floor (>=) and ceiling (<) of a range written as ">=A.B[.C] <D" (what this package.json uses). */
function bounds(range: string): { floor: Version; ceiling: Version | null } {
  const floor = /(?:^|\s)>=\s*([\d.]+)/.exec(range);
  const ceiling = /(?:^|\s)<\s*([\d.]+)/.exec(range);
  if (!floor) throw new Error(`no >= in ${range}`);
  return { floor: parse(floor[1]!), ceiling: ceiling ? parse(ceiling[1]!) : null };
}

describe("the Node.js versions", () => {
  it("the Node running the tests is inside package.json's engines range", () => {
    const { floor, ceiling } = bounds(pkg.engines.node);
    const now = parse(process.versions.node);
    expect(cmp(now, floor)).toBeGreaterThanOrEqual(0);
    if (ceiling) expect(cmp(now, ceiling)).toBeLessThan(0);
  });

  it("the packages declaring a Node newer than the floor are the ones docs/operations.md names", () => {
    const { floor } = bounds(pkg.engines.node);
    const newer = new Set<string>();
    for (const [path, p] of Object.entries(lock.packages)) {
      const range = !p.engines || Array.isArray(p.engines) ? undefined : p.engines.node;
      // Simple ">=X" ranges only: an "||" range that admits the floor (as most do) is fine.
      const m = range && !range.includes("||") ? /^>=\s*([\d.]+)$/.exec(range.trim()) : null;
      if (m && cmp(parse(m[1]!), floor) > 0) newer.add(path.replace(/^.*node_modules\//, ""));
    }
    const documented = readFileSync("docs/operations.md", "utf8");
    for (const name of newer) expect(documented, `${name} declares a newer Node than ${pkg.engines.node}: say so in docs/operations.md`).toContain(`\`${name}\``);
  });
});
