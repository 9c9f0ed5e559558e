// The permission reads' view of subjects, for either backend: a bounded ViewCache (view-cache.ts),
// the log position it reflects, and the rule for what may be served from it and kept in it. What
// tells it of commits is the backend's own: on SQLite `PRAGMA data_version` and the writer's commit
// reports (sqlite/subject-view-cache.ts); on PostgreSQL this replica's answers and the change feed
// (postgres/subject-view-feed.ts). Before anything is served from memory the backend's check runs:
// it catches the view up with commits made elsewhere, and answers false when memory may not answer
// now (the read then goes to the database).
import type { LedgerEvent } from "../domain/events.js";
import type { SubjectSnapshot, SubjectState } from "../domain/subject.js";
import type { Instant } from "../domain/time.js";
import { ViewCache, type ViewCacheStats } from "./view-cache.js";

/** A view read from the database, and the first instant a fact already stored changes it. */
export interface LoadedView {
  view: SubjectSnapshot;
  until: Instant;
}

export class SubjectViews {
  private readonly cache: ViewCache;
  /** Every commit up to this log position has been taken into account. */
  private at: number;

  /**
   * `check` runs before anything is served from memory: it may catch the view up (`committed`,
   * `reset`) and answers whether memory may answer now.
   */
  constructor(
    maxBytes: number,
    position: number,
    private readonly check: () => boolean,
  ) {
    this.cache = new ViewCache(maxBytes);
    this.at = position;
  }

  /** The log position every commit up to which this view has taken into account. */
  get position(): number {
    return this.at;
  }

  /** The subject's view at `at` from memory, else from `load` (kept when it holds beyond `at`). */
  currentView(subjectId: string, at: Instant, load: () => LoadedView): SubjectSnapshot {
    const held = this.heldView(subjectId, at);
    if (held) return held;
    const epoch = this.cache.epoch;
    return this.keepView(subjectId, at, load(), epoch);
  }

  /** currentView with a load that answers later (a database across the network). */
  async currentViewAsync(subjectId: string, at: Instant, load: () => Promise<LoadedView>): Promise<SubjectSnapshot> {
    const held = this.heldView(subjectId, at);
    if (held) return held;
    const epoch = this.cache.epoch;
    return this.keepView(subjectId, at, await load(), epoch);
  }

  /** The subject's whole current state from memory, else from `load`. */
  subject(subjectId: string, load: () => SubjectState): SubjectState {
    const held = this.heldState(subjectId);
    if (held) return held;
    const epoch = this.cache.epoch;
    const state = load();
    this.cache.putState(subjectId, state, epoch);
    return state;
  }

  /** subject with a load that answers later. */
  async subjectAsync(subjectId: string, load: () => Promise<SubjectState>): Promise<SubjectState> {
    const held = this.heldState(subjectId);
    if (held) return held;
    const epoch = this.cache.epoch;
    const state = await load();
    this.cache.putState(subjectId, state, epoch);
    return state;
  }

  /**
   * Commits in log order: their subjects are dropped, and the position moves to the last when they
   * continue (or overlap) what was taken into account. A gap leaves the position where it was: the
   * backend's check catches up from the log, or keeps memory from answering.
   */
  committed(events: readonly LedgerEvent[]): void {
    this.forget(events);
    const first = events[0];
    const last = events.at(-1);
    if (first && last && first.position <= this.at + 1 && last.position > this.at) this.at = last.position;
  }

  /** Drops the subjects these events name (a commit whose place in the log is not the point). */
  forget(events: readonly LedgerEvent[]): void {
    for (const e of events) if (e.subjectId !== null) this.cache.drop(e.subjectId);
  }

  /** Drops these subjects and takes every commit up to `position` as taken into account. */
  caughtUp(subjectIds: readonly string[], position: number): void {
    for (const id of subjectIds) this.cache.drop(id);
    this.at = position;
  }

  /** Nothing held stays (the read models were rewritten, or too much changed to drop one by one); `position` is then the view's. */
  reset(position: number = this.at): void {
    this.cache.clear();
    this.at = position;
  }

  /** The figures, and whether memory may answer now (which runs the backend's check). */
  stats(): ViewCacheStats {
    const serving = this.check();
    return this.cache.stats(this.at, serving);
  }

  private heldView(subjectId: string, at: Instant): SubjectSnapshot | undefined {
    if (!this.check()) return this.cache.bypass();
    return this.cache.view(subjectId, at);
  }

  private heldState(subjectId: string): SubjectState | undefined {
    if (!this.check()) return this.cache.bypass();
    return this.cache.state(subjectId);
  }

  private keepView(subjectId: string, at: Instant, loaded: LoadedView, epoch: number): SubjectSnapshot {
    if (loaded.until > at) this.cache.putView(subjectId, { view: loaded.view, from: at, until: loaded.until }, epoch);
    return loaded.view;
  }
}
