// Depth, cost and per-request caps, checked for every operation on every transport.
import { type DocumentNode, type FragmentDefinitionNode, GraphQLError, type GraphQLSchema, Kind, type OperationDefinitionNode, type ValueNode, getOperationAST, getVariableValues, visit } from "graphql";
import { checkInputValues } from "./input-values.js";
import { EVENT_BYTES, type OperationCost, isPricedArgument, operationCost } from "./operation-cost.js";

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
  /** The variables are coerced when the operation runs, which refuses them unrun (see stages.ts's Operation). */
  coercedLater?: boolean;
};

/**
 * Operations whose price cannot depend on their variables (see `priceIsFixed`), by document and
 * operation name: priced once, on their first request; later requests with other variables only
 * have their variables coerced (the refusal of a wrong type stays graphql's own message).
 */
const fixedPrices = new WeakMap<DocumentNode, Map<string, { limits: OperationLimits; cost: OperationCost } | null>>();

/** The operation's cost when it is within the limits; throws the GraphQLError of the first limit it breaks. */
export function checkOperationLimits(args: LimitArgs): OperationCost | null {
  // Before anything serialises or coerces them: a deep or NUL-bearing value is refused here, unused or not.
  checkInputValues(args.variables ?? {}, "the variables");
  const fixed = fixedPrices.get(args.document)?.get(args.operationName ?? "");
  // Nothing to price and nothing to coerce: the compiled form coerces the variables once, as it runs.
  if (fixed && fixed.limits === args.limits && args.coercedLater) return fixed.cost;
  const key = `${args.operationName ?? ""}\u0000${JSON.stringify(args.variables ?? {})}`;
  const remembered = withinLimits.get(args.document);
  const hit = remembered?.get(key);
  if (hit && hit.limits === args.limits) return hit.cost;
  let cost: OperationCost | GraphQLError | null;
  if (fixed && fixed.limits === args.limits) {
    const op = getOperationAST(args.document, args.operationName ?? undefined)!;
    const refusedVariables = coercionRefusal(args.schema, op, args.variables);
    if (refusedVariables) throw refusedVariables;
    cost = fixed.cost;
  } else {
    // Priced straight from the document (no validation pass around it: graphql's own rules have run already).
    cost = analyse(args.schema, args.document, args.variables, args.operationName);
    if (cost instanceof GraphQLError) throw cost;
    if (cost === null) return null;
    const broken = limitBroken(cost, args.limits);
    if (broken) throw broken;
    rememberFixedPrice(args, cost);
  }
  if (key.length > MAX_REMEMBERED_KEY) return cost;
  const map = remembered ?? new Map<string, { limits: OperationLimits; cost: OperationCost }>();
  if (map.size >= MAX_REMEMBERED_PER_DOCUMENT) map.clear();
  map.set(key, { limits: args.limits, cost });
  withinLimits.set(args.document, map);
  return cost;
}

/** BAD_USER_INPUT for variables that do not coerce to the operation's definitions, as `analyse` refuses them; null when they do. */
function coercionRefusal(schema: GraphQLSchema, op: OperationDefinitionNode, variables: Record<string, unknown> | null | undefined): GraphQLError | null {
  const coerced = getVariableValues(schema, op.variableDefinitions ?? [], variables ?? {}, { maxErrors: 1 });
  return coerced.errors ? refusal("BAD_USER_INPUT", coerced.errors[0]!.message) : null;
}

function rememberFixedPrice(args: LimitArgs, cost: OperationCost): void {
  const name = args.operationName ?? "";
  let byName = fixedPrices.get(args.document);
  if (byName?.has(name)) return;
  const op = getOperationAST(args.document, args.operationName ?? undefined);
  if (!op) return;
  if (!byName) fixedPrices.set(args.document, (byName = new Map()));
  if (byName.size >= MAX_REMEMBERED_PER_DOCUMENT) byName.clear();
  byName.set(name, priceIsFixed(args.document, op) ? { limits: args.limits, cost } : null);
}

/**
 * Whether an operation's price is the same whatever its variables: no variable reaches an argument
 * the price reads (isPricedArgument, in the operation or any fragment), and no variable has a default
 * (a null sent for one, into a non-null argument, is refused while the arguments are read). Literal
 * arguments are the document's own, so they were checked when it was first priced.
 */
export function priceIsFixed(document: DocumentNode, op: OperationDefinitionNode): boolean {
  if ((op.variableDefinitions ?? []).some((d) => d.defaultValue !== undefined)) return false;
  let fixed = true;
  const hasVariable = (value: ValueNode): boolean => {
    let found = false;
    visit(value, { Variable: () => void (found = true) });
    return found;
  };
  for (const definition of document.definitions) {
    if (definition !== op && definition.kind !== Kind.FRAGMENT_DEFINITION) continue;
    visit(definition, {
      Field(node) {
        for (const a of node.arguments ?? []) if (isPricedArgument(node.name.value, a.name.value) && hasVariable(a.value)) fixed = false;
      },
    });
  }
  return fixed;
}
