// The storage port: everything the ledger needs from a database, asynchronous so that a network
// driver can implement it. Adapters live in subfolders (sqlite/, postgres/); all pass one
// conformance suite (test/storage/conformance). Nothing above this port knows which one runs.
import type { AsOf } from "../domain/catalog.js";
import type { CommandBounds, LedgerCommand } from "../domain/command.js";
import type { Actor, LedgerEvent } from "../domain/events.js";
import type { DataRequestState, DataRequestStatus, SubjectSnapshot, SubjectState } from "../domain/subject.js";
import type { Instant } from "../domain/time.js";
import type { TransparencyPort } from "../log/transparency-store.js";
import type { ChainHead, IntegrityReport, ReadFilter } from "./event-store.js";
import type { WebhookStore } from "./webhook-store.js";

import type { ViewCacheStats } from "./view-cache.js";

export type { ChainHead, IntegrityReport, ReadFilter } from "./event-store.js";

export interface IdempotencyKey {
  key: string;
  /** A digest of the caller's input: the same key with another input is IDEMPOTENCY_CONFLICT. */
  requestHash: string;
}

/** A command with what the storage needs to run it: who asks, when, and an optional idempotency key. */
export interface CommandRequest {
  command: LedgerCommand;
  actor: Actor;
  /** The instant the command is decided at; recordedAt is never earlier than the log's last one. */
  now: Instant;
  idempotency?: IdempotencyKey | null;
  /** The operator's bounds the decision applies (occurredAt floor, open-request quota, subject-id pseudonymity). */
  bounds?: CommandBounds;
}

/** A page of the officers' queue: at most `first` requests after the one at (dueAt, id) `from`. */
export interface DataRequestPage {
  first: number;
  from: { dueAt: Instant; id: string } | null;
}

export interface CommandOutcome {
  /** The events the command appended (or, on a replay, those the first call appended). */
  events: LedgerEvent[];
  /** The subject as the command left it (on a replay: as the first call left it); null for a publication. */
  subject: SubjectState | null;
  /** True when an idempotency key replayed an earlier call. */
  replayed: boolean;
}

export type { SubjectSnapshot };

export interface StoragePort {
  /**
   * Runs a command in one write transaction: reads the subject's (or policy's) state there, decides
   * with the domain, seals personal values under the subject's evidence key, appends with the
   * chain, updates the read models and the idempotency record, and on erasure destroys the
   * subject's key and idempotency digests (leaving no copy in the adapter's journals). Resolves
   * once the transaction is durable and visible to this port's reads; rejects with the domain's
   * LedgerError, or STORE_UNAVAILABLE when nothing could be stored.
   */
  execute(request: CommandRequest): Promise<CommandOutcome>;

  // ---- the log ----
  /** Events after a position, in log order, optionally by type and subject; whole-log scans run in bounded chunks. */
  readAll(afterPosition: number, limit: number, filter?: ReadFilter): Promise<LedgerEvent[]>;
  /** One stream's events in stream order. */
  readStream(streamId: string): Promise<LedgerEvent[]>;
  /** Every PolicyVersionPublished event, in log order, without reading the rest of the log. */
  publications(): Promise<LedgerEvent[]>;
  head(): Promise<ChainHead | null>;
  /** Walks the whole chain in bounded chunks that leave the event loop free between them. */
  verify(): Promise<IntegrityReport>;
  /**
   * Compares every read-model table with a rebuild of it from the log, both read from one snapshot,
   * without blocking the event loop (chunks that yield, or work done by the database server); the
   * rebuilt side is cached by log head. Catches rows edited, added or deleted by SQL behind the log.
   */
  checkReadModels(): Promise<ReadModelReport>;
  /** Called after each durable commit with the events it made visible, in log order. */
  onCommit(listener: (events: readonly LedgerEvent[]) => void): () => void;

