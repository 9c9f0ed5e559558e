// The PostgreSQL adapter of the event log: group commit per replica (the commands queued while a
// transaction runs share the next one, each in its own savepoint), a per-stream row lock for exact
// expectedVersion, and one chain tip row that hands out dense positions in commit order.
import { randomUUID } from "node:crypto";
import pg from "pg";
import { LedgerError } from "../../domain/errors.js";
import type { LedgerEvent } from "../../domain/events.js";
import type { Lifecycle } from "../../domain/subject.js";
import { GENESIS_HASH, canonicalJson, chainHash, hashedContent } from "../../log/canonical.js";
import type { ChainHead, IdempotencyOptions, IntegrityReport, NewEvent, ReadFilter } from "../event-store.js";
import { ChangePump } from "./change-pump.js";
import { StoreUnavailableError, connectionConfig, describeUrl, isConnectionLoss, isUnavailable } from "./connection.js";
import { type EventRow, rowToEvent } from "../event-row.js";
import { EVENT_COLUMNS } from "./event-rows.js";
import { PROJECTION_COUNTS, projectionWrites, statusesBefore, writeRequests } from "./projections.js";
import { type TipTree, extendTree } from "./merkle-tree.js";
import { migrate } from "./schema.js";

export const EVENT_SCHEMA_VERSION = 1;
/** The channel every commit notifies; its payload is the commit's last position (a wake-up only). */
export const NOTIFY_CHANNEL = "ledger_events";
/** Rows per read when walking the log (integrity, rebuild, the change pump). */
const PAGE = 1_000;
/**
 * Commands per group commit. Each runs in a savepoint, a subtransaction with its own xid; past 64 in
 * one transaction PostgreSQL's per-session subtransaction cache overflows and every other session's
 * snapshot checks then go through pg_subtrans.
 */
export const MAX_BATCH = 64;
/** Once the batch has held the chain tip this long, the commands left wait for the next batch. */
export const MAX_TIP_HOLD_MS = 100;
/** How often one command is run again after its statement was chosen as a deadlock victim. */
const DEADLOCK_RETRIES = 3;
/** The pause (this to twice this) before the batch that runs a deadlock victim again. */
const DEADLOCK_BACKOFF_MS = 20;

export interface PostgresStoreOptions {
  url: string;
  clock?: () => number;
  /** Connections in the pool (default 10). */
  poolSize?: number;
  /** Named in pg_stat_activity. */
  applicationName?: string;
  /** Told of failures no caller waits for (the change pump's reads, a listener that threw). */
  onError?: (e: unknown) => void;
  /** How long a group commit may hold the chain tip before the works left wait for the next one (default MAX_TIP_HOLD_MS). */
  maxTipHoldMs?: number;
}

/** Runs inside one transaction that holds the locks of the streams it touched until commit. */
export interface PgWriteTx {
  readonly client: pg.PoolClient;
  /** Locks the stream (creating its head row) and returns its version. */
  lockStream(streamId: string): Promise<number>;
  /** Appends after checking the stream's version (null skips the check); continues the one chain. */
  /** `statusBefore`: the subjects' lifecycles before these events, when the caller has read them already. */
  append(streamId: string, expectedVersion: number | null, events: readonly NewEvent[], statusBefore?: ReadonlyMap<string, Lifecycle>): Promise<LedgerEvent[]>;
  /** Events an earlier call with this key appended, or undefined; IDEMPOTENCY_CONFLICT on other input. */
  replay(streamId: string, idem: IdempotencyOptions): Promise<LedgerEvent[] | undefined>;
  remember(streamId: string, idem: IdempotencyOptions, events: readonly LedgerEvent[]): Promise<void>;
  /** Drops a stream's idempotency records (their digests cover personal input). */
  forget(streamId: string): Promise<void>;
}

interface TipRow extends TipTree {
  position: number;
  hash: Buffer;
  recorded_at: number;
}

/** A command waiting for its group commit. */
interface Queued {
  work: (tx: PgWriteTx) => Promise<unknown>;
  now: number;
  resolve: (value: unknown) => void;
  reject: (e: unknown) => void;
  /** Times it was chosen as a deadlock victim so far. */
  deadlocks: number;
}

