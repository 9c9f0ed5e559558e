// The one GraphQL field that needs no token: an operation asking only for it may go unauthenticated.
import { Kind, type OperationDefinitionNode, parse } from "graphql";

/** Root query fields anyone may read without a token. */
export const PUBLIC_QUERY_FIELDS: ReadonlySet<string> = new Set(["externalTransmissions", "__typename"]);

/**
 * Whether a GraphQL request body asks only for public fields: a query whose root selections are all
 * public fields (no fragments at the root). Anything unparsable is not public; the normal path reports it.
 */
export function isPublicOperation(body: unknown): boolean {
  if (!body || typeof body !== "object") return false;
  const { query, operationName } = body as { query?: unknown; operationName?: unknown };
  if (typeof query !== "string" || query.length > 10_000) return false;
  let ops: OperationDefinitionNode[];
  try {
    ops = parse(query).definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  } catch {
    return false;
  }
  const op = typeof operationName === "string" ? ops.find((o) => o.name?.value === operationName) : ops.length === 1 ? ops[0] : undefined;
  if (!op || op.operation !== "query") return false;
  return op.selectionSet.selections.every((s) => s.kind === Kind.FIELD && PUBLIC_QUERY_FIELDS.has(s.name.value));
}
