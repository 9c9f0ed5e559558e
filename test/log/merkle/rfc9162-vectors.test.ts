// The transparency-dev/merkle test vectors (test/fixtures/rfc9162): every valid proof verifies, every broken one is refused.
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { ProofError, verifyConsistency, verifyInclusion } from "../../../src/log/merkle/index.js";

const root = fileURLToPath(new URL("../../fixtures/rfc9162", import.meta.url));

function jsonFiles(dir: string): string[] {
  return readdirSync(dir)
    .flatMap((name) => {
      const p = join(dir, name);
      return statSync(p).isDirectory() ? jsonFiles(p) : p.endsWith(".json") ? [p] : [];
    })
    .sort();
}

const b64 = (s: string) => Buffer.from(s, "base64");

interface InclusionCase {
  leafIdx: number;
  treeSize: number;
  root: string;
  leafHash: string;
  proof: string[] | null;
  desc: string;
  wantErr: boolean;
}
interface ConsistencyCase {
  size1: number;
  size2: number;
  root1: string;
  root2: string;
  proof: string[] | null;
  desc: string;
  wantErr: boolean;
}

const load = <T>(file: string): T => JSON.parse(readFileSync(file, "utf8")) as T;
const inclusion = jsonFiles(join(root, "inclusion")).map((f) => ({ name: relative(root, f), c: load<InclusionCase>(f) }));
const consistency = jsonFiles(join(root, "consistency")).map((f) => ({ name: relative(root, f), c: load<ConsistencyCase>(f) }));

/** The verdict of a check: "ok", or the ProofError's message (any other throw fails the test). */
function verdict(check: () => void): string {
  try {
    check();
    return "ok";
  } catch (e) {
    if (e instanceof ProofError) return e.message;
    throw e;
  }
}

describe("RFC 9162 test vectors", () => {
  it("are all there, with their licence", () => {
    expect(inclusion.length + consistency.length).toBe(196);
    expect(readFileSync(join(root, "LICENSE"), "utf8")).toContain("Apache License");
    // Both kinds of case are present in both folders, so neither half of the oracle is empty.
    for (const set of [inclusion, consistency]) {
      expect(set.some(({ c }) => c.wantErr)).toBe(true);
      expect(set.some(({ c }) => !c.wantErr)).toBe(true);
    }
  });

  describe.each(inclusion)("inclusion $name", ({ c }) => {
    it(`${c.desc}: ${c.wantErr ? "refused" : "verifies"}`, () => {
      const v = verdict(() => verifyInclusion(c.leafIdx, c.treeSize, b64(c.leafHash), (c.proof ?? []).map(b64), b64(c.root)));
      if (c.wantErr) expect(v).not.toBe("ok");
      else expect(v).toBe("ok");
    });
  });

  describe.each(consistency)("consistency $name", ({ c }) => {
    it(`${c.desc}: ${c.wantErr ? "refused" : "verifies"}`, () => {
      const v = verdict(() => verifyConsistency(c.size1, c.size2, (c.proof ?? []).map(b64), b64(c.root1), b64(c.root2)));
      if (c.wantErr) expect(v).not.toBe("ok");
      else expect(v).toBe("ok");
    });
  });
});
