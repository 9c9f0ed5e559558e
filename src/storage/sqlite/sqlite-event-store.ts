// The SQLite adapter of the event store: WAL + synchronous=FULL, guarded table, chain, group commit.
import { hash as oneShotHash, randomUUID } from "node:crypto";
import { statfsSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import { LedgerError } from "../../domain/errors.js";
import type { EventType, LedgerEvent } from "../../domain/events.js";
import { GENESIS_HASH, canonicalJson, chainHash, sha256Hex } from "../../log/canonical.js";
import type { ChainHead, EventStore, IdempotencyOptions, IntegrityReport, NewEvent, ReadFilter, WriteTx } from "../event-store.js";
import { migrate } from "./schema.js";

export const SCHEMA_VERSION = 1;
/** Most commands one group commit takes; the rest wait for the next. */
const MAX_BATCH = 512;
/** Free space below which a store that has failed a commit does not call itself writable again. */
const MIN_FREE_BYTES = 1 << 20;

interface EventRow {
  position: number;
  id: string;
  stream_id: string;
  stream_version: number;
  type: string;
  schema_version: number;
  subject_id: string | null;
  occurred_at: number;
  recorded_at: number;
  actor_kind: string;
  actor_id: string;
  data: string;
  prev_hash: Buffer;
  hash: Buffer;
}

/**
 * The canonical content of a stored row, written without re-encoding `data` (stored canonical).
 * Equal to canonicalJson(hashedContent(event)); a test holds the two together.
 */
export function canonicalRowContent(r: EventRow): string {
  return (
    `{"actor":{"id":${JSON.stringify(r.actor_id)},"kind":${JSON.stringify(r.actor_kind)}},"data":${r.data},` +
    `"id":${JSON.stringify(r.id)},"occurredAt":${r.occurred_at},"position":${r.position},"recordedAt":${r.recorded_at},` +
    `"schemaVersion":${r.schema_version},"streamId":${JSON.stringify(r.stream_id)},"streamVersion":${r.stream_version},` +
    `"subjectId":${r.subject_id === null ? "null" : JSON.stringify(r.subject_id)},"type":${JSON.stringify(r.type)}}`
  );
}

export function rowToEvent(r: EventRow): LedgerEvent {
  return {
    id: r.id,
    position: r.position,
    streamId: r.stream_id,
    streamVersion: r.stream_version,
    type: r.type as EventType,
    schemaVersion: r.schema_version,
    subjectId: r.subject_id,
    occurredAt: r.occurred_at,
    recordedAt: r.recorded_at,
    actor: { kind: r.actor_kind as LedgerEvent["actor"]["kind"], id: r.actor_id },
    data: JSON.parse(r.data),
    prevHash: r.prev_hash.toString("hex"),
    hash: r.hash.toString("hex"),
  } as LedgerEvent;
}

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

/** The write path's failure when the database cannot commit (disk full, read-only file, closed). */
export class StoreUnavailableError extends LedgerError {
  constructor(cause: unknown) {
    super("STORE_UNAVAILABLE", "the ledger cannot store this right now; nothing was recorded, try again later");
    this.cause = cause;
  }
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

  append(streamId: string, expectedVersion: number | null, events: readonly NewEvent[], idem?: IdempotencyOptions): Promise<LedgerEvent[]> {
    return this.transact((tx) => {
      if (idem) {
        const replayed = tx.replay(streamId, idem);
        if (replayed) return replayed;
      }
      const out = tx.append(streamId, expectedVersion, events);
      if (idem) tx.remember(streamId, idem, out);
      return out;
    });
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
    const types = filter?.types && filter.types.length > 0 ? new Set<string>(filter.types) : null;
    const out: LedgerEvent[] = [];
    let cursor = afterPosition;
    const chunk = Math.max(limit, 256);
    // Filtering by type is done while scanning forward in chunks: the log is read in order anyway.
    for (;;) {
      const rows = (
        filter?.subjectId !== undefined
          ? this.stmts.readAllStream.all(`subject:${filter.subjectId}`, cursor, chunk)
          : this.stmts.readAll.all(cursor, chunk)
      ) as EventRow[];
      for (const r of rows) {
        cursor = r.position;
        if (types && !types.has(r.type)) continue;
        out.push(rowToEvent(r));
        if (out.length >= limit) return out;
      }
      if (rows.length < chunk) return out;
    }
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

  /**
   * Folds the WAL into the file (where secure_delete has zeroed deleted bytes) and truncates it, so
   * that deleted data (an erased subject's key) survives in no old page image. A reader holding an
   * older snapshot (a backup, an offline verify) makes the checkpoint stop short; it is then retried
   * from a timer until it completes, never by blocking the event loop in the busy handler.
   */
  scrubWal(): void {
    const db = this.db;
    if (db.memory || !db.open || this.closed) return;
    const timeout = db.pragma("busy_timeout", { simple: true }) as number;
    db.pragma("busy_timeout = 0");
    let r: { busy: number } | undefined;
    try {
      [r] = db.pragma("wal_checkpoint(TRUNCATE)") as { busy: number; log: number; checkpointed: number }[];
    } finally {
      db.pragma(`busy_timeout = ${timeout}`);
    }
    const pending = r !== undefined && r.busy !== 0;
    if (pending && !this.scrubTimer) {
      this.scrubTimer = setTimeout(() => {
        this.scrubTimer = null;
        if (this.isWritable()) this.scrubWal();
      }, 250);
      this.scrubTimer.unref();
    }
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

/** Whether row `r` continues a chain whose last hash is `prevHex`, judged on the row as stored: the reference check. */
function linkHolds(r: EventRow, prevHex: string): boolean {
  return r.prev_hash.toString("hex") === prevHex && chainHash(prevHex, canonicalRowContent(r)) === r.hash.toString("hex");
}

/** The chain check over rows in position order: the reference that the store's walk, verifyStoredChain, must agree with. */
export function verifyChain(rows: Iterable<EventRow>): IntegrityReport {
  let prev = GENESIS_HASH;
  let expectedPosition = 0;
  let count = 0;
  let head: ChainHead | null = null;
  let firstInvalidPosition: number | null = null;
  for (const r of rows) {
    count++;
    if (firstInvalidPosition !== null) continue; // keep counting so the report says how long the log is
    if (r.position !== ++expectedPosition || !linkHolds(r, prev)) {
      firstInvalidPosition = r.position;
      continue;
    }
    prev = r.hash.toString("hex");
    head = { position: r.position, hash: prev };
  }
  return { ok: firstInvalidPosition === null, eventCount: count, head, firstInvalidPosition };
}

/**
 * canonicalRowContent written by SQLite, so the walk gets one string per row instead of twelve values.
 * Byte for byte the same for rows of a STRICT events table: json_quote escapes exactly what JSON.stringify
 * does (`"`, `\`, U+0000-U+001F, the same short forms, lowercase \u00xx; invalid UTF-8 reads back as U+FFFD
 * either way) and NULL as `null`; integers print the same digits as long as a double holds them, which
 * CANONICAL_ROW_EXACT checks. A test holds this and canonicalRowContent together on generated rows.
 */
export const CANONICAL_ROW_SQL = `concat('{"actor":{"id":', json_quote(actor_id), ',"kind":', json_quote(actor_kind), '},"data":', data,
  ',"id":', json_quote(id), ',"occurredAt":', occurred_at, ',"position":', position, ',"recordedAt":', recorded_at,
  ',"schemaVersion":', schema_version, ',"streamId":', json_quote(stream_id), ',"streamVersion":', stream_version,
  ',"subjectId":', json_quote(subject_id), ',"type":', json_quote(type), '}')`;

/** Beyond 2^53 better-sqlite3 hands JS a rounded number, so canonicalRowContent and SQLite would print different digits. */
const CANONICAL_ROW_EXACT = ["position", "stream_version", "schema_version", "occurred_at", "recorded_at"]
  .map((c) => `${c} BETWEEN ${-Number.MAX_SAFE_INTEGER} AND ${Number.MAX_SAFE_INTEGER}`)
  .join(" AND ");

/**
 * Each row of a position range, in order, as one string: its hash and its prev_hash in lower-case hex, then
 * its canonical content; from character 64 on, that is the input of its hash whenever the link holds.
 * NULL when SQLite may not write the content as canonicalRowContent would, or a hash is not 32 bytes long.
 * One string per row, not an array of columns, because building rows is much of better-sqlite3's cost.
 */
const walkSql = (link: string) => `SELECT ${link} FROM events WHERE position BETWEEN ? AND ? ORDER BY position`;
const WALK_SQL = walkSql(
  `CASE WHEN length(hash) = 32 AND length(prev_hash) = 32 AND ${CANONICAL_ROW_EXACT}
   THEN lower(hex(hash) || hex(prev_hash)) || ${CANONICAL_ROW_SQL} END`,
);
/** Without STRICT a column may hold any type (json_quote refuses BLOBs, REALs print otherwise): every row takes the reference check. */
const WALK_SQL_LOOSE = walkSql("NULL");
/** Positions per read: enough to amortise the statement, small enough to stay in cache. */
const WALK_CHUNK = 512;

/**
 * verifyChain over the events table, without a row object per event: SQLite writes each row's hashes and
 * canonical content as one string, JS hashes and compares strings. A row this cannot vouch for (SQLite
 * declined to write it, or its link does not hold) is read whole and judged by the reference check, so
 * every verdict is the reference one. One read transaction, so the count and the walk see the same log.
 */
export function verifyStoredChain(db: Database.Database): IntegrityReport {
  const strict = db.prepare("SELECT strict FROM pragma_table_list WHERE schema = 'main' AND name = 'events'").pluck().get() === 1;
  const walk = db.prepare(strict ? WALK_SQL : WALK_SQL_LOOSE).pluck();
  const positionsIn = db.prepare("SELECT position FROM events WHERE position BETWEEN ? AND ? ORDER BY position").pluck();
  const least = db.prepare("SELECT MIN(position) FROM events").pluck();
  const firstAfter = db.prepare("SELECT MIN(position) FROM events WHERE position > ?").pluck();
  const rowAt = db.prepare("SELECT * FROM events WHERE position = ?");
  const count = db.prepare("SELECT COUNT(*) FROM events").pluck();
  return db.transaction((): IntegrityReport => {
    const eventCount = count.get() as number;
    let prev = GENESIS_HASH;
    let at = 0;
    const report = (firstInvalidPosition: number | null): IntegrityReport => ({
      ok: firstInvalidPosition === null,
      eventCount,
      head: at === 0 ? null : { position: at, hash: prev },
      firstInvalidPosition,
    });
    // Rows come in position order, so the first one not at 1 (moved to 0 or below, or 1 missing) is the first invalid.
    const first = least.get() as number | null;
    if (first !== null && first !== 1) return report(first);
    for (;;) {
      const links = walk.all(at + 1, at + WALK_CHUNK) as (string | null)[];
      // A full range holds every position in it (positions are unique integers); a short one may have gaps.
      const positions = links.length === WALK_CHUNK ? null : (positionsIn.all(at + 1, at + WALK_CHUNK) as number[]);
      for (let i = 0; i < links.length; i++) {
        const position = positions === null ? at + 1 : positions[i]!;
        if (position !== at + 1) return report(position);
        const link = links[i]!;
        let hash: string | null = null;
        if (link !== null && link.startsWith(prev, 64)) {
          // crypto.hash, not createHash: no Hash object per row, which costs about as much as SHA-256 itself here.
          const computed = oneShotHash("sha256", link.slice(64));
          if (link.startsWith(computed)) hash = computed;
        }
        if (hash === null) {
          const r = rowAt.get(position) as EventRow;
          if (!linkHolds(r, prev)) return report(position);
          hash = r.hash.toString("hex");
        }
        prev = hash;
        at = position;
      }
      if (links.length < WALK_CHUNK) {
        if (at === eventCount) return report(null);
        // Rows remain past a gap: the next of them is the first out of sequence.
        return report(firstAfter.get(at) as number);
      }
    }
  })();
}

export const requestHash = (input: unknown) => sha256Hex(canonicalJson(input));