/** The chain tip as one batch's transaction holds it: null until its first append locks the row. */
interface BatchTip {
  tip: TipRow | null;
  /** performance.now() when the row was locked. */
  since: number;
}

/**
 * Thrown by a stream lock that would have to wait while the batch already holds the chain tip: the
 * command rolls back to its savepoint and runs first in the next batch instead.
 */
class StreamBusy extends Error {
  readonly code = "STREAM_BUSY";
  constructor(readonly streamId: string, cause: unknown) {
    super(`stream ${streamId} is locked by another transaction`, { cause });
  }
}

const DEADLOCK_SQLSTATE = new Set(["40P01", "40001"]);
const isDeadlock = (e: unknown) => e instanceof Error && DEADLOCK_SQLSTATE.has(String((e as { code?: unknown }).code));

export class PostgresStore {
  readonly pool: pg.Pool;
  private readonly clock: () => number;
  private readonly maxTipHoldMs: number;
  private readonly pump: ChangePump;
  private closed = false;
  /** False from a failed connection until a probe reaches the server again. */
  private reachable = true;
  private probe: NodeJS.Timeout | null = null;
  private notifyWanted = 0;
  private notifying = false;
  /** Commands waiting for the next group commit, in arrival order (commands put back go first). */
  private queue: Queued[] = [];
  /** The loop that runs batches while the queue is not empty; null when idle. */
  private runner: Promise<void> | null = null;
  /** Group commits that reached COMMIT so far (each one transaction, one WAL flush). */
  commitCount = 0;

  private constructor(
    readonly url: string,
    opts: PostgresStoreOptions,
  ) {
    this.clock = opts.clock ?? Date.now;
    this.maxTipHoldMs = opts.maxTipHoldMs ?? MAX_TIP_HOLD_MS;
    // A command waits at most 10 s for a free connection (then STORE_UNAVAILABLE): back-pressure, not a queue without end.
    this.pool = new pg.Pool({ ...connectionConfig(url, opts.applicationName ?? "consent-ledger"), max: opts.poolSize ?? 10, connectionTimeoutMillis: 10_000 });
    // An idle client whose connection dies emits here; without a listener the process would crash.
    this.pool.on("error", (e) => this.markUnreachable(e));
    this.pump = new ChangePump({
      url,
      channel: NOTIFY_CHANNEL,
      read: (after, limit) => this.readAll(after, limit),
      readWith: async (client, after, limit) =>
        (await client.query<EventRow>(`SELECT ${EVENT_COLUMNS} FROM events WHERE position > $1 ORDER BY position LIMIT $2`, [after, limit])).rows.map(rowToEvent),
      onError: (e) => (isUnavailable(e) ? this.markUnreachable(e) : opts.onError?.(e)),
    });
  }

  /**
   * Connects, migrates and starts listening. A wrong or unreachable URL rejects with a one-line
   * reason that names the server (never the password).
   */
  static async open(opts: PostgresStoreOptions): Promise<PostgresStore> {
    const store = new PostgresStore(opts.url, opts);
    try {
      const client = await store.pool.connect();
      try {
        await migrate(client);
      } finally {
        client.release();
      }
      const head = await store.head();
      await store.pump.start(head?.position ?? 0);
    } catch (e) {
      await store.pool.end().catch(() => undefined);
      await store.pump.stop().catch(() => undefined);
      const reason = e instanceof Error ? e.message : String(e);
      throw new Error(`cannot open the PostgreSQL ledger at ${describeUrl(opts.url)}: ${reason}`.replace(/\s*\n\s*/g, " "));
    }
    return store;
  }

  /**
   * Called with every committed event, from any replica, in position order and exactly once each,
   * after the commit that made it visible.
   */
  onCommit(listener: (events: readonly LedgerEvent[]) => void): () => void {
    return this.pump.subscribe(listener);
  }

  isWritable(): boolean {
    return !this.closed && this.reachable;
  }

