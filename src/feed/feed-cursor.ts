// Cursors of the live feeds: a log position, and for consent changes an index within that event.
import { badInput } from "../domain/errors.js";
import { encodePosition } from "../log/position.js";

/**
 * Where a subscriber stands: everything up to `position` is seen, and of the changes derived from
 * the event at `position` those with index <= `index` (Infinity: all of them).
 */
export interface FeedCursor {
  position: number;
  index: number;
}

const INDEX_WIDTH = 6;

/**
 * A consent change's cursor: `<16-digit position>-<6-digit index>`, the index counting the changes
 * one event caused, in (policyId, purposeId) order. Fixed width, so cursors also sort as strings.
 */
export const encodeChangeCursor = (position: number, index: number): string =>
  `${encodePosition(position)}-${index.toString().padStart(INDEX_WIDTH, "0")}`;

/**
 * Reads a cursor a client handed back: a change cursor, or a plain 16-digit position (an event's
 * `position`, `ledgerHead.position`, an `events` page's cursor) meaning "that whole event is seen".
 */
export function decodeFeedCursor(cursor: string, allowIndex: boolean): FeedCursor {
  const m = /^(\d{16})(?:-(\d{6}))?$/.exec(cursor);
  if (!m || (m[2] !== undefined && !allowIndex)) throw badInput("after is not a cursor this ledger issued");
  return { position: Number(m[1]), index: m[2] === undefined ? Number.POSITIVE_INFINITY : Number(m[2]) };
}

/** Whether an item at (position, index) comes after the cursor. */
export const isAfter = (c: FeedCursor, position: number, index: number): boolean =>
  position > c.position || (position === c.position && index > c.index);
