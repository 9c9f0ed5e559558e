// The SQLite adapter of the event store: WAL + synchronous=FULL, guarded table, chain, group commit.
import { randomUUID } from "node:crypto";
import { chmodSync, closeSync, existsSync, openSync, statSync, statfsSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import { LedgerError } from "../../domain/errors.js";
import type { LedgerEvent } from "../../domain/events.js";
import { GENESIS_HASH, canonicalJson, chainHash, sha256Hex } from "../../log/canonical.js";
import { StoreUnavailableError } from "../store-unavailable.js";
import { type EventRow, canonicalRowContent, rowToEvent } from "../event-row.js";
import { scrubWal } from "./scrub-wal.js";
import { verifyStoredChain } from "./verify-chain.js";
import type { ChainHead, EventStore, IntegrityReport, NewEvent, ReadFilter, WriteTx } from "../event-store.js";
import { migrate } from "./schema.js";

export const SCHEMA_VERSION = 1;
/** Most commands one group commit takes; the rest wait for the next. */
const MAX_BATCH = 512;
/** Free space below which a store that has failed a commit does not call itself writable again. */
const MIN_FREE_BYTES = 1 << 20;

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

/** The chain's last link, as the next append continues it. */
interface Tip {
  position: number;
  hash: string;
  recordedAt: number;
}

/** SQLite result codes that say the database cannot take writes now, not that the command was wrong. */
const STORAGE_FAILURE = /^SQLITE_(FULL|IOERR|READONLY|BUSY|LOCKED|NOMEM|CANTOPEN|CORRUPT|NOTADB|PROTOCOL)/;

const isStorageFailure = (e: unknown): boolean =>
  e instanceof Database.SqliteError && STORAGE_FAILURE.test(e.code);

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
  /** Hooks run inside the transaction for every appended event (projections). */
  private readonly appliers: ((e: LedgerEvent) => void)[] = [];

  private readonly stmts;
  /** The chain's last link; recordedAt never goes back, so transaction time follows log order even if the clock steps back. */
  private tip: Tip = { position: 0, hash: GENESIS_HASH, recordedAt: 0 };
  private batchEvents: LedgerEvent[] = [];

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
    const db = this.db;
    this.stmts = {
      insert: db.prepare(
        `INSERT INTO events (position, id, stream_id, stream_version, type, schema_version, subject_id, occurred_at, recorded_at, actor_kind, actor_id, data, prev_hash, hash)
         VALUES (@position, @id, @stream_id, @stream_version, @type, @schema_version, @subject_id, @occurred_at, @recorded_at, @actor_kind, @actor_id, @data, @prev_hash, @hash)`,
      ),
      tip: db.prepare("SELECT position, hash, recorded_at FROM events ORDER BY position DESC LIMIT 1"),
      streamVersion: db.prepare("SELECT MAX(stream_version) AS v FROM events WHERE stream_id = ?").pluck(),
      readStream: db.prepare("SELECT * FROM events WHERE stream_id = ? ORDER BY stream_version"),
      readAll: db.prepare("SELECT * FROM events WHERE position > ? ORDER BY position LIMIT ?"),
      readRange: db.prepare("SELECT * FROM events WHERE position BETWEEN ? AND ? ORDER BY position"),
      readAllStream: db.prepare("SELECT * FROM events WHERE stream_id = ? AND position > ? ORDER BY position LIMIT ?"),
      idemGet: db.prepare("SELECT request_hash, first_position, last_position FROM idempotency WHERE stream_id = ? AND key = ?"),
      idemForget: db.prepare("DELETE FROM idempotency WHERE stream_id = ?"),
      idemPut: db.prepare("INSERT INTO idempotency (stream_id, key, request_hash, first_position, last_position) VALUES (?, ?, ?, ?, ?)"),
      count: db.prepare("SELECT COUNT(*) FROM events").pluck(),
      publications: db.prepare("SELECT * FROM events WHERE type = 'PolicyVersionPublished' ORDER BY position"),
    };
    this.tip = this.readTip();
  }

  private readTip(): Tip {
    const r = this.stmts.tip.get() as { position: number; hash: Buffer; recorded_at: number } | undefined;
    return r ? { position: r.position, hash: r.hash.toString("hex"), recordedAt: r.recorded_at } : { position: 0, hash: GENESIS_HASH, recordedAt: 0 };
  }

  /** Registers a hook run inside the write transaction for each appended event. */
  addApplier(apply: (e: LedgerEvent) => void): void {
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
    if (this.lastCommitFailed) this.lastCommitFailed = !this.probeWritable();
    return !this.lastCommitFailed;
  }

  /** Cheap checks for the causes of a failed commit: query_only, max_page_count, a full file system. */
  private probeWritable(): boolean {
    try {
      if (this.db.pragma("query_only", { simple: true }) !== 0) return false;
      const pages = this.db.pragma("page_count", { simple: true }) as number;
      if (pages >= (this.db.pragma("max_page_count", { simple: true }) as number)) return false;
      if (this.path !== ":memory:" && this.path !== "") {
        const fs = statfsSync(dirname(this.path));
        if (fs.bavail * fs.bsize < MIN_FREE_BYTES) return false;
      }
      return true;
    } catch {
      return false;
    }
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
      this.tip = this.readTip();
      const tx = this.writeTx();
      for (const p of batch) {
        const tipBefore = this.tip;
        this.batchEvents = [];
        try {
          const value = this.db.transaction(() => p.work(tx))();
          outcomes.push({ ok: true, value });
          committed.push(...this.batchEvents);
        } catch (error) {
          // SQLITE_FULL, an I/O error and the like can roll back the whole group commit behind our
          // back; the commands after it would then each autocommit while told they failed. Abort all.
          if (isStorageFailure(error) || !this.db.inTransaction) throw error;
          this.tip = tipBefore;
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
      this.tip = this.readTip();
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
      streamVersion: (streamId) => (this.stmts.streamVersion.get(streamId) as number | null) ?? 0,
      append: (streamId, expectedVersion, events) => this.appendInTx(streamId, expectedVersion, events),
      replay: (streamId, idem) => {
        const r = this.stmts.idemGet.get(streamId, idem.key) as { request_hash: string; first_position: number; last_position: number } | undefined;
        if (!r) return undefined;
        if (r.request_hash !== idem.requestHash)
          throw new LedgerError("IDEMPOTENCY_CONFLICT", "this idempotency key was used before with other input");
        return (this.stmts.readRange.all(r.first_position, r.last_position) as EventRow[]).map(rowToEvent);
      },
      remember: (streamId, idem, events) => {
        if (events.length === 0) return;
        this.stmts.idemPut.run(streamId, idem.key, idem.requestHash, events[0]!.position, events.at(-1)!.position);
      },
      forget: (streamId) => {
        this.stmts.idemForget.run(streamId);
      },
    };
  }

  private appendInTx(streamId: string, expectedVersion: number | null, events: readonly NewEvent[]): LedgerEvent[] {
    const current = (this.stmts.streamVersion.get(streamId) as number | null) ?? 0;
    if (expectedVersion !== null && expectedVersion !== current)
      throw new LedgerError("VERSION_CONFLICT", `expected version ${expectedVersion}, the stream is at ${current}`, {
        expectedVersion,
        actualVersion: current,
      });
    const recordedAt = Math.max(this.clock(), this.tip.recordedAt);
    const out: LedgerEvent[] = [];
    let version = current;
    for (const ne of events) {
      const row: EventRow = {
        position: this.tip.position + 1,
        id: randomUUID(),
        stream_id: streamId,
        stream_version: ++version,
        type: ne.type,
        schema_version: SCHEMA_VERSION,
        subject_id: ne.subjectId,
        occurred_at: ne.occurredAt,
        recorded_at: recordedAt,
        actor_kind: ne.actor.kind,
        actor_id: ne.actor.id,
        data: canonicalJson(ne.data),
        prev_hash: Buffer.from(this.tip.hash, "hex"),
        hash: Buffer.alloc(0),
      };
      const hash = chainHash(this.tip.hash, canonicalRowContent(row));
      row.hash = Buffer.from(hash, "hex");
      this.stmts.insert.run(row);
      const event = rowToEvent(row);
      this.tip = { position: row.position, hash, recordedAt };
      for (const apply of this.appliers) apply(event);
      out.push(event);
      this.batchEvents.push(event);
    }
    return out;
  }

  readStream(streamId: string): LedgerEvent[] {
    return (this.stmts.readStream.all(streamId) as EventRow[]).map(rowToEvent);
  }

  readAll(afterPosition: number, limit: number, filter?: ReadFilter): LedgerEvent[] {
    const out: LedgerEvent[] = [];
    let after = afterPosition;
    const chunk = Math.max(limit, 256);
    for (;;) {
      const page = this.scan(after, limit - out.length, chunk, filter);
      out.push(...page.events);
      if (out.length >= limit || page.exhausted) return out;
      after = page.scannedTo;
    }
  }

  /**
   * One bounded step of a read in log order: at most `rows` rows after `afterPosition` are read,
   * and of them at most `limit` matching events returned. `scannedTo` is the last position read;
   * `exhausted` when the log ends within this step.
   */
  scan(afterPosition: number, limit: number, rows: number, filter?: ReadFilter): { events: LedgerEvent[]; scannedTo: number; exhausted: boolean } {
    const types = filter?.types && filter.types.length > 0 ? new Set<string>(filter.types) : null;
    const read = (
      filter?.subjectId !== undefined ? this.stmts.readAllStream.all(`subject:${filter.subjectId}`, afterPosition, rows) : this.stmts.readAll.all(afterPosition, rows)
    ) as EventRow[];
    const events: LedgerEvent[] = [];
    let scannedTo = afterPosition;
    for (const r of read) {
      scannedTo = r.position;
      if (types && !types.has(r.type)) continue;
      events.push(rowToEvent(r));
      if (events.length >= limit) return { events, scannedTo, exhausted: false };
    }
    return { events, scannedTo, exhausted: read.length < rows };
  }

  /** Every policy publication, in log order, through their partial index: no scan of the log. */
  publications(): LedgerEvent[] {
    return (this.stmts.publications.all() as EventRow[]).map(rowToEvent);
  }

  head(): ChainHead | null {
    const t = this.readTip();
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


/**
 * The database holds the log and the (wrapped) subject keys: owner-only (0600). A new file is
 * created 0600 before SQLite opens it, and SQLite gives its -wal and -shm files the database
 * file's mode; files an older build created more open are tightened.
 */
export function restrictFileModes(path: string): void {
  if (!existsSync(path)) closeSync(openSync(path, "a", 0o600));
  for (const f of [path, `${path}-wal`, `${path}-shm`]) {
    try {
      if ((statSync(f).mode & 0o077) !== 0) chmodSync(f, 0o600);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    }
  }
}
