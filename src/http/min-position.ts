// Ledger-Min-Position on HTTP: a request naming a position is answered from a state that includes it,
// or refused with STALE_READ (503) when this replica has not applied it within the wait.
import { HeaderMap } from "@apollo/server";
import { GraphQLError } from "graphql";
import { type AppliedPosition, STALE_READ_WAIT_MS, parseMinPosition } from "../feed/applied-position.js";
import { LedgerError } from "../domain/errors.js";

/**
 * Waits until this replica has applied the position the header names (at once when it has, or when
 * there is no header). BAD_USER_INPUT (400) for a value the ledger never issues; STALE_READ (503)
 * when the wait ends first.
 */
export async function readsFrom(header: string | undefined, applied: AppliedPosition): Promise<void> {
  let position: number | null;
  try {
    position = parseMinPosition(header);
  } catch (e) {
    const message = e instanceof LedgerError ? e.message : "Ledger-Min-Position is not a position";
    throw new GraphQLError(message, { extensions: { code: "BAD_USER_INPUT", http: { status: 400 } } });
  }
  if (position === null || (await applied.reach(position))) return;
  throw new GraphQLError(`this replica has not reached position ${header!.trim()} within ${STALE_READ_WAIT_MS / 1000} s; retry, or read without Ledger-Min-Position`, {
    extensions: { code: "STALE_READ", http: { status: 503, headers: new HeaderMap([["retry-after", "1"]]) } },
  });
}