  // ---- read models ----
  /** A subject's current state (a fresh SubjectState for one never seen). */
  subject(subjectId: string): Promise<SubjectState>;
  /** The subject now, from the current read models; a fact dated after `at` yields to the one in force at `at`. */
  currentView(subjectId: string, at: Instant): Promise<SubjectSnapshot>;
  /** The in-memory view of subjects' figures (VIEW_CACHE_MB), for /metrics; absent or null where there is none. */
  viewCache?(): ViewCacheStats | null;
  /** The subject as of (at, knownAt), from the bitemporal read models. */
  viewAt(subjectId: string, asOf: AsOf): Promise<SubjectSnapshot>;
  /** The subject as its events up to and including log position `position` leave it (the change feed's before/after). */
  viewThrough(subjectId: string, position: number): Promise<SubjectSnapshot>;
  dataRequest(requestId: string): Promise<DataRequestState | undefined>;
  /** The officer's queue by (dueAt, id); overdue = still open or verified past its due date at `now`; a page of it. */
  dataRequests(status: DataRequestStatus | null, overdue: boolean | null, now: Instant, page: DataRequestPage): Promise<DataRequestState[]>;
  /** Active or suspended subjects whose accepted version of the policy is below `threshold`, in id order after `after`. */
  pendingReconsent(policyId: string, threshold: number, after: string, limit: number): Promise<string[]>;

  /** A subject's ThirdPartyTransferRecorded events with occurredAt in [from, to], oldest first (indexed, not a scan). */
  transfers(subjectId: string, from: Instant, to: Instant): Promise<LedgerEvent[]>;
  /** The next instant a time-driven change falls due (an unrecorded expiry or version coming into effect), from an index. */
  nextDue(): Promise<Instant | null>;
  /**
   * Subjects with a standing in the policy (those a version of it coming into effect may change), in id
   * order after `after`; with `through`, only those who had accepted it at or before that log position.
   */
  subjectsOfPolicy(policyId: string, after: string, limit: number, through?: number): Promise<string[]>;
  /** Log positions in (after, upTo] at which a policy version came into effect (its publication or its PolicyVersionEffective). */
  effectPositions(after: number, upTo: number): Promise<number[]>;

  // ---- evidence ----
  /**
   * The subject's evidence key while it exists; null once erased (or never made). Keys are stored
   * wrapped under the key-encryption key the adapter was opened with (evidence/key-wrap.ts), never
   * plain once a KEK is given; a wrong KEK fails the open (KekMismatchError).
   */
  evidenceKey(subjectId: string): Promise<Uint8Array | null>;
  /** Wraps under the KEK every subject key an older build stored plain; returns how many (0 without a KEK, or read-only). */
  wrapEvidenceKeys(): Promise<number>;

  // ---- transparency log ----
  /**
   * The log's RFC 9162 tree and its latest checkpoint. An adapter extends the tree with
   * every append, in the same transaction and in the chain's order, catches up a log that predates
   * the tree in chunks, and keeps the latest checkpoint so that it only grows, whichever process on
   * the database publishes it.
   */
  readonly transparency: TransparencyPort;

  // ---- webhooks ----
  /** Webhook registrations, their acknowledged cursors, delivery records and leases. */
  readonly webhooks: WebhookStore;

  // ---- maintenance ----
  /** Recomputes every read model from the log; returns the number of events replayed. */
  rebuild(): Promise<number>;
  /** A consistent copy of the whole store taken while it serves; the copy's own chain walk included. */
  backup(destination: string, opts?: { overwrite?: boolean }): Promise<BackupReport>;
  /** Whether a write could be stored now (readiness). */
  isWritable(): boolean;
  /** Waits for accepted commands to finish, then releases every resource. */
  close(): Promise<void>;
}

export interface ReadModelReport {
  /** True when every read table equals its rebuild from the log. */
  ok: boolean;
  /** The read tables whose rows differ from a rebuild (e.g. `consents` after an INSERT by SQL). */
  differingTables: string[];
  /** Events the rebuild replayed (the log as of the snapshot). */
  eventCount: number;
}

export interface BackupReport {
  source: string;
  destination: string;
  pages: number;
  /** The copy's own chain check: a backup that does not verify is no backup. */
  chain: IntegrityReport;
}
