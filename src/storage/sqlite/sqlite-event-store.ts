// The SQLite adapter of the event store: WAL + synchronous=FULL, guarded table, chain, group commit.
// The chain, idempotency, reads and writability checks live in event-store/; this class runs the
// group commit over them.
import Database from "better-sqlite3";
import type { LedgerEvent } from "../../domain/events.js";
import { StoreUnavailableError } from "../store-unavailable.js";
import { type EventRow, rowToEvent } from "../event-row.js";
import { scrubWal } from "./scrub-wal.js";
import { verifyStoredChain } from "./verify-chain.js";
import type { ChainHead, EventStore, IntegrityReport, NewEvent, ReadFilter, WriteTx } from "../event-store.js";
import { migrate } from "./schema.js";
import { type ChainState, EMPTY_TIP, appendToChain, readTip, streamVersion } from "./event-store/chain-append.js";
import { restrictFileModes } from "./event-store/file-modes.js";
import { forget, remember, replayed } from "./event-store/idempotency.js";
import { type ScanStep, readAll, scan } from "./event-store/read-events.js";
import { type EventStatements, prepareEventStatements } from "./event-store/statements.js";
import { isStorageFailure, probeWritable } from "./event-store/writability.js";

export { SCHEMA_VERSION } from "./event-store/chain-append.js";
export { restrictFileModes } from "./event-store/file-modes.js";

/** Most commands one group commit takes; the rest wait for the next. */
const MAX_BATCH = 512;

export interface SqliteStoreOptions {
  /** A file path, or ":memory:". */
  path: string;
  /** Injected for tests; defaults to Date.now. */
  clock?: () => number;
  readonly?: boolean;
}

interface Pending<T> {
  work: (tx: WriteTx) => T;
  resolve: (v: T) => void;
  reject: (e: unknown) => void;
}

export class SqliteEventStore implements EventStore {
  readonly db: Database.Database;
  private readonly path: string;
  private readonly clock: () => number;
  private readonly queue: Pending<unknown>[] = [];
  private flushScheduled = false;
  private flushing: Promise<void> | null = null;
  private closed = false;
  private lastCommitFailed = false;
  /** Group commits made through this store (each one COMMIT, one fsync). */
  commitCount = 0;
  /** A WAL scrub that a reader's snapshot cut short, to be retried. */
  private scrubTimer: NodeJS.Timeout | null = null;
  private readonly listeners = new Set<(events: readonly LedgerEvent[]) => void>();
  /** Hooks run inside the transaction on each append's events, in log order (projections, tree). */
  private readonly appliers: ((events: readonly LedgerEvent[]) => void)[] = [];

  private readonly stmts: EventStatements;
  /** The chain's last link (recordedAt never goes back), the hooks, and the events the running command appended. */
  private readonly chain: ChainState = { tip: EMPTY_TIP, appliers: this.appliers, batchEvents: [], versions: new Map() };

  constructor(opts: SqliteStoreOptions) {
    this.clock = opts.clock ?? Date.now;
    this.path = opts.path;
    if (!opts.readonly && opts.path !== ":memory:") restrictFileModes(opts.path);
    this.db = new Database(opts.path, { readonly: opts.readonly ?? false });
    if (!opts.readonly) {
      this.db.pragma("journal_mode = WAL");
      this.db.pragma("synchronous = FULL");
      this.db.pragma("secure_delete = ON");
      this.db.pragma("foreign_keys = ON");
      this.db.pragma("busy_timeout = 5000");
      migrate(this.db);
    }
    this.stmts = prepareEventStatements(this.db);
    this.chain.tip = readTip(this.stmts);
  }

  /** Registers a hook run inside the write transaction on each append's events. */
  addApplier(apply: (events: readonly LedgerEvent[]) => void): void {
    this.appliers.push(apply);
  }

