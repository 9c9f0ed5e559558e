// Read your writes: a mutation's answer names the log position its last event took (the
// Ledger-Position header on HTTP, `extensions.ledgerPosition` over WebSocket), which a later read on
// any replica hands back as Ledger-Min-Position.
import { type DocumentNode, getOperationAST } from "graphql";
import { encodePosition } from "../log/position.js";
import type { GraphQLContext } from "./context.js";

/** Whether the operation a request runs is a mutation. */
export const isMutation = (document: DocumentNode, operationName: string | null | undefined): boolean =>
  getOperationAST(document, operationName ?? undefined)?.operation === "mutation";

/** Gives a mutation's context a ledger that notes the position of every event its commands append or replay. */
export function recordWrites(context: GraphQLContext): void {
  const written: { position: number | null } = { position: null };
  context.written = written;
  const ledger = context.services.ledger.recording((events) => {
    const last = events.at(-1);
    if (last && (written.position === null || last.position > written.position)) written.position = last.position;
  });
  context.services = { ...context.services, ledger };
}

/**
 * The position a mutation's answer names: its last event's; for a mutation that appended nothing
 * (refused, or a change that needs no event), the position this replica had applied when it answered,
 * which includes everything the mutation was decided on. Null for any other operation.
 */
export function writtenPosition(context: GraphQLContext | undefined): string | null {
  const written = context?.written;
  if (!written) return null;
  return encodePosition(written.position ?? context.services.applied.current);
}

/** A mutation's result with its position in `extensions.ledgerPosition` (WebSocket answers carry no headers). */
export function withLedgerPosition<R extends { extensions?: Record<string, unknown> }>(result: R, context: GraphQLContext | undefined): R {
  const position = writtenPosition(context);
  return position === null ? result : { ...result, extensions: { ...result.extensions, ledgerPosition: position } };
}
