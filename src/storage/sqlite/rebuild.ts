// Maintenance: recompute every read model from the log.
import { PROJECTION_TABLES } from "./schema.js";
import type { SqliteEventStore } from "./sqlite-event-store.js";
import type { SqliteProjections, SubjectRows } from "./projections.js";

/** Recomputes every projection from the log, in one transaction; returns the events replayed. */
export function rebuildProjections(store: SqliteEventStore, projections: SqliteProjections, chunk = 10_000): number {
  return store.exclusive(() => {
    for (const t of PROJECTION_TABLES) store.db.exec(`DELETE FROM ${t}`);
    let after = 0;
    let n = 0;
    const subjects: SubjectRows = new Map();
    for (;;) {
      const events = store.readAll(after, chunk);
      for (const e of events) projections.apply(e, subjects);
      n += events.length;
      if (events.length < chunk) break;
      after = events.at(-1)!.position;
    }
    projections.finishRebuild(subjects);
    return n;
  });
}
