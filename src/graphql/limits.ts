// Depth and cost limits for an operation; applied on HTTP (an Apollo plugin) and on WebSocket alike.
import {
  type DocumentNode,
  type FragmentDefinitionNode,
  GraphQLError,
  type GraphQLSchema,
  Kind,
  type OperationDefinitionNode,
  type SelectionSetNode,
  getOperationAST,
  isListType,
  getNullableType,
} from "graphql";
import { type ComplexityEstimator, getComplexity, simpleEstimator } from "graphql-query-complexity";

export interface OperationLimits {
  maxDepth: number;
  maxCost: number;
}

function depthOf(set: SelectionSetNode | undefined, fragments: Map<string, FragmentDefinitionNode>, seen: Set<string>): number {
  if (!set) return 0;
  let max = 0;
  for (const sel of set.selections) {
    if (sel.kind === Kind.FIELD) {
      if (sel.name.value.startsWith("__")) continue; // introspection's own depth is fixed and harmless
      max = Math.max(max, 1 + depthOf(sel.selectionSet, fragments, seen));
    } else if (sel.kind === Kind.INLINE_FRAGMENT) {
      max = Math.max(max, depthOf(sel.selectionSet, fragments, seen));
    } else {
      const name = sel.name.value;
      const frag = fragments.get(name);
      if (!frag || seen.has(name)) continue;
      max = Math.max(max, depthOf(frag.selectionSet, fragments, new Set(seen).add(name)));
    }
  }
  return max;
}

/** The depth of the operation's deepest field path. */
export function operationDepth(document: DocumentNode, op: OperationDefinitionNode): number {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  return depthOf(op.selectionSet, fragments, new Set());
}

/**
 * The size assumed for a list without `first`: such lists are the catalogue's (policies, versions,
 * purposes, recipients) and one subject's (consents, standings, requests), all small. A larger guess
 * priced an ordinary catalogue query (policies → versions → purposes → recipients) over the limit.
 */
const UNPAGED_LIST_SIZE = 5;

/** A list field costs its children times the page it asks for (`first`, the checks given), else UNPAGED_LIST_SIZE. */
const listEstimator: ComplexityEstimator = ({ type, field, args, childComplexity }) => {
  if (!isListType(getNullableType(field.type))) return undefined;
  // A connection's `edges` are the page its `first` already paid for: counting them again priced
  // the feed's default page (100 events with a few fields) above the limit.
  if (type.name.endsWith("Connection")) return 1 + childComplexity;
  const n = typeof args.first === "number" ? args.first : Array.isArray(args.checks) ? args.checks.length : UNPAGED_LIST_SIZE;
  return 1 + Math.max(n, 1) * Math.max(childComplexity, 1);
};
/**
 * Introspection costs 1 whatever it selects: its size is the schema's, not the data's, and graphql's
 * own MaxIntrospectionDepthRule refuses the circular `fields { type { fields ... } }` queries.
 * Without this, the standard introspection query of codegen tools and IDEs was priced far over the limit.
 */
const introspectionEstimator: ComplexityEstimator = ({ field }) => (field.name.startsWith("__") ? 1 : undefined);
const connectionEstimator: ComplexityEstimator = ({ args, childComplexity, field }) => {
  if (!/Connection$/.test(String(getNullableType(field.type)))) return undefined;
  const n = typeof args.first === "number" ? args.first : 100;
  return 1 + Math.max(n, 1) * Math.max(childComplexity, 1) / 2;
};

type LimitArgs = {
  schema: GraphQLSchema;
  document: DocumentNode;
  variables?: Record<string, unknown> | undefined;
  operationName?: string | null | undefined;
  limits: OperationLimits;
};

/**
 * Operations already found within the limits, by document (Apollo and graphql-ws hand back the same
 * parsed document for the same query text) and then by operation name and variables, which the cost
 * depends on. A service asking the same question thousands of times a second pays for the walk once.
 */
const withinLimits = new WeakMap<DocumentNode, Map<string, OperationLimits>>();
const MAX_REMEMBERED_PER_DOCUMENT = 256;
const MAX_REMEMBERED_KEY = 4_096;

/** Throws a GraphQLError when the operation is too deep or too costly. */
export function checkOperationLimits(args: LimitArgs): void {
  const key = `${args.operationName ?? ""}\u0000${JSON.stringify(args.variables ?? {})}`;
  const remembered = withinLimits.get(args.document);
  if (remembered?.get(key) === args.limits) return;
  computeOperationLimits(args);
  if (key.length > MAX_REMEMBERED_KEY) return;
  const map = remembered ?? new Map<string, OperationLimits>();
  if (map.size >= MAX_REMEMBERED_PER_DOCUMENT) map.clear();
  map.set(key, args.limits);
  withinLimits.set(args.document, map);
}

function computeOperationLimits(args: LimitArgs): void {
  const op = getOperationAST(args.document, args.operationName ?? undefined);
  if (!op) return; // Apollo and graphql-ws report an unknown operation themselves
  const depth = operationDepth(args.document, op);
  if (depth > args.limits.maxDepth)
    throw new GraphQLError(`query depth ${depth} exceeds the limit of ${args.limits.maxDepth}`, { extensions: { code: "QUERY_TOO_DEEP", http: { status: 400 } } });
  let cost: number;
  try {
    cost = getComplexity({
      schema: args.schema,
      query: args.document,
      variables: args.variables ?? {},
      ...(args.operationName ? { operationName: args.operationName } : {}),
      estimators: [introspectionEstimator, connectionEstimator, listEstimator, simpleEstimator({ defaultComplexity: 1 })],
    });
  } catch (e) {
    // getComplexity coerces the variables before execution does: a variable of the wrong type is the
    // client's mistake (BAD_USER_INPUT), not an internal error.
    if (e instanceof GraphQLError) throw new GraphQLError(e.message, { nodes: e.nodes, extensions: { code: "BAD_USER_INPUT", http: { status: 400 } } });
    throw e;
  }
  if (cost > args.limits.maxCost)
    throw new GraphQLError(`query cost ${Math.round(cost)} exceeds the limit of ${args.limits.maxCost}`, {
      extensions: { code: "QUERY_TOO_COMPLEX", http: { status: 400 } },
    });
}
