// Third-party transfers of a subject on SQLite, by the instant they happened.
import type Database from "better-sqlite3";
import type { Instant } from "../../../domain/time.js";

export class SqliteTransfers {
  private readonly s;

  constructor(db: Database.Database) {
    this.s = {
      transfersOf: db.prepare(
        "SELECT position FROM transfers WHERE subject_id = ? AND occurred_at >= ? AND occurred_at <= ? ORDER BY occurred_at, position",
      ).pluck(),
    };
  }

  /** Positions of a subject's transfer records with occurredAt in [from, to], oldest first. */
  transferPositions(subjectId: string, from: Instant, to: Instant): number[] {
    return this.s.transfersOf.all(subjectId, from, to) as number[];
  }
}
