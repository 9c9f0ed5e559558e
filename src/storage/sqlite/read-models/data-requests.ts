// Data requests on SQLite: one by id, and the officers' queue in pages.
import type Database from "better-sqlite3";
import type { DataRequestState, DataRequestStatus } from "../../../domain/subject.js";
import type { Instant } from "../../../domain/time.js";
import type { DataRequestPage } from "../../storage-port.js";
import { type DataRequestRow, toDataRequest } from "../../read-model-rows.js";

export class SqliteDataRequests {
  /** The officers' queue in keyset pages by (due_at, id); @status and @overdue are null for either. */
  private readonly page: Database.Statement;
  private readonly byId: Database.Statement;

  constructor(db: Database.Database) {
    // Overdue as the domain's isOverdue says: still open (or verified) and due before @now.
    this.page = db.prepare(
      `SELECT * FROM data_requests
       WHERE (@status IS NULL OR status = @status) AND (due_at, id) > (@dueAt, @id)
         AND (@overdue IS NULL OR (status IN ('OPEN', 'IDENTITY_VERIFIED') AND due_at < @now) = @overdue)
       ORDER BY due_at, id LIMIT @limit`,
    );
    this.byId = db.prepare("SELECT * FROM data_requests WHERE id = ?");
  }

  dataRequest(id: string): DataRequestState | undefined {
    const r = this.byId.get(id) as DataRequestRow | undefined;
    return r && toDataRequest(r);
  }

  /** The officer's queue by (dueAt, id), a page after `page.from`; overdue = still open (or verified) past its due date. */
  dataRequests(status: DataRequestStatus | null, overdue: boolean | null, now: Instant, page: DataRequestPage): DataRequestState[] {
    const rows = this.page.all({
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
