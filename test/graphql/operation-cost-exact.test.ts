// The cost model's arithmetic, field by field, on the ledger's schema: each price worked out by hand
// from the rules (one per field, pages and lists by their size, proofs, exports and whole-log reads at
// their own price, bytes per key and value), so any change to a rule changes a number here.
import {
  type FragmentDefinitionNode,
  type GraphQLSchema,
  Kind,
  type OperationDefinitionNode,
  buildSchema,
  parse,
} from "graphql";
import { beforeAll, describe, expect, it } from "vitest";
import {
  EVENT_BYTES,
  EXPORT_COST,
  LEAF_BYTES,
  PROOF_COST,
  RECEIPT_BYTES,
  UNPAGED_LIST_SIZE,
  WHOLE_LOG_COST,
  operationCost,
} from "../../src/graphql/operation-cost.js";
import { buildLedgerSchema } from "../../src/graphql/schema.js";

let schema: GraphQLSchema;
beforeAll(async () => {
  schema = await buildLedgerSchema();
});

function costOf(source: string, variables: Record<string, unknown> = {}, on: GraphQLSchema = schema) {
  const doc = parse(source);
  const op = doc.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION)!;
  const fragments = new Map(doc.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((f) => [f.name.value, f]));
  return operationCost(on, op, fragments, variables);
}

const cost = (depth: number, c: number, bytes: number, wholeLog = 0, exports = 0) => ({ depth, cost: c, wholeLog, exports, bytes });
/** An object field's own bytes: its key and braces. */
const obj = (name: string) => 2 + name.length;

describe("the prices", () => {
  it("are what the docs say", () => {
    expect({ UNPAGED_LIST_SIZE, WHOLE_LOG_COST, EXPORT_COST, PROOF_COST, LEAF_BYTES, EVENT_BYTES, RECEIPT_BYTES }).toEqual({
      UNPAGED_LIST_SIZE: 5,
      WHOLE_LOG_COST: 1_000,
      EXPORT_COST: 1_000,
      PROOF_COST: 100,
      LEAF_BYTES: 64,
      EVENT_BYTES: 8_192,
      RECEIPT_BYTES: 4 * 8_192,
    });
  });
});

describe("plain fields", () => {
  it("a leaf costs one and a scalar's bytes; an object one more than its fields, its key and braces", () => {
    expect(costOf(`{ ledgerCheckpoint { origin } }`)).toEqual(cost(2, 2, obj("ledgerCheckpoint") + LEAF_BYTES));
    expect(costOf(`{ ledgerCheckpoint { origin treeSize rootHash note } }`)).toEqual(cost(2, 5, obj("ledgerCheckpoint") + 4 * LEAF_BYTES));
    expect(costOf(`{ a: ledgerCheckpoint { origin } b: ledgerCheckpoint { note } }`)).toEqual(cost(2, 4, 2 * (obj("ledgerCheckpoint") + LEAF_BYTES)));
  });

  it("depth is the deepest path", () => {
    expect(costOf(`{ ledgerCheckpoint { origin } me { id } }`).depth).toBe(2);
    expect(costOf(`{ me { id } ledgerHead { hash } policies { currentVersion { number } } }`).depth).toBe(3);
  });

  it("introspection fields cost one and a scalar's bytes, and add no depth", () => {
    expect(costOf(`{ __typename }`)).toEqual(cost(0, 1, LEAF_BYTES));
    expect(costOf(`{ ledgerCheckpoint { __typename } }`)).toEqual(cost(1, 2, obj("ledgerCheckpoint") + LEAF_BYTES));
    expect(costOf(`{ __schema { types { name fields { name type { name } } } } }`)).toEqual(cost(0, 1, LEAF_BYTES));
  });

  it("an unknown field counts as nothing (validation refuses it)", () => {
    expect(costOf(`{ noSuchField }`)).toEqual(cost(0, 0, 0));
    expect(costOf(`{ ledgerCheckpoint { noSuchField } }`)).toEqual(cost(1, 1, obj("ledgerCheckpoint")));
  });
});