  onCommit(listener: (events: readonly LedgerEvent[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  isWritable(): boolean {
    if (this.closed || this.db.readonly) return false;
    // A failed commit makes /readyz 503, which keeps writes away; so readiness asks the database
    // whether the cause has passed instead of waiting for a write that would prove it.
    if (this.lastCommitFailed) this.lastCommitFailed = !probeWritable(this.db, this.path);
    return !this.lastCommitFailed;
  }

  transact<T>(work: (tx: WriteTx) => T): Promise<T> {
    if (this.closed) return Promise.reject(new StoreUnavailableError(new Error("store closed")));
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ work, resolve, reject } as Pending<unknown>);
      this.scheduleFlush();
    });
  }

  append(streamId: string, expectedVersion: number | null, events: readonly NewEvent[]): Promise<LedgerEvent[]> {
    return this.transact((tx) => tx.append(streamId, expectedVersion, events));
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    // setImmediate runs after the I/O phase: requests parsed in the same turn share a commit.
    setImmediate(() => {
      this.flushScheduled = false;
      this.flushing = Promise.resolve().then(() => this.flush());
    });
  }

  /** One group commit: every queued command in its own savepoint, one COMMIT (one fsync) for all. */
  private flush(): void {
    const batch = this.queue.splice(0, MAX_BATCH);
    if (this.queue.length > 0) this.scheduleFlush();
    if (batch.length === 0) return;
    const outcomes: ({ ok: true; value: unknown } | { ok: false; error: unknown })[] = [];
    const committed: LedgerEvent[] = [];
    try {
      this.db.exec("BEGIN IMMEDIATE");
    } catch (e) {
      this.lastCommitFailed = true;
      for (const p of batch) p.reject(new StoreUnavailableError(e));
      return;
    }
    try {
      // Another process may have appended since we last looked; the chain continues from the file.
      this.chain.tip = readTip(this.stmts);
      const tx = this.writeTx();
      for (const p of batch) {
        const tipBefore = this.chain.tip;
        this.chain.batchEvents = [];
        this.chain.versions = new Map();
        try {
          const value = this.db.transaction(() => p.work(tx))();
          outcomes.push({ ok: true, value });
          committed.push(...this.chain.batchEvents);
        } catch (error) {
          // SQLITE_FULL, an I/O error and the like can roll back the whole group commit behind our
          // back; the commands after it would then each autocommit while told they failed. Abort all.
          if (isStorageFailure(error) || !this.db.inTransaction) throw error;
          this.chain.tip = tipBefore;
          outcomes.push({ ok: false, error });
        }
      }
      this.db.exec("COMMIT");
      this.commitCount++;
      this.lastCommitFailed = false;
    } catch (e) {
      try {
        if (this.db.inTransaction) this.db.exec("ROLLBACK");
      } catch {
        // the transaction is gone either way; the rejection below is what matters
      }
      this.chain.tip = readTip(this.stmts);
      this.lastCommitFailed = true;
      for (const p of batch) p.reject(new StoreUnavailableError(e));
      return;
    }
    batch.forEach((p, i) => {
      const o = outcomes[i]!;
      if (o.ok) p.resolve(o.value);
      else p.reject(o.error);
    });
    if (committed.length > 0) for (const l of this.listeners) l(committed);
  }

  private writeTx(): WriteTx {
    return {
      streamVersion: (streamId) => streamVersion(this.stmts, this.chain, streamId),
      append: (streamId, expectedVersion, events) => appendToChain(this.stmts, this.chain, this.clock(), streamId, expectedVersion, events),
      replay: (streamId, idem) => replayed(this.stmts, streamId, idem),
      remember: (streamId, idem, events) => remember(this.stmts, streamId, idem, events),
      forget: (streamId) => forget(this.stmts, streamId),
    };
  }

  readStream(streamId: string): LedgerEvent[] {
    return (this.stmts.readStream.all(streamId) as EventRow[]).map(rowToEvent);
  }

  readAll(afterPosition: number, limit: number, filter?: ReadFilter): LedgerEvent[] {
    return readAll(this.stmts, afterPosition, limit, filter);
  }

  /** One bounded step of a read in log order (see event-store/read-events.ts). */
  scan(afterPosition: number, limit: number, rows: number, filter?: ReadFilter): ScanStep {
    return scan(this.stmts, afterPosition, limit, rows, filter);
  }

  /** Every policy publication, in log order, through their partial index: no scan of the log. */
  publications(): LedgerEvent[] {
    return (this.stmts.publications.all() as EventRow[]).map(rowToEvent);
  }

  head(): ChainHead | null {
    const t = readTip(this.stmts);
    return t.position === 0 ? null : { position: t.position, hash: t.hash };
  }

  /** Walks the whole chain; names the first position whose link or hash does not hold. */
  verify(): IntegrityReport {
    return verifyStoredChain(this.db);
  }

  /** Runs `fn` in one plain transaction (used by rebuild and maintenance, not by appends). */
  exclusive<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  /** See scrubWal in scrub-wal.ts; a checkpoint a reader cut short is retried from a timer. */
  scrubWal(): void {
    if (this.db.memory || !this.db.open || this.closed) return;
    if (scrubWal(this.db) || this.scrubTimer) return;
    this.scrubTimer = setTimeout(() => {
      this.scrubTimer = null;
      if (this.isWritable()) this.scrubWal();
    }, 250);
    this.scrubTimer.unref();
  }

  /** Waits for queued commands to commit, then closes the database. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.scrubTimer) clearTimeout(this.scrubTimer);
    this.scrubTimer = null;
    while (this.flushScheduled || this.queue.length > 0 || this.flushing) {
      const f = this.flushing;
      this.flushing = null;
      await (f ?? new Promise((r) => setImmediate(r)));
    }
    this.db.close();
  }

  eventCount(): number {
    return this.stmts.count.get() as number;
  }
}

