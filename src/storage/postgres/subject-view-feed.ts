// The permission reads from memory on a PostgreSQL replica (the view of storage/subject-views.ts),
// kept by two sources:
//  - this replica's commands: the subjects a command's events name are dropped before its answer is
//    released (PostgresStorage.execute), so a replica always reads its own writes;
//  - the change feed (change-pump.ts), which delivers every replica's commits in log order: their
//    subjects are dropped and the view's position moves with the feed's, before the applied position
//    (feed/applied-position.ts) is advanced from the same delivery. A read carrying
//    Ledger-Min-Position waits for the applied position, so it finds the view past that position.
// Memory answers only while the feed is live and current: its listening connection up, and a read of
// the log begun at most `maxLagMs` ago having found the log's end. Otherwise the read goes to the
// database, until the feed has caught up. A read without the header is therefore at most `maxLagMs`
// behind the database.
import type { LedgerEvent } from "../../domain/events.js";
import type { SubjectSnapshot, SubjectState } from "../../domain/subject.js";
import type { Instant } from "../../domain/time.js";
import { type LoadedView, SubjectViews } from "../subject-views.js";
import type { ViewCacheStats } from "../view-cache.js";
import type { PostgresStore } from "./postgres-store.js";

/** How often the feed reads the log without a wake-up when a view of `maxLagMs` is kept: twice within the bound, at most once a second. */
export const feedPollFor = (maxLagMs: number): number => Math.max(25, Math.min(1_000, Math.floor(maxLagMs / 2)));

export class PgSubjectViews {
  private readonly views: SubjectViews;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly store: PostgresStore,
    maxBytes: number,
    private readonly maxLagMs: number,
  ) {
    // Built and subscribed in one step: the feed delivers nothing between reading its position and listening.
    this.views = new SubjectViews(maxBytes, store.feedPosition(), () => this.live());
    this.unsubscribe = store.onCommit((events) => this.views.committed(events));
  }

  /** The highest log head this replica has read from the database (see `headRead`). */
  private floor = 0;

  /**
   * Whether memory may answer now: the feed listening and current within the bound, and every event
   * it delivered, and every position up to a head this replica reported, taken into account.
   */
  private live(): boolean {
    return this.store.feedLagMs() <= this.maxLagMs && this.views.position >= Math.max(this.store.feedPosition(), this.floor);
  }

  /**
   * This replica read the log's head from the database (at start, its applied position begins there;
   * `ledgerHead` answers it): memory does not answer until the feed has delivered up to it, so the view
   * never lags a position this replica counts as applied or has handed out.
   */
  headRead(position: number): void {
    if (position > this.floor) this.floor = position;
  }

  currentView(subjectId: string, at: Instant, load: () => Promise<LoadedView>): Promise<SubjectSnapshot> {
    return this.views.currentViewAsync(subjectId, at, load);
  }

  subject(subjectId: string, load: () => Promise<SubjectState>): Promise<SubjectState> {
    return this.views.subjectAsync(subjectId, load);
  }

  /** A command of this replica committed these events: their subjects are dropped before its caller hears of it. */
  wrote(events: readonly LedgerEvent[]): void {
    this.views.forget(events);
  }

  /** The read models were rewritten (a rebuild): nothing held stays. */
  clear(): void {
    this.views.reset();
  }

  stats(): ViewCacheStats {
    return this.views.stats();
  }

  close(): void {
    this.unsubscribe();
  }
}