describe("connections", () => {
  // events → edges → node → id: id 1 | 64; node 2 | 6 + 64; edges 3 | 7 + 70 (a connection's list is its page).
  const edgeBytes = obj("edges") + obj("node") + LEAF_BYTES;
  const page = (n: number) => cost(4, 1 + (n * 3) / 2, obj("events") + n * edgeBytes);

  it("a page costs half its size times its items' cost, and holds its size in items", () => {
    expect(costOf(`{ events(first: 10) { edges { node { id } } } }`)).toEqual(page(10));
    expect(costOf(`{ events(first: 3) { edges { node { id } } } }`)).toEqual(page(3));
    expect(costOf(`query($n: Int) { events(first: $n) { edges { node { id } } } }`, { n: 40 })).toEqual(page(40));
  });

  it("without first, the default page of 100; an empty page counts as one item", () => {
    expect(costOf(`{ events { edges { node { id } } } }`)).toEqual(page(100));
    expect(costOf(`{ events(first: null) { edges { node { id } } } }`)).toEqual(page(100));
    expect(costOf(`{ events(first: 0) { edges { node { id } } } }`)).toEqual(page(1));
    expect(costOf(`{ events(first: -5) { edges { node { id } } } }`)).toEqual(page(1));
  });

  it("items that cost nothing still cost one each", () => {
    expect(costOf(`{ events(first: 4) { noSuchField } }`)).toEqual(cost(1, 1 + 4 / 2, obj("events")));
  });

  it("an event's data and canonical text are priced at an event's bytes", () => {
    const withField = (f: string) => costOf(`{ events(first: 2) { edges { node { ${f} } } } }`);
    const expected = cost(4, 1 + (2 * 3) / 2, obj("events") + 2 * (obj("edges") + obj("node") + EVENT_BYTES));
    expect(withField("data")).toEqual(expected);
    expect(withField("canonical")).toEqual(expected);
  });
});

describe("lists", () => {
  it("a list without first is priced at UNPAGED_LIST_SIZE items", () => {
    expect(costOf(`{ policies { id } }`)).toEqual(cost(2, 1 + 5, obj("policies") + 5 * LEAF_BYTES));
    expect(costOf(`{ policies { versions { number } } }`)).toEqual(cost(3, 1 + 5 * (1 + 5), obj("policies") + 5 * (obj("versions") + 5 * LEAF_BYTES)));
    expect(costOf(`{ policies { noSuchField } }`)).toEqual(cost(1, 1 + 5, obj("policies")));
  });

  it("a list with first is priced at first items, at least one", () => {
    expect(costOf(`{ dataRequests(first: 3) { id } }`)).toEqual(cost(2, 1 + 3, obj("dataRequests") + 3 * LEAF_BYTES));
    expect(costOf(`{ dataRequests(first: 0) { id } }`)).toEqual(cost(2, 1 + 1, obj("dataRequests") + LEAF_BYTES));
    expect(costOf(`{ dataRequests { id } }`)).toEqual(cost(2, 1 + 100, obj("dataRequests") + 100 * LEAF_BYTES));
    expect(costOf(`{ dataRequests(first: null) { id } }`)).toEqual(cost(2, 1 + 5, obj("dataRequests") + 5 * LEAF_BYTES));
  });

  it("a list of checks is priced at the number of checks", () => {
    const checks = (n: number) => `[${Array.from({ length: n }, (_, i) => `{ subjectId: "s${i}", purposeId: "p" }`).join(", ")}]`;
    expect(costOf(`{ permissions(checks: ${checks(3)}) { permitted } }`)).toEqual(cost(2, 1 + 3, obj("permissions") + 3 * LEAF_BYTES));
    expect(costOf(`{ permissions(checks: []) { permitted } }`)).toEqual(cost(2, 1 + 1, obj("permissions") + LEAF_BYTES));
    expect(costOf(`query($c: [PermissionCheckInput!]!) { permissions(checks: $c) { permitted } }`, { c: [{ subjectId: "a", purposeId: "p" }, { subjectId: "b", purposeId: "p" }] })).toEqual(
      cost(2, 1 + 2, obj("permissions") + 2 * LEAF_BYTES),
    );
  });

  it("a list of scalars costs one per item and a scalar's bytes", () => {
    expect(costOf(`{ reconsentPending(policyId: "p", first: 7) }`)).toEqual(cost(1, 1 + 7, LEAF_BYTES));
  });
});

