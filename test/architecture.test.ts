// The dependency rule of the house: data flows one way, and the domain knows nothing of SQL, GraphQL or HTTP.
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith(".ts") ? [p] : [];
  });
}

/** Every module a file imports, as written (relative paths resolved against src/). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  return [...text.matchAll(/(?:import|export)\s[^;]*?from\s+"([^"]+)"|import\s+"([^"]+)"/g)].map((m) => {
    const spec = (m[1] ?? m[2])!;
    return spec.startsWith(".") ? relative("src", join(file, "..", spec)) : spec;
  });
}

/** Which top-level parts of src/ each part may import (besides itself and node: builtins). */
const ALLOWED: Record<string, { parts: string[]; packages: RegExp | null }> = {
  domain: { parts: [], packages: null },
  log: { parts: ["domain"], packages: null },
  storage: { parts: ["domain", "log"], packages: /^(better-sqlite3|pg)$/ },
};

describe("the dependency rule", () => {
  for (const [part, rule] of Object.entries(ALLOWED)) {
    it(`src/${part} imports only ${rule.parts.length ? rule.parts.join(", ") : "itself"}${rule.packages ? " and its drivers" : ""}`, () => {
      const offences: string[] = [];
      for (const file of sources(join("src", part)))
        for (const spec of importsOf(file)) {
          if (spec.startsWith("node:")) continue;
          const top = spec.includes("/") && !spec.startsWith("@") && !/^[a-z0-9-]+$/.test(spec) ? spec.split("/")[0]! : null;
          const ok = top === null ? (rule.packages?.test(spec) ?? false) : top === part || rule.parts.includes(top);
          if (!ok) offences.push(`${file} imports ${spec}`);
        }
      expect(offences).toEqual([]);
    });
  }

  it("nothing in src/ imports tests or benchmarks", () => {
    const offences = sources("src").flatMap((f) => importsOf(f).filter((s) => s.startsWith("../test") || s.startsWith("../bench")).map((s) => `${f} imports ${s}`));
    expect(offences).toEqual([]);
  });
});
