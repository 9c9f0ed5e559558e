// Depth, cost and per-request caps, checked for every operation on every transport.
import { type DocumentNode, type FragmentDefinitionNode, GraphQLError, type GraphQLSchema, Kind, getOperationAST, getVariableValues } from "graphql";
import { checkInputValues } from "./input-values.js";
import { EVENT_BYTES, type OperationCost, operationCost } from "./operation-cost.js";

export interface OperationLimits {
  maxDepth: number;
  maxCost: number;
  /** The most bytes an answer may hold (MAX_RESPONSE_BYTES); no bound when absent. */
  maxResponseBytes?: number;
}

/** Exports one request may build: each decrypts and serialises a whole subject. */
export const MAX_EXPORTS_PER_REQUEST = 1;
/** Whole-log reads one request may run. */
export const MAX_WHOLE_LOG_PER_REQUEST = 1;

const refusal = (code: "QUERY_TOO_DEEP" | "QUERY_TOO_COMPLEX" | "BAD_USER_INPUT", message: string) =>
  new GraphQLError(message, { extensions: { code, http: { status: 400 } } });

/** The first limit the operation breaks, or null. Depth first: it is what a deep query is told. */
export function limitBroken(c: OperationCost, limits: OperationLimits): GraphQLError | null {
  if (c.depth > limits.maxDepth) return refusal("QUERY_TOO_DEEP", `query depth ${c.depth} exceeds the limit of ${limits.maxDepth}`);
  if (c.exports > MAX_EXPORTS_PER_REQUEST)
    return refusal("QUERY_TOO_COMPLEX", `a request may build at most ${MAX_EXPORTS_PER_REQUEST} subjectExport; this one asks for ${c.exports}`);
  if (c.wholeLog > MAX_WHOLE_LOG_PER_REQUEST)
    return refusal(
      "QUERY_TOO_COMPLEX",
      `a request may run at most ${MAX_WHOLE_LOG_PER_REQUEST} whole-log read (ledgerIntegrity, or events filtered by types without subjectId); this one asks for ${c.wholeLog}`,
    );
  if (c.cost > limits.maxCost) return refusal("QUERY_TOO_COMPLEX", `query cost ${fmt(c.cost)} exceeds the limit of ${limits.maxCost}`);
  if (limits.maxResponseBytes !== undefined && c.bytes > limits.maxResponseBytes)
    return refusal(
      "QUERY_TOO_COMPLEX",
      `the answer could hold up to ${fmt(c.bytes)} bytes (event data and canonical at ${EVENT_BYTES} bytes each), more than the ${limits.maxResponseBytes} one answer may hold; ask for fewer events or fewer fields`,
    );
  return null;
}

const fmt = (n: number) => (Number.isFinite(n) && n < 1e15 ? String(Math.round(n)) : n.toExponential(2));

/** The operation's cost, a BAD_USER_INPUT error for variables of the wrong type, or null when no operation is named. */
export function analyse(
  schema: GraphQLSchema,
  document: DocumentNode,
  variables: Record<string, unknown> | null | undefined,
  operationName?: string | null,
): OperationCost | GraphQLError | null {
  const op = getOperationAST(document, operationName ?? undefined);
  if (!op) return null; // Apollo and graphql-ws report an unknown operation themselves
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  const coerced = getVariableValues(schema, op.variableDefinitions ?? [], variables ?? {}, { maxErrors: 1 });
  // A variable of the wrong type is the client's mistake (BAD_USER_INPUT), whoever notices it first.
  if (coerced.errors) return refusal("BAD_USER_INPUT", coerced.errors[0]!.message);
  try {
    return operationCost(schema, op, fragments, coerced.coerced);
  } catch (e) {
    if (e instanceof GraphQLError) return refusal("BAD_USER_INPUT", e.message);
    throw e;
  }
}

/**
 * Operations already found within the limits, by document (Apollo and the WebSocket path hand back
 * the same parsed document for the same query text) and then by operation name and variables, which
 * the cost depends on. A service asking the same question thousands of times a second prices it once.
 */
const withinLimits = new WeakMap<DocumentNode, Map<string, { limits: OperationLimits; cost: OperationCost }>>();
const MAX_REMEMBERED_PER_DOCUMENT = 256;
const MAX_REMEMBERED_KEY = 4_096;

type LimitArgs = {
  schema: GraphQLSchema;
  document: DocumentNode;
  variables?: Record<string, unknown> | null | undefined;
  operationName?: string | null | undefined;
  limits: OperationLimits;
};

/** The operation's cost when it is within the limits; throws the GraphQLError of the first limit it breaks. */
export function checkOperationLimits(args: LimitArgs): OperationCost | null {
  // Before anything serialises or coerces them: a deep or NUL-bearing value is refused here, unused or not.
  checkInputValues(args.variables ?? {}, "the variables");
  const key = `${args.operationName ?? ""}\u0000${JSON.stringify(args.variables ?? {})}`;
  const remembered = withinLimits.get(args.document);
  const hit = remembered?.get(key);
  if (hit && hit.limits === args.limits) return hit.cost;
  // Priced straight from the document (no validation pass around it: graphql's own rules have run already).
  const cost = analyse(args.schema, args.document, args.variables, args.operationName);
  if (cost instanceof GraphQLError) throw cost;
  if (cost === null) return null;
  const broken = limitBroken(cost, args.limits);
  if (broken) throw broken;
  if (key.length > MAX_REMEMBERED_KEY) return cost;
  const map = remembered ?? new Map<string, { limits: OperationLimits; cost: OperationCost }>();
  if (map.size >= MAX_REMEMBERED_PER_DOCUMENT) map.clear();
  map.set(key, { limits: args.limits, cost });
  withinLimits.set(args.document, map);
  return cost;
}
