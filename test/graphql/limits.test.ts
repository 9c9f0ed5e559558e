// The operation limits remember what passed, per document and variables, without letting anything through.
import fc from "fast-check";
import { type GraphQLError, getOperationAST, parse, print } from "graphql";
import { beforeAll, describe, expect, it } from "vitest";
import type { GraphQLSchema } from "graphql";
import { analyse, checkOperationLimits, priceIsFixed } from "../../src/graphql/limits.js";
import { buildLedgerSchema } from "../../src/graphql/schema.js";

let schema: GraphQLSchema;
beforeAll(async () => {
  schema = await buildLedgerSchema();
});
const limits = { maxDepth: 12, maxCost: 5_000 };
const feed = parse(`query Feed($n: Int) { a: events(first: $n) { edges { node { id type data } } } b: events(first: $n) { edges { node { id type data } } } }`);

describe("checkOperationLimits", () => {
  it("passes a cheap page twice and still refuses the same document with costlier variables", () => {
    expect(() => checkOperationLimits({ schema, document: feed, variables: { n: 10 }, limits })).not.toThrow();
    expect(() => checkOperationLimits({ schema, document: feed, variables: { n: 10 }, limits })).not.toThrow();
    expect(() => checkOperationLimits({ schema, document: feed, variables: { n: 1000 }, limits })).toThrow(/exceeds the limit/);
    expect(() => checkOperationLimits({ schema, document: feed, variables: { n: 1000 }, limits })).toThrow(/exceeds the limit/);
  });

  it("re-checks a remembered document against tighter limits", () => {
    expect(() => checkOperationLimits({ schema, document: feed, variables: { n: 20 }, limits })).not.toThrow();
    expect(() => checkOperationLimits({ schema, document: feed, variables: { n: 20 }, limits: { maxDepth: 12, maxCost: 10 } })).toThrow(/exceeds the limit of 10/);
    expect(() => checkOperationLimits({ schema, document: feed, variables: { n: 20 }, limits: { maxDepth: 2, maxCost: 5_000 } })).toThrow(/depth/);
  });
});

describe("a price that does not depend on the variables", () => {
  const permission = parse(`query P($s: String!, $p: String!) { permission(subjectId: $s, purposeId: $p) { permitted reason status } }`);

  it("is told apart from one that does", () => {
    const fixed = (text: string) => {
      const d = parse(text);
      return priceIsFixed(d, getOperationAST(d)!);
    };
    expect(priceIsFixed(permission, getOperationAST(permission)!)).toBe(true);
    expect(fixed(`query($n: Int) { events(first: $n) { edges { node { id } } } }`)).toBe(false);
    expect(fixed(`query($t: [String!]) { events(first: 5, types: $t) { edges { node { id } } } }`)).toBe(false);
    expect(fixed(`query($s: String) { events(first: 5, subjectId: $s) { edges { node { id } } } }`)).toBe(false);
    expect(fixed(`query($n: Int) { ...F } fragment F on Query { events(first: $n) { edges { node { id } } } }`)).toBe(false);
    expect(fixed(`query($s: String! = "a", $p: String!) { permission(subjectId: $s, purposeId: $p) { permitted } }`)).toBe(false);
    expect(fixed(`query { events(first: 5) { edges { node { id } } } }`)).toBe(true);
  });

  it("is priced once and still refuses variables of the wrong type with graphql's own message", () => {
    const first = checkOperationLimits({ schema, document: permission, variables: { s: "a", p: "b" }, limits });
    expect(checkOperationLimits({ schema, document: permission, variables: { s: "c", p: "d" }, limits })).toBe(first);
    const fresh = parse(print(permission));
    const refusal = (document: typeof permission) => {
      try {
        checkOperationLimits({ schema, document, variables: { s: 5, p: "d" }, limits });
      } catch (e) {
        return { message: (e as GraphQLError).message, code: (e as GraphQLError).extensions["code"] };
      }
      return null;
    };
    expect(refusal(permission)).toEqual(refusal(fresh));
    expect(refusal(permission)).toMatchObject({ code: "BAD_USER_INPUT" });
    expect(() => checkOperationLimits({ schema, document: permission, variables: { s: "a\u0000", p: "d" }, limits })).toThrow(/NUL/);
  });

  it("is the price a fresh analysis gives, whatever the variables", () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (s, p) => {
        const fixed = checkOperationLimits({ schema, document: permission, variables: { s, p }, limits });
        expect(analyse(schema, parse(print(permission)), { s, p })).toEqual(fixed);
      }),
      { numRuns: 50 },
    );
  });
});
