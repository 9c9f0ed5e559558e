// The operation limits remember what passed, per document and variables, without letting anything through.
import { parse } from "graphql";
import { beforeAll, describe, expect, it } from "vitest";
import type { GraphQLSchema } from "graphql";
import { checkOperationLimits } from "../../src/graphql/limits.js";
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
