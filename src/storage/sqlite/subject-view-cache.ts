// The permission reads from memory on SQLite, never stale. The view (storage/view-cache.ts) is kept
// on this thread beside its read connection and is told of change two ways:
//  - this process's writer names the events of each commit before the commands' answers are
//    released (writer-thread.ts), so their subjects are dropped before any caller hears "done";
//  - `PRAGMA data_version` on the read connection changes whenever another connection committed
//    (this process's writer thread, another service on the same file, a `cli` command): before
//    anything is served from memory it is compared, and on a change the subjects of the log's new
//    events are dropped (read from the log itself), or everything when there are too many.
// A read that starts after a write's acknowledgement therefore never sees the state before it.
import type Database from "better-sqlite3";
import type { LedgerEvent } from "../../domain/events.js";
import type { SubjectSnapshot, SubjectState } from "../../domain/subject.js";
import type { Instant } from "../../domain/time.js";
import { SubjectViews } from "../subject-views.js";
import type { ViewCacheStats } from "../view-cache.js";

/** New log entries looked at one by one to drop their subjects; past this the whole view is dropped. */
const CATCH_UP_LIMIT = 256;

export class SqliteSubjectViews {
  private readonly views: SubjectViews;
  private readonly s;
  private dataVersion: number;

  constructor(db: Database.Database, maxBytes: number) {
    this.s = {
      dataVersion: db.prepare("PRAGMA data_version").pluck(),
      head: db.prepare("SELECT COALESCE(MAX(position), 0) FROM events").pluck(),
      subjectsAfter: db.prepare("SELECT subject_id FROM events WHERE position > ? AND position <= ? AND subject_id IS NOT NULL").pluck(),
    };
    this.dataVersion = this.s.dataVersion.get() as number;
    // Memory always answers on SQLite, once caught up with the other connections' commits.
    this.views = new SubjectViews(maxBytes, this.s.head.get() as number, () => {
      this.catchUp();
      return true;
    });
  }

  /** The subject's view at `at` from memory, else from `load` (kept when it holds beyond `at`). */
  currentView(subjectId: string, at: Instant, load: () => { view: SubjectSnapshot; until: Instant }): SubjectSnapshot {
    return this.views.currentView(subjectId, at, load);
  }

  /** The subject's whole current state from memory, else from `load`. */
  subject(subjectId: string, load: () => SubjectState): SubjectState {
    return this.views.subject(subjectId, load);
  }

  /** A commit of this process's writer: its subjects are dropped; the position moves on when the commit follows the last one known. */
  committed(events: readonly LedgerEvent[]): void {
    // A gap means another connection committed between: `catchUp` reads those from the log.
    this.views.committed(events);
  }

  /** The read models were rewritten (a rebuild): nothing held stays. */
  clear(): void {
    this.views.reset(this.s.head.get() as number);
  }

  stats(): ViewCacheStats {
    return this.views.stats();
  }

  /** The log position every commit up to which this view has taken into account. */
  includedPosition(): number {
    this.catchUp();
    return this.views.position;
  }

  /** When another connection committed since the last look, drops the subjects of the log's new events. */
  private catchUp(): void {
    const dv = this.s.dataVersion.get() as number;
    if (dv === this.dataVersion) return;
    this.dataVersion = dv;
    const head = this.s.head.get() as number;
    const position = this.views.position;
    if (head === position) return;
    if (head < position || head - position > CATCH_UP_LIMIT) this.views.reset(head);
    else this.views.caughtUp(this.s.subjectsAfter.all(position, head) as string[], head);
  }
}
