// Reading the log on SQLite: the whole log after a position, in bounded steps.
import type { LedgerEvent } from "../../../domain/events.js";
import { type EventRow, rowToEvent } from "../../event-row.js";
import type { ReadFilter } from "../../event-store.js";
import type { EventStatements } from "./statements.js";

export interface ScanStep {
  events: LedgerEvent[];
  scannedTo: number;
  exhausted: boolean;
}

/**
 * One bounded step of a read in log order: at most `rows` rows after `afterPosition` are read,
 * and of them at most `limit` matching events returned. `scannedTo` is the last position read;
 * `exhausted` when the log ends within this step.
 */
export function scan(s: EventStatements, afterPosition: number, limit: number, rows: number, filter?: ReadFilter): ScanStep {
  const types = filter?.types && filter.types.length > 0 ? new Set<string>(filter.types) : null;
  const read = (
    filter?.subjectId !== undefined ? s.readAllStream.all(`subject:${filter.subjectId}`, afterPosition, rows) : s.readAll.all(afterPosition, rows)
  ) as EventRow[];
  const events: LedgerEvent[] = [];
  let scannedTo = afterPosition;
  for (const r of read) {
    scannedTo = r.position;
    if (types && !types.has(r.type)) continue;
    events.push(rowToEvent(r));
    if (events.length >= limit) return { events, scannedTo, exhausted: false };
  }
  return { events, scannedTo, exhausted: read.length < rows };
}

/** Events after a position, in order, filtered by subject and/or type; read in steps of at least 256 rows. */
export function readAll(s: EventStatements, afterPosition: number, limit: number, filter?: ReadFilter): LedgerEvent[] {
  const out: LedgerEvent[] = [];
  let after = afterPosition;
  const chunk = Math.max(limit, 256);
  for (;;) {
    const page = scan(s, after, limit - out.length, chunk, filter);
    out.push(...page.events);
    if (out.length >= limit || page.exhausted) return out;
    after = page.scannedTo;
  }
}