describe("proofs, receipts, exports and whole-log reads", () => {
  it("a proof costs PROOF_COST on top of its fields", () => {
    expect(costOf(`{ inclusionProof(eventId: "e") { leafIndex } }`)).toEqual(cost(2, 1 + 1 + PROOF_COST, obj("inclusionProof") + LEAF_BYTES));
    expect(costOf(`{ consistencyProof(fromSize: 1) { hashes } }`)).toEqual(cost(2, 1 + (1 + 5) + PROOF_COST, obj("consistencyProof") + LEAF_BYTES));
  });

  it("a receipt costs a proof and holds a few events' bytes", () => {
    expect(costOf(`{ me { receipt(eventId: "e") } }`)).toEqual(cost(2, 1 + 1 + PROOF_COST, obj("me") + RECEIPT_BYTES));
  });

  it("an export costs EXPORT_COST and counts once per field", () => {
    expect(costOf(`{ subjectExport(subjectId: "s") }`)).toEqual(cost(1, 1 + EXPORT_COST, LEAF_BYTES, 0, 1));
    expect(costOf(`{ a: subjectExport(subjectId: "s") b: subjectExport(subjectId: "t") }`)).toEqual(cost(1, 2 * (1 + EXPORT_COST), 2 * LEAF_BYTES, 0, 2));
  });

  it("ledgerIntegrity reads the whole log", () => {
    expect(costOf(`{ ledgerIntegrity { eventCount } }`)).toEqual(cost(2, 1 + 1 + WHOLE_LOG_COST, obj("ledgerIntegrity") + LEAF_BYTES, 1));
  });

  it("events filtered by type without a subject read the whole log; with a subject, or no types, they do not", () => {
    const pageInfo = obj("pageInfo") + LEAF_BYTES;
    const page = (args: string, wholeLog: number) =>
      expect(costOf(`{ events(first: 2, ${args}) { pageInfo { hasNextPage } } }`)).toEqual(cost(3, 1 + (2 * 2) / 2 + wholeLog * WHOLE_LOG_COST, obj("events") + 2 * pageInfo, wholeLog));
    page(`types: ["ConsentGranted"]`, 1);
    page(`types: ["ConsentGranted"], subjectId: null`, 1);
    page(`types: ["ConsentGranted"], subjectId: "a"`, 0);
    page(`types: []`, 0);
    page(`types: null`, 0);
    page(`subjectId: "a"`, 0);
    // A subject's history filtered by type reads that subject's events only.
    expect(costOf(`{ me { history(types: ["ConsentGranted"]) { id } } }`).wholeLog).toBe(0);
  });
});

describe("fragments", () => {
  it("inline fragments with and without a type condition cost their fields", () => {
    const plain = costOf(`{ ledgerCheckpoint { origin note } }`);
    expect(costOf(`{ ledgerCheckpoint { ... on Checkpoint { origin } ... { note } } }`)).toEqual(plain);
    expect(costOf(`{ ... on Query { ledgerCheckpoint { origin note } } }`)).toEqual(plain);
    // An unknown or non-object type condition counts as nothing.
    expect(costOf(`{ ledgerCheckpoint { origin ... on NoSuchType { note } } }`)).toEqual(costOf(`{ ledgerCheckpoint { origin } }`));
  });

  it("named fragments cost their fields at every spread; unknown, non-object and cyclic ones cost nothing", () => {
    expect(costOf(`{ ledgerCheckpoint { ...F ...F } } fragment F on Checkpoint { origin }`)).toEqual(cost(2, 3, obj("ledgerCheckpoint") + 2 * LEAF_BYTES));
    expect(costOf(`{ ledgerCheckpoint { origin ...Missing } }`)).toEqual(costOf(`{ ledgerCheckpoint { origin } }`));
    expect(costOf(`{ ledgerCheckpoint { origin ...S } } fragment S on String { length }`)).toEqual(costOf(`{ ledgerCheckpoint { origin } }`));
    expect(costOf(`{ ledgerCheckpoint { ...A } } fragment A on Checkpoint { origin ...A }`)).toEqual(costOf(`{ ledgerCheckpoint { origin } }`));
    expect(costOf(`{ ledgerCheckpoint { ...A } } fragment A on Checkpoint { origin ...B } fragment B on Checkpoint { note ...A }`)).toEqual(
      costOf(`{ ledgerCheckpoint { origin note } }`),
    );
  });
});

describe("arguments and operations", () => {
  it("refuses a NUL in any argument, literal or variable", () => {
    expect(() => costOf(`{ subject(id: "a\\u0000b") { id } }`)).toThrow("the arguments of subject hold a NUL character (U+0000), which no input may contain");
    expect(() => costOf(`query($id: ID!) { subject(id: $id) { id } }`, { id: "x\u0000" })).toThrow(/NUL character/);
  });

  it("prices mutations and subscriptions from their own root type, and names a missing one", () => {
    const tiny = buildSchema(`type Query { a: Int } type Mutation { b: Int }`);
    expect(costOf(`mutation { b }`, {}, tiny)).toEqual(cost(1, 1, LEAF_BYTES));
    expect(costOf(`mutation { a }`, {}, tiny)).toEqual(cost(0, 0, 0));
    expect(() => costOf(`subscription { a }`, {}, tiny)).toThrow("the schema has no subscription type");
  });
});
