// The PostgreSQL adapter of the event log: group commit per replica (the commands queued while a
// transaction runs share the next one, each in its own savepoint), a per-stream row lock for exact
// expectedVersion, and one chain tip row that hands out dense positions in commit order. One file
// per job under store/; this class puts them together on one pool.
import pg from "pg";
import type { LedgerEvent } from "../../domain/events.js";
import type { ChainHead, IntegrityReport, NewEvent, ReadFilter } from "../event-store.js";
import { ChangePump } from "./change-pump.js";
import { StoreUnavailableError, connectionConfig, describeUrl, isUnavailable } from "./connection.js";
import { migrate } from "./schema.js";
import { readHead } from "./store/chain-tip.js";
import { type BatchStats, GroupCommit, MAX_TIP_HOLD_MS } from "./store/group-commit.js";
import { CommitNotifier, NOTIFY_CHANNEL } from "./store/notify.js";
import { Reachability } from "./store/reachability.js";
import { readAll, readAllWith, readStream } from "./store/read-events.js";
import { holdingTip, inSnapshot, inTransaction } from "./store/transactions.js";
import { verifyChain } from "./store/verify-chain.js";
import type { PgWriteTx } from "./store/write-tx.js";
import type { LockstepWork } from "./store/lockstep.js";
import type { Step, StepResult } from "../command-steps.js";
import { LedgerError } from "../../domain/errors.js";

/** A plain append as a flow: lock the stream, check its version, append. */
function* appendFlow(streamId: string, expectedVersion: number | null, events: readonly NewEvent[]): Generator<Step, LedgerEvent[], StepResult> {
  const [current] = (yield { kind: "lock", streams: [streamId] }) as number[];
  if (expectedVersion !== null && expectedVersion !== current)
    throw new LedgerError("VERSION_CONFLICT", `expected version ${expectedVersion}, the stream is at ${current}`, { expectedVersion, actualVersion: current });
  return (yield {
    kind: "append",
    stream: streamId,
    expectedVersion,
    events,
    before: null,
  }) as LedgerEvent[];
}

/** An event as the log stores and reads it back (what the change pump delivers), from the writer's copy. */
const asStored = (e: LedgerEvent): LedgerEvent =>
  ({
    id: e.id,
    position: e.position,
    streamId: e.streamId,
    streamVersion: e.streamVersion,
    type: e.type,
    schemaVersion: e.schemaVersion,
    subjectId: e.subjectId ?? null,
    occurredAt: e.occurredAt,
    recordedAt: e.recordedAt,
    actor: { kind: e.actor.kind, id: e.actor.id },
    data: e.data,
    prevHash: e.prevHash,
    hash: e.hash,
  }) as LedgerEvent;

export { EVENT_SCHEMA_VERSION } from "./store/append.js";
export { MAX_BATCH, MAX_TIP_HOLD_MS, type BatchStats } from "./store/group-commit.js";
export { NOTIFY_CHANNEL } from "./store/notify.js";
export type { PgWriteTx } from "./store/write-tx.js";

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
  /**
   * Whether a batch's commands run set-based, in lockstep (store/lockstep.ts: a constant number of
   * round trips per batch), rather than one after another, each in its savepoint (default true).
   */
  setBasedBatches?: boolean;
  /** How often the change feed reads the log without a wake-up (ms; default 1000). */
  feedPollMs?: number;
  /** The monotonic clock (ms) the change feed's lag is measured on (performance.now by default; a test's otherwise). */
  feedClock?: () => number;
  /**
   * Whether set-based batches link their events after the tip as read (the write takes and checks
   * the tip); otherwise each locks the tip before its first append (default false: measured on the
   * 2-core bench machine, no faster there; see docs/postgres-batches.md).
   */
  optimisticTip?: boolean;
  /** Batches in flight at once with the optimistic tip (default PIPELINE). */
  pipeline?: number;
}

export class PostgresStore {
  readonly pool: pg.Pool;
  private readonly clock: () => number;
  private readonly pump: ChangePump;
  private readonly reach: Reachability;
  private readonly notifier: CommitNotifier;
  private readonly commits: GroupCommit;
  private closed = false;