  private markUnreachable(e: unknown): void {
    if (this.closed || !isConnectionLoss(e)) return;
    this.reachable = false;
    if (this.probe) return;
    // Readiness asks the server whether it is back, instead of waiting for a write to prove it.
    this.probe = setInterval(() => {
      this.pool.query("SELECT 1").then(
        () => {
          this.reachable = true;
          if (this.probe) clearInterval(this.probe);
          this.probe = null;
        },
        () => undefined,
      );
    }, 500);
    this.probe.unref();
  }

  /**
   * Runs `work` in a transaction and resolves once it has committed (durably: synchronous_commit is
   * the server's, on by default) and every replica's listeners, this one's included, have seen the
   * events it appended. Works that arrive while a batch runs share the next transaction (group
   * commit), each in its own savepoint: a throw from `work` rolls back that work alone and reaches
   * only its caller. A failed COMMIT or a lost connection fails every work of the batch.
   *
   * `work` may run more than once (see runBatch), so it keeps its effects inside the transaction.
   */
  transact<T>(work: (tx: PgWriteTx) => Promise<T>, now?: number): Promise<T> {
    if (this.closed) return Promise.reject(new StoreUnavailableError(new Error("store closed")));
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ work, now: now ?? this.clock(), resolve: resolve as (v: unknown) => void, reject, deadlocks: 0 });
      this.runner ??= this.runBatches();
    });
  }

  /** Runs batches until the queue is empty; never rejects (every failure goes to the works' callers). */
  private async runBatches(): Promise<void> {
    while (this.queue.length > 0) {
      // After a deadlock the other side gets a moment to go on before the victim runs again: retried
      // at once, the victim can take a lock back before the waking winner and make the same cycle.
      if (await this.runBatch(this.queue.splice(0, MAX_BATCH))) await new Promise((r) => setTimeout(r, DEADLOCK_BACKOFF_MS * (1 + Math.random())));
    }
    // Set in the same synchronous step that found the queue empty: a transact() after it starts a new loop.
    this.runner = null;
  }

  /**
   * One group commit (resolves true when a deadlock victim was put back): BEGIN, then each work between `SAVEPOINT w` and the next `RELEASE SAVEPOINT w`
   * (sent together, one round trip), `ROLLBACK TO SAVEPOINT w` for a work that threw, and one COMMIT.
   * The first append locks the chain tip row; the batch keeps the tip in memory for the appends after
   * it, and each work's savepoint restores the copy it started with when it rolls back (its tip lock
   * and tip update roll back with it).
   *
   * Deadlocks across replicas: a batch holding the tip must not wait for a stream row another
   * replica holds, since that replica's batch may be waiting for the tip. So a work that starts with
   * the tip already held by an earlier work of the batch locks its streams with NOWAIT; a busy stream
   * rolls that work back to its savepoint and puts it first in the next batch, which starts without
   * the tip and may wait. A cycle this cannot see (two replicas creating the same new stream row, a
   * single work that locks streams after its own append) is broken by the server's deadlock check:
   * the victim work rolls back alone and runs again in the next batch (after a short pause), up to
   * DEADLOCK_RETRIES times.
   * Works are closures over their command that keep every effect inside the transaction (event ids,
   * evidence keys and seals are made anew), so running one again is safe.
   */
  private async runBatch(batch: Queued[]): Promise<boolean> {
    let client: pg.PoolClient;
    try {
      client = await this.connectForRead();
    } catch (e) {
      for (const q of batch) q.reject(this.failure(e));
      return false;
    }
    let deadlocked = false;
    const held: BatchTip = { tip: null, since: 0 };
    const committed: { q: Queued; value: unknown; lastPosition: number }[] = [];
    const refused: { q: Queued; error: unknown }[] = [];
    const later: Queued[] = [];
    let broken = false;
    try {
      for (const [i, q] of batch.entries()) {
        if (held.tip && performance.now() - held.since > this.maxTipHoldMs) {
          later.push(...batch.slice(i));
          break;
        }
        await client.query(i === 0 ? "BEGIN; SAVEPOINT w" : "RELEASE SAVEPOINT w; SAVEPOINT w");
        const tipBefore = held.tip;
        let lastPosition = 0;
        try {
          const tx = this.writeTx(client, q.now, held, (p) => (lastPosition = Math.max(lastPosition, p)));
          committed.push({ q, value: await q.work(tx), lastPosition });
        } catch (e) {
          if (isConnectionLoss(e)) throw e;
          await client.query("ROLLBACK TO SAVEPOINT w");
          held.tip = tipBefore;
          if (e instanceof StreamBusy) later.push(q);
          else if (isDeadlock(e) && q.deadlocks++ < DEADLOCK_RETRIES) {
            later.push(q);
            deadlocked = true;
          }
          else refused.push({ q, error: e });
        }
      }
      await client.query("COMMIT");
      this.commitCount++;
    } catch (e) {
      if (isUnavailable(e)) broken = true;
      else await client.query("ROLLBACK").catch(() => (broken = true));
      client.release(broken ? true : undefined);
      const error = this.failure(e);
      for (const q of batch) q.reject(error);
      return false;
    }
    // The connection goes back to the pool first: the pump may need one to read these events.
    client.release();
    this.queue.unshift(...later);
    for (const { q, error } of refused) q.reject(this.failure(error));
    const last = Math.max(0, ...committed.map((c) => c.lastPosition));
    if (last > 0) this.notifyOthers(last);
    for (const { q, value, lastPosition } of committed) {
      if (lastPosition === 0) q.resolve(value);
      else void this.pump.caughtUpTo(lastPosition).then(() => q.resolve(value));
    }
    return deadlocked;
  }

  /** What a caller is told for a failure: ledger errors as they are, an unreachable store as STORE_UNAVAILABLE. */
  private failure(e: unknown): unknown {
    if (e instanceof LedgerError) return e;
    if (e instanceof StreamBusy) return this.failure(e.cause);
    if (isUnavailable(e)) {
      this.markUnreachable(e);
      return new StoreUnavailableError(e);
    }
    return e;
  }

  append(streamId: string, expectedVersion: number | null, events: readonly NewEvent[]): Promise<LedgerEvent[]> {
    return this.transact((tx) => tx.append(streamId, expectedVersion, events));
  }

  /**
   * Wakes the other replicas' pumps after a commit. Sent outside the write transaction and coalesced
   * (one in flight, then one more for the highest position since), because a NOTIFY inside the
   * transaction makes its commit take a cluster-wide lock. A lost wake-up costs only latency: every
   * pump also polls.
   */
  private notifyOthers(position: number): void {
    this.notifyWanted = Math.max(this.notifyWanted, position);
    if (this.notifying) return;
    this.notifying = true;
    const send = (): void => {
      const p = this.notifyWanted;
      this.pool.query("SELECT pg_notify($1, $2)", [NOTIFY_CHANNEL, String(p)]).then(
        () => {
          if (this.notifyWanted > p && !this.closed) send();
          else this.notifying = false;
        },
        () => {
          this.notifying = false;
        },
      );
    };
    send();
  }

  /**
   * One work's view of the batch transaction: the streams it locked (with their versions) are its
   * own, so a work rolled back to its savepoint leaves nothing behind. `now`: the command's instant,
   * which the chain records as transaction time (never going back).
   */
  private writeTx(client: pg.PoolClient, now: number, held: BatchTip, appended: (position: number) => void): PgWriteTx {
    const locked = new Map<string, number>();
    // Holding the tip an earlier work took, this work must not wait for a stream (see runBatch).
    const nowait = held.tip !== null;
    // The head row is the stream's lock, made if the stream is new, in one round trip: the insert
    // does nothing for a stream that exists (and returns no row), and the select, which does not see
    // a row inserted by its own statement, locks the existing one. A second writer waits on the lock
    // until the first commits, then reads the version the first left (READ COMMITTED re-reads the
    // newest row version). Neither returns a row when another transaction made the stream after
    // this statement's snapshot: the next try sees it.
    const lockQuery = (streamId: string) => ({
      name: nowait ? "ledger_lock_stream_nowait" : "ledger_lock_stream",
      text: `WITH made AS (INSERT INTO streams (stream_id, version) VALUES ($1, 0) ON CONFLICT (stream_id) DO NOTHING RETURNING version)
             SELECT version FROM made
             UNION ALL SELECT version FROM (SELECT version FROM streams WHERE stream_id = $1 FOR UPDATE${nowait ? " NOWAIT" : ""}) existing`,
      values: [streamId],
    });
    const lockStream = async (streamId: string): Promise<number> => {
      const known = locked.get(streamId);
      if (known !== undefined) return known;
      for (;;) {
        const { rows } = await client.query<{ version: number }>(lockQuery(streamId)).catch((e: unknown) => {
          throw nowait && (e as { code?: unknown }).code === "55P03" ? new StreamBusy(streamId, e) : e;
        });
        if (rows[0]) {
          locked.set(streamId, rows[0].version);
          return rows[0].version;
        }
      }
    };
    return {
      client,
      lockStream,
      append: async (streamId, expectedVersion, events, statusBefore) => {
        const current = await lockStream(streamId);
        if (expectedVersion !== null && expectedVersion !== current)
          throw new LedgerError("VERSION_CONFLICT", `expected version ${expectedVersion}, the stream is at ${current}`, {
            expectedVersion,
            actualVersion: current,
          });
        if (events.length === 0) return [];
        const subjects = [...new Set(events.map((e) => e.subjectId).filter((id): id is string => id !== null))];
        // Read before the chain tip is taken: every lock-holding round trip counts against every writer.
        const statuses = subjects.every((id) => statusBefore?.has(id)) ? new Map(statusBefore) : await statusesBefore(client, subjects);
        const out = await this.appendLocked(client, held, streamId, current, events, now, statuses);
        locked.set(streamId, current + out.length);
        appended(out.at(-1)!.position);
        return out;
      },
      replay: async (streamId, idem) => {
        await lockStream(streamId);
        const { rows } = await client.query<{ request_hash: string; first_position: number; last_position: number }>(
          "SELECT request_hash, first_position, last_position FROM idempotency WHERE stream_id = $1 AND key = $2",
          [streamId, idem.key],
        );
        const r = rows[0];
        if (!r) return undefined;
        if (r.request_hash !== idem.requestHash) throw new LedgerError("IDEMPOTENCY_CONFLICT", "this idempotency key was used before with other input");
        const events = await client.query<EventRow>(
          `SELECT ${EVENT_COLUMNS} FROM events WHERE position BETWEEN $1 AND $2 ORDER BY position`,
          [r.first_position, r.last_position],
        );
        return events.rows.map(rowToEvent);
      },
      remember: async (streamId, idem, events) => {
        if (events.length === 0) return;
        await client.query("INSERT INTO idempotency (stream_id, key, request_hash, first_position, last_position) VALUES ($1, $2, $3, $4, $5)", [
          streamId,
          idem.key,
          idem.requestHash,
          events[0]!.position,
          events.at(-1)!.position,
        ]);
      },
      forget: async (streamId) => {
        await client.query("DELETE FROM idempotency WHERE stream_id = $1", [streamId]);
      },
    };
  }

  /**
   * Takes the chain tip (the one lock every append shares, held from the batch's first append to its
   * commit) unless the batch holds it already, links the events after it, and writes them, the new
   * tip, the stream head and the read models in one statement.
   */
  private async appendLocked(
    client: pg.PoolClient,
    held: BatchTip,
    streamId: string,
    version: number,
    events: readonly NewEvent[],
    now: number,
    statuses: ReadonlyMap<string, Lifecycle>,
  ): Promise<LedgerEvent[]> {
    if (!held.tip) {
      held.tip = (await client.query<TipRow>({ name: "ledger_lock_tip", text: "SELECT position, hash, recorded_at, tree_leaves, tree_border FROM chain_tip FOR UPDATE" })).rows[0]!;
      held.since = performance.now();
    }
    const tip = held.tip;
    // recordedAt never goes back, so transaction time follows log order even when clocks differ between replicas.
    const recordedAt = Math.max(now, tip.recorded_at);
    let prev = tip.position === 0 ? GENESIS_HASH : tip.hash.toString("hex");
    let position = tip.position;
    let streamVersion = version;
    const out: LedgerEvent[] = [];
    for (const ne of events) {
      const base = {
        id: randomUUID(),
        position: ++position,
        streamId,
        streamVersion: ++streamVersion,
        type: ne.type,
        schemaVersion: EVENT_SCHEMA_VERSION,
        subjectId: ne.subjectId,
        occurredAt: ne.occurredAt,
        recordedAt,
        actor: ne.actor,
        // Canonical data, parsed back: the event carries exactly what was hashed and stored.
        data: JSON.parse(canonicalJson(ne.data)),
      };
      const hash = chainHash(prev, canonicalJson(hashedContent(base as LedgerEvent)));
      out.push({ ...base, prevHash: prev, hash } as LedgerEvent);
      prev = hash;
    }
    const rows = out.map((e) => ({
      position: e.position,
      id: e.id,
      stream_id: e.streamId,
      stream_version: e.streamVersion,
      type: e.type,
      schema_version: e.schemaVersion,
      subject_id: e.subjectId,
      occurred_at: e.occurredAt,
      recorded_at: e.recordedAt,
      actor_kind: e.actor.kind,
      actor_id: e.actor.id,
      data: canonicalJson(e.data),
      prev_hash: e.prevHash,
      hash: e.hash,
    }));
    const last = out.at(-1)!;
    // The transparency log's tree grows in the same transaction, in the chain's order.
    const tree = extendTree(tip.position, tip, out.map((e) => e.hash));
    const w = projectionWrites(out, statuses);
    // Named: prepared once per connection, so the server does not parse and plan this statement on every append.
    await client.query({
      name: "ledger_append",
      text: `WITH inserted AS (
         INSERT INTO events (${EVENT_COLUMNS})
         SELECT position, id, stream_id, stream_version, type, schema_version, subject_id, occurred_at, recorded_at,
                actor_kind, actor_id, data, decode(prev_hash, 'hex'), decode(hash, 'hex')
         FROM json_to_recordset($1::json) AS r(position bigint, id text, stream_id text, stream_version bigint, type text,
           schema_version integer, subject_id text, occurred_at bigint, recorded_at bigint, actor_kind text, actor_id text,
           data text, prev_hash text, hash text)
         RETURNING 1),
       tip AS (UPDATE chain_tip SET position = $2, hash = decode($3, 'hex'), recorded_at = $4, tree_leaves = $7, tree_border = $8 RETURNING 1),
       head AS (UPDATE streams SET version = $5 WHERE stream_id = $6 RETURNING 1),
       tree_nodes AS (INSERT INTO merkle_nodes (post_order, hash) SELECT p, decode(h, 'hex') FROM unnest($9::bigint[], $10::text[]) AS n(p, h) RETURNING 1),
       ${w.ctes(11)}
       SELECT (SELECT count(*) FROM inserted), (SELECT count(*) FROM tip), (SELECT count(*) FROM head), ${PROJECTION_COUNTS}`,
      values: [JSON.stringify(rows), last.position, last.hash, recordedAt, last.streamVersion, streamId, tree.leaves, tree.border, tree.postOrders, tree.hashes, ...w.params],
    });
    await writeRequests(client, w.requests);
    held.tip = { position: last.position, hash: Buffer.from(last.hash, "hex"), recorded_at: recordedAt, tree_leaves: tree.leaves, tree_border: tree.border };
    return out;
  }

  async readStream(streamId: string): Promise<LedgerEvent[]> {
    const { rows } = await this.read<EventRow>(`SELECT ${EVENT_COLUMNS} FROM events WHERE stream_id = $1 ORDER BY stream_version`, [streamId]);
    return rows.map(rowToEvent);
  }

  /** Events after a position, in order; filtered by subject and/or type. */
  async readAll(afterPosition: number, limit: number, filter?: ReadFilter): Promise<LedgerEvent[]> {
    const where = ["position > $1"];
    const params: unknown[] = [afterPosition, Math.max(0, Math.min(limit, 100_000))];
    if (filter?.subjectId !== undefined) {
      params.push(`subject:${filter.subjectId}`);
      where.push(`stream_id = $${params.length}`);
    }
    if (filter?.types && filter.types.length > 0) {
      params.push([...filter.types]);
      where.push(`type = ANY($${params.length}::text[])`);
    }
    const { rows } = await this.read<EventRow>(`SELECT ${EVENT_COLUMNS} FROM events WHERE ${where.join(" AND ")} ORDER BY position LIMIT $2`, params);
    return rows.map(rowToEvent);
  }

  async head(): Promise<ChainHead | null> {
    const { rows } = await this.read<TipRow>("SELECT position, hash FROM chain_tip");
    const t = rows[0];
    return !t || t.position === 0 ? null : { position: t.position, hash: t.hash.toString("hex") };
  }

  /**
   * Walks the whole chain page by page (each page is one query, so the event loop is free between
   * them); names the first position whose link, hash or place in the order does not hold.
   */
  async verify(): Promise<IntegrityReport> {
    const client = await this.connectForRead();
    try {
      // One snapshot for the count and the walk.
      await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
      const eventCount = (await client.query<{ n: number }>("SELECT count(*)::bigint AS n FROM events")).rows[0]!.n;
      let prev = GENESIS_HASH;
      let at = 0;
      let head: ChainHead | null = null;
      let firstInvalidPosition: number | null = null;
      for (;;) {
        const { rows } = await client.query<EventRow>(`SELECT ${EVENT_COLUMNS} FROM events WHERE position > $1 ORDER BY position LIMIT ${PAGE}`, [at]);
        for (const r of rows) {
          const e = rowToEvent(r);
          const holds =
            r.position === at + 1 &&
            e.prevHash === prev &&
            chainHash(prev, canonicalJson(hashedContent({ ...e, data: JSON.parse(r.data) }))) === e.hash &&
            canonicalJson(e.data) === r.data;
          if (!holds) {
            firstInvalidPosition = r.position;
            break;
          }
          prev = e.hash;
          at = r.position;
          head = { position: at, hash: prev };
        }
        if (firstInvalidPosition !== null || rows.length < PAGE) break;
      }
      await client.query("COMMIT");
      return { ok: firstInvalidPosition === null, eventCount, head, firstInvalidPosition };
    } finally {
      client.release();
    }
  }

  /** A read through the pool (a named query config is prepared once per connection); an unreachable server is STORE_UNAVAILABLE. */
  async read<R extends pg.QueryResultRow>(sql: string | pg.QueryConfig, params: unknown[] = []): Promise<pg.QueryResult<R>> {
    try {
      return await this.pool.query<R>(sql, params);
    } catch (e) {
      if (isUnavailable(e)) {
        this.markUnreachable(e);
        throw new StoreUnavailableError(e);
      }
      throw e;
    }
  }

  /**
   * A client from the pool that does not crash the process when its connection dies while checked
   * out (node-postgres emits 'error' on it then): the query in flight rejects, and readiness drops.
   */
  private async connectForRead(): Promise<pg.PoolClient> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (e) {
      this.markUnreachable(e);
      throw new StoreUnavailableError(e);
    }
    const onError = (e: unknown) => this.markUnreachable(e);
    client.on("error", onError);
    const release = client.release.bind(client);
    client.release = (err?: Error | boolean) => {
      client.off("error", onError);
      client.release = release;
      release(err);
    };
    return client;
  }

  /**
   * Runs `fn` in a REPEATABLE READ transaction that is rolled back afterwards: every read sees one
   * snapshot, writers go on, and temporary tables made inside vanish with it.
   */
  async snapshot<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.connectForRead();
    try {
      await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ");
      return await fn(client);
    } finally {
      await client.query("ROLLBACK").catch(() => undefined);
      client.release();
    }
  }

  /** Runs `fn` in one plain transaction holding the chain tip (rebuild and maintenance). */
  exclusive<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    return this.transaction(async (client) => {
      await client.query("SELECT position FROM chain_tip FOR UPDATE");
      return fn(client);
    });
  }

  /** Runs `fn` in one plain transaction on a pooled connection; a lost database is STORE_UNAVAILABLE. */
  async transaction<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.connectForRead();
    try {
      await client.query("BEGIN");
      const v = await fn(client);
      await client.query("COMMIT");
      return v;
    } catch (e) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw e;
    } finally {
      client.release();
    }
  }

  /** Refuses new works, lets the queued ones finish, then stops the pump and the pool. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.probe) clearInterval(this.probe);
    this.probe = null;
    await this.runner;
    await this.pump.stop();
    await this.pool.end();
  }
}
