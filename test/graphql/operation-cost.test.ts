// The cost model: fragments priced once each yet equal to the expanded tree, real prices for exports and whole-log reads.
import fc from "fast-check";
import { type DocumentNode, type FragmentDefinitionNode, type GraphQLSchema, Kind, type OperationDefinitionNode, parse } from "graphql";
import { beforeAll, describe, expect, it } from "vitest";
import { checkOperationLimits } from "../../src/graphql/limits.js";
import { EXPORT_COST, PROOF_COST, RECEIPT_BYTES, WHOLE_LOG_COST, operationCost } from "../../src/graphql/operation-cost.js";
import { rangeNodes } from "../../src/log/merkle/node-id.js";
import { consistencyPlan, inclusionPlan } from "../../src/log/merkle/proof-plan.js";
import { buildLedgerSchema } from "../../src/graphql/schema.js";

let schema: GraphQLSchema;
beforeAll(async () => {
  schema = await buildLedgerSchema();
});

function costOf(source: string, variables: Record<string, unknown> = {}) {
  const doc = parse(source);
  const op = doc.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION)!;
  const fragments = new Map(doc.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((f) => [f.name.value, f]));
  return operationCost(schema, op, fragments, variables);
}

/** `{ me { ...F0 } }` with F_i spreading F_{i+1} twice: the finding-1 document, 2^n paths when expanded. */
const fragmentChain = (n: number) =>
  `{ me { ...F0 } }\n${Array.from({ length: n }, (_, i) => (i < n - 1 ? `fragment F${i} on Subject { id ...F${i + 1} ...F${i + 1} }` : `fragment F${i} on Subject { id }`)).join("\n")}`;

/** Inlines every fragment spread (for small documents only: this is the exponential expansion the analysis avoids). */
function expand(source: string): string {
  const doc = parse(source);
  const frags = new Map<string, string>();
  for (const d of doc.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) frags.set(d.name.value, source.slice(d.selectionSet.loc!.start + 1, d.selectionSet.loc!.end - 1));
  const op = doc.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION)!;
  let text = source.slice(op.loc!.start, op.loc!.end);
  for (let guard = 0; /\.\.\.([A-Za-z_][A-Za-z0-9_]*)/.test(text) && guard < 10_000; guard++)
    text = text.replace(/\.\.\.([A-Za-z_][A-Za-z0-9_]*)/, (_m, name: string) => ` ${frags.get(name)} `);
  return text;
}

describe("finding 1: fragment-safe analysis", () => {
  it("prices the 22-fragment chain as its expanded tree (2^22 - 1 ids plus me) without expanding it", () => {
    const c = costOf(fragmentChain(22));
    expect(c.cost).toBe(1 + (2 ** 22 - 1));
    expect(c.depth).toBe(2);
  });

  it("analyses a 400-fragment doubling chain (2^400 paths) as fast as a chain that spreads each fragment once", () => {
    const analyse = (source: string) => {
      const doc = parse(source);
      const op = doc.definitions[0] as OperationDefinitionNode;
      const fragments = new Map(doc.definitions.slice(1).map((f) => [(f as FragmentDefinitionNode).name.value, f as FragmentDefinitionNode]));
      let best = Number.POSITIVE_INFINITY;
      let cost = 0;
      for (let i = 0; i < 5; i++) {
        const started = performance.now();
        cost = operationCost(schema, op, fragments, {}).cost;
        best = Math.min(best, performance.now() - started);
      }
      return { best, cost };
    };
    const single = analyse(fragmentChain(400).replace(/ \.\.\.F(\d+) \.\.\.F\1 /g, " ...F$1 "));
    const doubling = analyse(fragmentChain(400));
    expect(single.cost).toBe(1 + 400);
    expect(doubling.cost).toBe(2 ** 400);
    // Linear, not exponential: a shared machine slows both alike; 50 ms is the safety bound.
    expect(doubling.best).toBeLessThan(3 * single.best + 50);
  });

  it("refuses the chain as too costly through the validation rule", () => {
    expect(() => checkOperationLimits({ schema, document: parse(fragmentChain(22)), limits: { maxDepth: 12, maxCost: 5_000 } })).toThrow(/query cost 4194304 exceeds the limit of 5000/);
  });

  it("fan-out through aliased fields is priced on the expanded tree too", () => {
    // Three aliases of `overrides` per level, ten levels deep: 3^10 paths.
    const levels = Array.from({ length: 10 }, (_, i) => `fragment P${i} on Policy { ${["a", "b", "c"].map((a) => `${a}: overrides { ${i < 9 ? `...P${i + 1}` : "id"} }`).join(" ")} }`);
    const source = `{ policies { ...P0 } }\n${levels.join("\n")}`;
    const c = costOf(source);
    expect(c.depth).toBe(12);
    expect(c.cost).toBeGreaterThan(3 ** 10);
    expect(() => checkOperationLimits({ schema, document: parse(source), limits: { maxDepth: 12, maxCost: 5_000 } })).toThrow(/QUERY_TOO_COMPLEX|exceeds the limit of 5000/);
  });

  it("property: a document with fragments costs exactly what its inlined form costs", () => {
    // Random fragment DAGs over Policy: each fragment selects id, some aliased `overrides` and spreads of later fragments.
    const shape = fc.array(fc.record({ spreads: fc.array(fc.nat(5), { maxLength: 3 }), overrides: fc.nat(2), first: fc.boolean() }), { minLength: 1, maxLength: 6 });
    fc.assert(
      fc.property(shape, (frags) => {
        const n = frags.length;
        const body = (i: number) => {
          const f = frags[i]!;
          const later = f.spreads.map((s) => i + 1 + (s % Math.max(n - i - 1, 1))).filter((j) => j < n);
          const spreads = later.map((j) => `...G${j}`).join(" ");
          const over = Array.from({ length: f.overrides }, (_, k) => `o${k}: overrides { id ${spreads} }`).join(" ");
          return `id ${f.first ? spreads : ""} ${over}`;
        };
        const source = `{ policies { ...G0 } }\n${frags.map((_, i) => `fragment G${i} on Policy { ${body(i)} }`).join("\n")}`;
        const withFragments = costOf(source);
        const inlined = costOf(expand(source));
        expect(withFragments).toEqual(inlined);
      }),
      { numRuns: 200 },
    );
  });
});

