// Data requests on SQLite: one by id, and the officers' queue in pages.
import type Database from "better-sqlite3";
import type { DataRequestState, DataRequestStatus } from "../../../domain/subject.js";
import type { Instant } from "../../../domain/time.js";
import type { DataRequestPage } from "../../storage-port.js";
import { type DataRequestRow, toDataRequest } from "../../read-model-rows.js";

export class SqliteDataRequests {
  private readonly s;

  constructor(db: Database.Database) {
    this.s = {
      requestById: db.prepare("SELECT * FROM data_requests WHERE id = ?"),
      // Keyset pages of the officers' queue by (due_at, id); @status and @overdue are null for either.
      // Overdue as the domain's isOverdue says: still open (or verified) and due before @now.
      requestsPage: db.prepare(
        `SELECT * FROM data_requests
         WHERE (@status IS NULL OR status = @status) AND (due_at, id) > (@dueAt, @id)
           AND (@overdue IS NULL OR (status IN ('OPEN', 'IDENTITY_VERIFIED') AND due_at < @now) = @overdue)
         ORDER BY due_at, id LIMIT @limit`,
      ),
    };
  }

  dataRequest(id: string): DataRequestState | undefined {
    const r = this.s.requestById.get(id) as DataRequestRow | undefined;
    return r && toDataRequest(r);
  }

  /** The officer's queue by (dueAt, id), a page after `page.from`; overdue = still open (or verified) past its due date. */
  dataRequests(status: DataRequestStatus | null, overdue: boolean | null, now: Instant, page: DataRequestPage): DataRequestState[] {
    const rows = this.s.requestsPage.all({
      status,
      overdue: overdue === null ? null : overdue ? 1 : 0,
      now,
      dueAt: page.from?.dueAt ?? Number.MIN_SAFE_INTEGER,
      id: page.from?.id ?? "",
      limit: page.first,
    }) as DataRequestRow[];
    return rows.map(toDataRequest);
  }
}
