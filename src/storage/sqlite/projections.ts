// Read models kept in step with the log, inside the append's transaction; rebuildable from it. One
// file per read model under read-models/; this class gathers them behind the one object the store,
// the writer and the rebuild use.
import type Database from "better-sqlite3";
import type { AsOf } from "../../domain/catalog.js";
import type { LedgerEvent } from "../../domain/events.js";
import type { DataRequestState, DataRequestStatus, SubjectState } from "../../domain/subject.js";
import type { Instant } from "../../domain/time.js";
import type { DataRequestPage, SubjectSnapshot } from "../storage-port.js";
import { SqliteDataRequests } from "./read-models/data-requests.js";
import { SqliteDueChanges } from "./read-models/due-changes.js";
import { SqliteProjectionWrites, type SubjectRows } from "./read-models/projection-writes.js";
import { SqliteRebuild } from "./read-models/rebuild.js";
import { SqliteSubjects } from "./read-models/subjects.js";
import { SqliteTransfers } from "./read-models/transfers.js";
import { SqliteViews } from "./read-models/views.js";

export type { SubjectRows } from "./read-models/projection-writes.js";

export class SqliteProjections {
  private readonly writes: SqliteProjectionWrites;
  private readonly rebuild: SqliteRebuild;
  private readonly subjects: SqliteSubjects;
  private readonly views: SqliteViews;
  private readonly requests: SqliteDataRequests;
  private readonly due: SqliteDueChanges;
  private readonly transfers: SqliteTransfers;

  constructor(db: Database.Database) {
    this.writes = new SqliteProjectionWrites(db);
    this.rebuild = new SqliteRebuild(db);
    this.subjects = new SqliteSubjects(db);
    this.views = new SqliteViews(db);
    this.requests = new SqliteDataRequests(db);
    this.due = new SqliteDueChanges(db);
    this.transfers = new SqliteTransfers(db);
  }

  /** Keeps the read models in step with one append's events, inside its transaction (see SqliteProjectionWrites.applyAll). */
  applyAll(events: readonly LedgerEvent[]): void {
    this.writes.applyAll(events);
  }

  /** One event; with `subjects`, as a rebuild applies it (see SqliteProjectionWrites.apply). */
  apply(e: LedgerEvent, subjects?: SubjectRows): void {
    this.writes.apply(e, subjects);
  }

  /** Ends a rebuild at once (see SqliteRebuild.finishRebuild). */
  finishRebuild(subjects: SubjectRows): void {
    this.rebuild.finishRebuild(subjects);
  }

  /** Ends a rebuild in bounded steps (see SqliteRebuild.finishRebuildSteps). */
  finishRebuildSteps(subjects: SubjectRows, chunk: number): Generator<void, void, void> {
    return this.rebuild.finishRebuildSteps(subjects, chunk);
  }

  subject(subjectId: string): SubjectState {
    return this.subjects.subject(subjectId);
  }

  mergedInto(subjectId: string): string | null {
    return this.subjects.mergedInto(subjectId);
  }

  pendingReconsent(policyId: string, threshold: number, after: string, limit: number): string[] {
    return this.subjects.pendingReconsent(policyId, threshold, after, limit);
  }

  viewAt(subjectId: string, asOf: AsOf): SubjectSnapshot {
    return this.views.viewAt(subjectId, asOf);
  }

  currentView(subjectId: string, at: Instant): SubjectSnapshot {
    return this.views.currentView(subjectId, at);
  }

  /** currentView and the instant it holds until (see SqliteViews.currentViewUntil). */
  currentViewUntil(subjectId: string, at: Instant): { view: SubjectSnapshot; until: Instant } {
    return this.views.currentViewUntil(subjectId, at);
  }

  viewThrough(subjectId: string, position: number): SubjectSnapshot {
    return this.views.viewThrough(subjectId, position);
  }

  dataRequest(id: string): DataRequestState | undefined {
    return this.requests.dataRequest(id);
  }

  dataRequests(status: DataRequestStatus | null, overdue: boolean | null, now: Instant, page: DataRequestPage): DataRequestState[] {
    return this.requests.dataRequests(status, overdue, now, page);
  }

  dueExpiries(now: Instant, limit: number): { subjectId: string; policyId: string; purposeId: string; expiresAt: Instant; grantEventId: string }[] {
    return this.due.dueExpiries(now, limit);
  }

  dueEffects(now: Instant, limit: number): { policyId: string; version: number; effectiveAt: Instant }[] {
    return this.due.dueEffects(now, limit);
  }

  nextDue(): Instant | null {
    return this.due.nextDue();
  }

  effectPositions(after: number, upTo: number): number[] {
    return this.due.effectPositions(after, upTo);
  }

  subjectsOfPolicy(policyId: string, after: string, limit: number, through?: number): string[] {
    return this.due.subjectsOfPolicy(policyId, after, limit, through);
  }

  transferPositions(subjectId: string, from: Instant, to: Instant): number[] {
    return this.transfers.transferPositions(subjectId, from, to);
  }
}
