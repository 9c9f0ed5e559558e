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
import { ViewCache, type ViewCacheStats } from "../view-cache.js";

/** New log entries looked at one by one to drop their subjects; past this the whole view is dropped. */
const CATCH_UP_LIMIT = 256;

export class SqliteSubjectViews {
  private readonly cache: ViewCache;
  private readonly s;
  private dataVersion: number;
  /** Every commit up to this log position has been taken into account. */
  private position: number;

  constructor(db: Database.Database, maxBytes: number) {
    this.cache = new ViewCache(maxBytes);
    this.s = {
      dataVersion: db.prepare("PRAGMA data_version").pluck(),
      head: db.prepare("SELECT COALESCE(MAX(position), 0) FROM events").pluck(),
      subjectsAfter: db.prepare("SELECT subject_id FROM events WHERE position > ? AND position <= ? AND subject_id IS NOT NULL").pluck(),
    };
    this.dataVersion = this.s.dataVersion.get() as number;
    this.position = this.s.head.get() as number;
  }

  /** The subject's view at `at` from memory, else from `load` (kept when it holds beyond `at`). */
  currentView(subjectId: string, at: Instant, load: () => { view: SubjectSnapshot; until: Instant }): SubjectSnapshot {
    this.catchUp();
    const held = this.cache.view(subjectId, at);
    if (held) return held;
    const epoch = this.cache.epoch;
    const { view, until } = load();
    if (until > at) this.cache.putView(subjectId, { view, from: at, until }, epoch);
    return view;
  }

  /** The subject's whole current state from memory, else from `load`. */
  subject(subjectId: string, load: () => SubjectState): SubjectState {
    this.catchUp();
    const held = this.cache.state(subjectId);
    if (held) return held;
    const epoch = this.cache.epoch;
    const state = load();
    this.cache.putState(subjectId, state, epoch);
    return state;
  }

  /** A commit of this process's writer: its subjects are dropped; the position moves on when the commit follows the last one known. */
  committed(events: readonly LedgerEvent[]): void {
    for (const e of events) if (e.subjectId !== null) this.cache.drop(e.subjectId);
    const first = events[0];
    const last = events.at(-1);
    // A gap means another connection committed between: `catchUp` reads those from the log.
    if (first && last && first.position === this.position + 1) this.position = last.position;
  }

  /** The read models were rewritten (a rebuild): nothing held stays. */
  clear(): void {
    this.cache.clear();
    this.position = this.s.head.get() as number;
  }

  stats(): ViewCacheStats {
    return this.cache.stats(this.position);
  }

  /** The log position every commit up to which this view has taken into account. */
  includedPosition(): number {
    this.catchUp();
    return this.position;
  }

  /** When another connection committed since the last look, drops the subjects of the log's new events. */
  private catchUp(): void {
    const dv = this.s.dataVersion.get() as number;
    if (dv === this.dataVersion) return;
    this.dataVersion = dv;
    const head = this.s.head.get() as number;
    if (head === this.position) return;
    if (head < this.position || head - this.position > CATCH_UP_LIMIT) this.cache.clear();
    else for (const id of this.s.subjectsAfter.all(this.position, head) as string[]) this.cache.drop(id);
    this.position = head;
  }
}
