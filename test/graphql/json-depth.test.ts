// The depth check that runs on a request body before JSON.parse: it must agree with the parsed value's depth.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { jsonNestsDeeperThan } from "../../src/graphql/input-values.js";

/** Arrays and objects nested in a value (a scalar is depth 0). */
const depthOf = (v: unknown): number => (v !== null && typeof v === "object" ? 1 + Math.max(0, ...Object.values(v as object).map(depthOf)) : 0);

describe("jsonNestsDeeperThan", () => {
  it("agrees with the depth of the parsed value, for any JSON and any bound", () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 12 }), fc.integer({ min: 0, max: 14 }), (value, max) => {
        const text = JSON.stringify(value);
        expect(jsonNestsDeeperThan(text, max)).toBe(depthOf(JSON.parse(text)) > max);
      }),
    );
  });

  it("is not misled by brackets, braces, quotes and escapes inside strings", () => {
    const tricky = JSON.stringify({ a: '[[[{{{"\\', b: ["]]]}}}", '\\"[['] });
    expect(jsonNestsDeeperThan(tricky, 2)).toBe(false);
    expect(jsonNestsDeeperThan(tricky, 1)).toBe(true);
  });

  it("refuses a body nested hundreds of thousands of levels without parsing it", () => {
    const body = `{"query":"{ me { id } }","variables":{"x":${"[".repeat(400_000)}${"]".repeat(400_000)}}}`;
    expect(jsonNestsDeeperThan(body, 34)).toBe(true);
    expect(jsonNestsDeeperThan(`{"query":"{ me { id } }","variables":{"x":[[1]]}}`, 34)).toBe(false);
  });
});