describe("finding 3: subjectExport priced as an export, at most one per request", () => {
  it("one export costs the export price and counts once", () => {
    const c = costOf(`{ subjectExport(subjectId: "a") }`);
    expect(c.exports).toBe(1);
    expect(c.cost).toBe(1 + EXPORT_COST);
  });

  it("300 aliased exports are refused by the per-request cap, naming it", () => {
    const source = `{ ${Array.from({ length: 300 }, (_, i) => `x${i}: subjectExport(subjectId: "a")`).join(" ")} }`;
    expect(costOf(source).exports).toBe(300);
    expect(() => checkOperationLimits({ schema, document: parse(source), limits: { maxDepth: 12, maxCost: 1e12 } })).toThrow(/at most 1 subjectExport/);
  });

  it("exports hidden in fragments on Query are counted", () => {
    const source = `{ ...Q ...Q } fragment Q on Query { subjectExport(subjectId: "a") }`;
    expect(costOf(source).exports).toBe(2);
  });
});

describe("finding 4: whole-log reads priced as such, at most one per request", () => {
  it("ledgerIntegrity is whole-log work", () => {
    const c = costOf(`{ ledgerIntegrity { ok } }`);
    expect(c.wholeLog).toBe(1);
    expect(c.cost).toBe(2 + WHOLE_LOG_COST);
  });

  it("events filtered by type across subjects is whole-log work; with a subject, or unfiltered, it is a page", () => {
    expect(costOf(`{ events(first: 0, types: ["NoSuchType"]) { pageInfo { hasNextPage } } }`).wholeLog).toBe(1);
    expect(costOf(`query($t: [String!]) { events(types: $t) { pageInfo { hasNextPage } } }`, { t: ["ConsentGranted"] }).wholeLog).toBe(1);
    expect(costOf(`{ events(types: ["ConsentGranted"], subjectId: "a") { pageInfo { hasNextPage } } }`).wholeLog).toBe(0);
    expect(costOf(`{ events(first: 10) { pageInfo { hasNextPage } } }`).wholeLog).toBe(0);
  });

  it("20 aliased ledgerIntegrity are refused", () => {
    const source = `{ ${Array.from({ length: 20 }, (_, i) => `i${i}: ledgerIntegrity { ok }`).join(" ")} }`;
    expect(() => checkOperationLimits({ schema, document: parse(source), limits: { maxDepth: 12, maxCost: 1e12 } })).toThrow(/at most 1 whole-log read/);
  });
});