  private constructor(
    readonly url: string,
    opts: PostgresStoreOptions,
  ) {
    this.clock = opts.clock ?? Date.now;
    // A command waits at most 10 s for a free connection (then STORE_UNAVAILABLE): back-pressure, not a queue without end.
    this.pool = new pg.Pool({ ...connectionConfig(url, opts.applicationName ?? "consent-ledger"), max: opts.poolSize ?? 10, connectionTimeoutMillis: 10_000 });
    this.reach = new Reachability(this.pool);
    // An idle client whose connection dies emits here; without a listener the process would crash.
    this.pool.on("error", (e) => this.reach.markUnreachable(e));
    this.pump = new ChangePump({
      url,
      channel: NOTIFY_CHANNEL,
      read: (after, limit) => this.readAll(after, limit),
      readWith: readAllWith,
      ...(opts.feedPollMs ? { pollMs: opts.feedPollMs } : {}),
      ...(opts.feedClock ? { now: opts.feedClock } : {}),
      onError: (e) => (isUnavailable(e) ? this.reach.markUnreachable(e) : opts.onError?.(e)),
    });
    this.notifier = new CommitNotifier(this.pool, () => this.closed);
    this.commits = new GroupCommit({
      connect: () => this.reach.connect(),
      failure: (e) => this.reach.failure(e),
      caughtUpTo: (position) => this.pump.caughtUpTo(position),
      committed: (position) => this.notifier.notify(position),
      maxTipHoldMs: opts.maxTipHoldMs ?? MAX_TIP_HOLD_MS,
      setBased: opts.setBasedBatches ?? true,
      ownEvents: (events) => this.pump.offer(events.map(asStored)),
      optimistic: opts.optimisticTip ?? false,
      pipeline: opts.pipeline,
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

  /** Group commits that reached COMMIT so far (each one transaction, one WAL flush). */
  get commitCount(): number {
    return this.commits.commitCount;
  }

  /** Statements sent on group commits' connections so far, and the works they answered: round trips per command. */
  get writeRoundTrips(): { roundTrips: number; committed: number; fallbacks: number } {
    return { roundTrips: this.commits.roundTrips, committed: this.commits.worksCommitted, fallbacks: this.commits.setBasedFallbacks };
  }

  /** Set-based batches whose chain tip moved between their read and their write (run again with the tip locked). */
  get tipMoves(): number {
    return this.commits.tipMoves;
  }

  /** Where the group commits spent their time so far (a copy; see BatchStats). */
  get batchStats(): BatchStats {
    return { ...this.commits.stats };
  }

  /**
   * Called with every committed event, from any replica, in position order and exactly once each,
   * after the commit that made it visible.
   */
  onCommit(listener: (events: readonly LedgerEvent[]) => void): () => void {
    return this.pump.subscribe(listener);
  }

  /** The last position the change feed delivered to onCommit's listeners. */
  feedPosition(): number {
    return this.pump.delivered();
  }

  /** How far (ms) the change feed may be behind the log: see ChangePump.lagMs (Infinity while its listening connection is down). */
  feedLagMs(): number {
    return this.pump.lagMs();
  }

  isWritable(): boolean {
    return !this.closed && this.reach.ok;
  }

  /**
   * Runs `work` in a transaction and resolves once it has committed (durably: synchronous_commit is
   * the server's, on by default) and every replica's listeners, this one's included, have seen the
   * events it appended. Works that arrive while a batch runs share the next transaction (group
   * commit), each in its own savepoint: a throw from `work` rolls back that work alone and reaches
   * only its caller. A failed COMMIT or a lost connection fails every work of the batch.
   *
   * `work` may run more than once (see GroupCommit.runBatch), so it keeps its effects inside the transaction.
   */
  transact<T>(work: (tx: PgWriteTx) => Promise<T>, now?: number): Promise<T> {
    if (this.closed) return Promise.reject(new StoreUnavailableError(new Error("store closed")));
    return this.commits.transact(work, now ?? this.clock());
  }

  /**
   * As transact, for a command written as a flow of steps (storage/command-steps.ts): in a set-based
   * batch it runs in lockstep with the batch's other flows; `work` runs the same command on its own
   * (in its savepoint) when the batch cannot go set-based.
   */
  transactFlow<T>(flow: Omit<LockstepWork, "now">, work: (tx: PgWriteTx) => Promise<T>, now?: number): Promise<T> {
    if (this.closed) return Promise.reject(new StoreUnavailableError(new Error("store closed")));
    const at = now ?? this.clock();
    return this.commits.transact(work, at, { ...flow, now: at });
  }

  append(streamId: string, expectedVersion: number | null, events: readonly NewEvent[]): Promise<LedgerEvent[]> {
    return this.transactFlow({ start: () => appendFlow(streamId, expectedVersion, events), ctx: {} }, (tx) => tx.append(streamId, expectedVersion, events));
  }

  readStream(streamId: string): Promise<LedgerEvent[]> {
    return readStream((sql, params) => this.read(sql, params), streamId);
  }

  /** Events after a position, in order; filtered by subject and/or type. */
  readAll(afterPosition: number, limit: number, filter?: ReadFilter): Promise<LedgerEvent[]> {
    return readAll((sql, params) => this.read(sql, params), afterPosition, limit, filter);
  }

  head(): Promise<ChainHead | null> {
    return readHead((sql) => this.read(sql));
  }

  /** Walks the whole chain in one snapshot; names the first position whose link, hash or place in the order does not hold. */
  verify(): Promise<IntegrityReport> {
    return verifyChain(() => this.reach.connect());
  }

  /** A read through the pool (a named query config is prepared once per connection); an unreachable server is STORE_UNAVAILABLE. */
  read<R extends pg.QueryResultRow>(sql: string | pg.QueryConfig, params: unknown[] = []): Promise<pg.QueryResult<R>> {
    return this.reach.read<R>(sql, params);
  }

  /**
   * Runs `fn` in a REPEATABLE READ transaction that is rolled back afterwards: every read sees one
   * snapshot, writers go on, and temporary tables made inside vanish with it.
   */
  snapshot<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    return inSnapshot(() => this.reach.connect(), fn);
  }

  /** Runs `fn` in one plain transaction holding the chain tip (rebuild and maintenance). */
  exclusive<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    return holdingTip(() => this.reach.connect(), fn);
  }

  /** Runs `fn` in one plain transaction on a pooled connection; a lost database is STORE_UNAVAILABLE. */
  transaction<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    return inTransaction(() => this.reach.connect(), fn);
  }

  /** Refuses new works, lets the queued ones finish, then stops the pump and the pool. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.reach.stop();
    await this.commits.drain();
    await this.pump.stop();
    await this.pool.end();
  }
}
