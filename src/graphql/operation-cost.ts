// What an operation would cost to run, read from the document without expanding it: each fragment is analysed once.
import { checkInputValues } from "./input-values.js";
import {
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLSchema,
  Kind,
  type OperationDefinitionNode,
  type SelectionSetNode,
  getArgumentValues,
  getNamedType,
  getNullableType,
  isCompositeType,
  isListType,
} from "graphql";

/** The work an operation asks for, summed over the tree it would execute. */
export interface OperationCost {
  /** The deepest field path (introspection fields not counted). */
  depth: number;
  /** Abstract units: one per field, lists and pages multiplied by their size, proofs by the tree nodes they read, whole-log work at its own price. */
  cost: number;
  /** How many times work that reads the whole log would run (ledgerIntegrity, events filtered by type across subjects). */
  wholeLog: number;
  /** How many subject exports would be built. */
  exports: number;
  /** The most bytes the answer could hold: each field's name and value, lists and pages multiplied by their size. */
  bytes: number;
}

/**
 * The size assumed for a list without `first`: such lists are the catalogue's (policies, versions,
 * purposes, recipients) and one subject's (consents, standings, requests), all small. A larger guess
 * priced an ordinary catalogue query (policies → versions → purposes → recipients) over the limit.
 */
export const UNPAGED_LIST_SIZE = 5;

/** A walk of the whole hash chain, or a scan of the log for rare event types: priced as a fifth of the default budget. */
export const WHOLE_LOG_COST = 1_000;

/** One subject's whole record, decrypted and serialised; its size is not known before it is read. */
export const EXPORT_COST = 1_000;

/**
 * An RFC 9162 proof reads O(log n) stored tree nodes, priced at its bound for a ledger of up to 2^32
 * events: up to 63 nodes for an inclusion path (62 for a consistency proof), 32 more for the root of
 * an earlier checkpoint signed on request, and the leaf's lookup. `ledgerCheckpoint` is held in
 * memory and `LedgerEvent.canonical` serialises one event, as `data` does: they cost as plain fields.
 */
export const PROOF_COST = 100;

/** A scalar's JSON (an id, an instant, a status) with its key, for pricing an answer's bytes. */
export const LEAF_BYTES = 64;
/**
 * The most one event's `data` or `canonical` holds when a subject's command wrote it: evidence is at
 * most four 256-character members and a 1,024-character user agent, sealed (base64 of ciphertext),
 * beside the command's own members. Such fields are priced at this bound.
 */
export const EVENT_BYTES = 8_192;
/** Fields whose value is one event's data, at EVENT_BYTES each. */
const EVENT_SIZED_FIELDS = new Set(["LedgerEvent.data", "LedgerEvent.canonical"]);

/** Root fields that answer with an RFC 9162 proof. */
const PROOF_FIELDS = new Set(["Query.inclusionProof", "Query.consistencyProof"]);

/**
 * A consent receipt issued again (`Subject.receipt`) reads the subject's record and signs: priced like
 * a proof, its bytes as those of a few events (a call's purposes with their recipients).
 */
const RECEIPT_FIELDS = new Set(["Subject.receipt"]);
export const RECEIPT_BYTES = 4 * EVENT_BYTES;

const ZERO: OperationCost = { depth: 0, cost: 0, wholeLog: 0, exports: 0, bytes: 0 };

/**
 * Whether the price reads a field's argument (a page's or a list's `first`, the list of `checks`, the
 * log scan's `types` and `subjectId` on `events`); every other argument leaves the price as it is,
 * whatever its value. Keep in step with `ofField` and `scansAcrossSubjects` below.
 */
export const isPricedArgument = (field: string, argument: string): boolean =>
  argument === "first" || argument === "checks" || (field === "events" && (argument === "types" || argument === "subjectId"));

/** Root fields that read the whole log whatever their arguments. */
const WHOLE_LOG_FIELDS = new Set(["Query.ledgerIntegrity"]);

/**
 * Analyses one operation. Named fragments are analysed once each and their result reused at every
 * spread, so the time is linear in the document however the fragments fan out; the cost is that of
 * the expanded tree (a fragment spread twice counts twice), which is what execution would walk.
 * Arguments are read with their variables and defaults; a variable of the wrong type throws the
 * GraphQLError execution would.
 */