describe("transparency reads priced by the tree nodes they read", () => {
  /** Stored nodes a store reads to hash these leaf ranges (each range folded from its perfect subtrees). */
  const reads = (ranges: readonly { begin: number; end: number }[]) => ranges.reduce((n, r) => n + rangeNodes(r).length, 0);
  const MAX_SIZE = 2 ** 32;

  it("property: PROOF_COST covers every proof of a ledger up to 2^32 events, with the root of an earlier checkpoint signed on request", () => {
    const sizes = fc.integer({ min: 1, max: MAX_SIZE });
    fc.assert(
      fc.property(sizes, fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }), (size, a, b) => {
        const leaf = Math.min(size - 1, Math.floor(a * size));
        const from = Math.max(1, Math.min(size, Math.ceil(b * size)));
        const root = reads([{ begin: 0, end: size }]);
        // The leaf lookup, the leaf's own hash and its path.
        expect(1 + reads([{ begin: leaf, end: leaf + 1 }, ...inclusionPlan(leaf, size)]) + root).toBeLessThanOrEqual(PROOF_COST);
        expect(reads(consistencyPlan(from, size)) + root).toBeLessThanOrEqual(PROOF_COST);
      }),
      { numRuns: 2_000 },
    );
    // The worst shapes: the first leaf of a tree one short of a power of two, a consistency proof from 1.
    expect(1 + reads([{ begin: 0, end: 1 }, ...inclusionPlan(0, MAX_SIZE - 1)]) + reads([{ begin: 0, end: MAX_SIZE - 1 }])).toBeLessThanOrEqual(PROOF_COST);
    expect(reads(consistencyPlan(1, MAX_SIZE - 1)) + reads([{ begin: 0, end: MAX_SIZE - 1 }])).toBeLessThanOrEqual(PROOF_COST);
  });

  it("inclusionProof and consistencyProof cost a proof each, their fields on top; an alias is another proof", () => {
    const inclusion = costOf(`{ inclusionProof(eventId: "e") { leafIndex hashes checkpoint { note } } }`);
    expect(inclusion.cost).toBeGreaterThan(PROOF_COST);
    expect(inclusion.cost).toBeLessThan(PROOF_COST + 20);
    const consistency = costOf(`{ consistencyProof(fromSize: 1) { hashes } }`);
    expect(consistency.cost).toBeGreaterThan(PROOF_COST);
    const aliased = costOf(`{ a: inclusionProof(eventId: "e") { leafIndex } b: inclusionProof(eventId: "f") { leafIndex } }`);
    expect(aliased.cost).toBe(2 * costOf(`{ inclusionProof(eventId: "e") { leafIndex } }`).cost);
    expect(inclusion.wholeLog + consistency.wholeLog).toBe(0);
  });

  it("a receipt issued again (Subject.receipt) costs a proof and a few events' bytes; each alias is another", () => {
    const one = costOf(`{ me { receipt(eventId: "e") } }`);
    expect(one.cost).toBeGreaterThan(PROOF_COST);
    expect(one.bytes).toBeGreaterThanOrEqual(RECEIPT_BYTES);
    const many = `{ me { ${Array.from({ length: 50 }, (_, i) => `r${i}: receipt(eventId: "e${i}")`).join(" ")} } }`;
    expect(costOf(many).cost).toBeGreaterThan(50 * PROOF_COST);
    expect(() => checkOperationLimits({ schema, document: parse(many), limits: { maxDepth: 12, maxCost: 5_000 } })).toThrow(/exceeds the limit of 5000/);
  });

  it("the default limit admits a proof and refuses 50 aliased ones", () => {
    const limits = { maxDepth: 12, maxCost: 5_000 };
    expect(checkOperationLimits({ schema, document: parse(`{ inclusionProof(eventId: "e") { leafIndex hashes checkpoint { note } } }`), limits })).not.toBeNull();
    const many = `{ ${Array.from({ length: 50 }, (_, i) => `p${i}: inclusionProof(eventId: "e", treeSize: ${i + 1}) { hashes checkpoint { note } }`).join(" ")} }`;
    expect(() => checkOperationLimits({ schema, document: parse(many), limits })).toThrow(/exceeds the limit of 5000/);
  });

  it("ledgerCheckpoint (held in memory) and LedgerEvent.canonical (one event serialised) cost as plain fields", () => {
    expect(costOf(`{ ledgerCheckpoint { origin treeSize rootHash note } }`).cost).toBe(5);
    const withCanonical = costOf(`{ events(first: 10) { edges { node { id canonical } } } }`).cost;
    const withData = costOf(`{ events(first: 10) { edges { node { id data } } } }`).cost;
    expect(withCanonical).toBe(withData);
  });
});

describe("variables", () => {
  it("a page size from a variable is priced with its value, and a variable of the wrong type is BAD_USER_INPUT", () => {
    const feed: DocumentNode = parse(`query($n: Int) { events(first: $n) { edges { node { id } } } }`);
    const limits = { maxDepth: 12, maxCost: 5_000 };
    expect(checkOperationLimits({ schema, document: feed, variables: { n: 10 }, limits })!.cost).toBeLessThan(checkOperationLimits({ schema, document: feed, variables: { n: 1000 }, limits })!.cost);
    expect(() => checkOperationLimits({ schema, document: feed, variables: { n: "many" }, limits })).toThrow(expect.objectContaining({ extensions: expect.objectContaining({ code: "BAD_USER_INPUT" }) }));
  });
});
