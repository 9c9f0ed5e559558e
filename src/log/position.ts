// Positions and cursors: opaque to clients (they only hand them back), sortable as strings.
import { badInput } from "../domain/errors.js";

const WIDTH = 16;

export const encodePosition = (position: number): string => position.toString().padStart(WIDTH, "0");

/** The position a cursor names; null/undefined means "from the start". */
export function decodeCursor(cursor: string | null | undefined): number {
  if (cursor == null) return 0;
  if (!/^\d{16}$/.test(cursor)) throw badInput("not a cursor this ledger issued");
  return Number(cursor);
}