export function operationCost(
  schema: GraphQLSchema,
  operation: OperationDefinitionNode,
  fragments: ReadonlyMap<string, FragmentDefinitionNode>,
  variables: Record<string, unknown>,
): OperationCost {
  const memo = new Map<string, OperationCost>();
  const inProgress = new Set<string>();

  const ofFragment = (name: string): OperationCost => {
    const known = memo.get(name);
    if (known) return known;
    const fragment = fragments.get(name);
    // A cycle or an unknown fragment is refused by graphql's own validation rules; count it as nothing here.
    if (!fragment || inProgress.has(name)) return ZERO;
    const type = schema.getType(fragment.typeCondition.name.value);
    inProgress.add(name);
    const result = isCompositeType(type) ? ofSelectionSet(fragment.selectionSet, type) : ZERO;
    inProgress.delete(name);
    memo.set(name, result);
    return result;
  };

  const ofSelectionSet = (set: SelectionSetNode, parent: GraphQLCompositeType): OperationCost => {
    let depth = 0;
    let cost = 0;
    let wholeLog = 0;
    let exports = 0;
    let bytes = 0;
    for (const sel of set.selections) {
      let part: OperationCost;
      if (sel.kind === Kind.FIELD) part = ofField(sel, parent);
      else if (sel.kind === Kind.FRAGMENT_SPREAD) part = ofFragment(sel.name.value);
      else {
        const type = sel.typeCondition ? schema.getType(sel.typeCondition.name.value) : parent;
        part = isCompositeType(type) ? ofSelectionSet(sel.selectionSet, type) : ZERO;
      }
      depth = Math.max(depth, part.depth);
      cost += part.cost;
      wholeLog += part.wholeLog;
      exports += part.exports;
      bytes += part.bytes;
    }
    return { depth, cost, wholeLog, exports, bytes };
  };

  /**
   * A field with no arguments, directives or selections costs what its definition says, however many
   * aliases repeat it: priced once per type and name (thousands of aliases of one leaf cost a lookup each).
   */
  const plain = new Map<string, OperationCost>();
  const ofField = (node: FieldNode, parent: GraphQLCompositeType): OperationCost => {
    if (node.selectionSet || node.arguments?.length || node.directives?.length) return priceField(node, parent);
    const key = `${parent.name}.${node.name.value}`;
    let known = plain.get(key);
    if (!known) plain.set(key, (known = priceField(node, parent)));
    return known;
  };

  const priceField = (node: FieldNode, parent: GraphQLCompositeType): OperationCost => {
    const name = node.name.value;
    // Introspection's size is the schema's, not the data's; graphql's MaxIntrospectionDepthRule bounds its circular queries.
    if (name.startsWith("__")) return { depth: 0, cost: 1, wholeLog: 0, exports: 0, bytes: LEAF_BYTES };
    const def = "getFields" in parent ? parent.getFields()[name] : undefined;
    if (!def) return ZERO; // an unknown field is graphql's validation error, not ours
    const named = getNamedType(def.type);
    const child = node.selectionSet && isCompositeType(named) ? ofSelectionSet(node.selectionSet, named) : ZERO;
    const args = argumentsOf(def, node, variables);
    const key = `${parent.name}.${name}`;

    let times = 1;
    let cost: number;
    // A leaf's value, or an object's braces, beside the key.
    const own = EVENT_SIZED_FIELDS.has(key) ? EVENT_BYTES : RECEIPT_FIELDS.has(key) ? RECEIPT_BYTES : node.selectionSet ? 2 + name.length : LEAF_BYTES;
    let bytes = own + child.bytes;
    if (isConnection(def)) {
      // A connection's `edges` are the page its `first` paid for; the halving keeps the feed's
      // default page of 100 events with a few fields under the default limit.
      const n = typeof args["first"] === "number" ? args["first"] : 100;
      cost = 1 + (Math.max(n, 1) * Math.max(child.cost, 1)) / 2;
      bytes = own + Math.max(n, 1) * child.bytes;
    } else if (isListType(getNullableType(def.type))) {
      if (parent.name.endsWith("Connection")) cost = 1 + child.cost;
      else {
        times = typeof args["first"] === "number" ? args["first"] : Array.isArray(args["checks"]) ? args["checks"].length : UNPAGED_LIST_SIZE;
        times = Math.max(times, 1);
        cost = 1 + times * Math.max(child.cost, 1);
        bytes = own + times * child.bytes;
      }
    } else cost = 1 + child.cost;

    let wholeLog = child.wholeLog * times;
    let exports = child.exports * times;
    if (WHOLE_LOG_FIELDS.has(key) || (key === "Query.events" && scansAcrossSubjects(args))) {
      cost += WHOLE_LOG_COST;
      wholeLog += 1;
    }
    if (PROOF_FIELDS.has(key) || RECEIPT_FIELDS.has(key)) cost += PROOF_COST;
    if (key === "Query.subjectExport") {
      cost += EXPORT_COST;
      exports += 1;
    }
    return { depth: 1 + child.depth, cost, wholeLog, exports, bytes };
  };

  return ofSelectionSet(operation.selectionSet, rootType(schema, operation));
}

/** `events(types: [...])` without a subject reads forward through the log until it has filled its page. */
const scansAcrossSubjects = (args: Record<string, unknown>): boolean =>
  Array.isArray(args["types"]) && args["types"].length > 0 && (args["subjectId"] === undefined || args["subjectId"] === null);

const isConnection = (def: GraphQLField<unknown, unknown>): boolean => getNamedType(def.type).name.endsWith("Connection");

/** A field's arguments, literals and variables coerced; a NUL in any of them is refused before it reaches a resolver or a database. */
function argumentsOf(def: GraphQLField<unknown, unknown>, node: FieldNode, variables: Record<string, unknown>): Record<string, unknown> {
  if (def.args.length === 0) return {};
  const args = getArgumentValues(def, node, variables);
  checkInputValues(args, `the arguments of ${def.name}`);
  return args;
}

function rootType(schema: GraphQLSchema, operation: OperationDefinitionNode): GraphQLCompositeType {
  const type = schema.getRootType(operation.operation);
  if (!type) throw new Error(`the schema has no ${operation.operation} type`);
  return type;
}
