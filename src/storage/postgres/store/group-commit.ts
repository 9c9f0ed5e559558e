// Group commit per replica: the commands queued while a transaction runs share the next one, each
// in its own savepoint, and one COMMIT (one WAL flush) answers them all.
import { randomBytes } from "node:crypto";
import type pg from "pg";
import type { LedgerEvent } from "../../../domain/events.js";
import { isConnectionLoss, isUnavailable } from "../connection.js";
import type { BatchTip, TipRow } from "./chain-tip.js";
import { DEADLOCK_RETRIES, StreamBusy, deadlockPause, isDeadlock } from "./deadlock-retry.js";
import { type LockstepWork, type Optimistic, TipMoved, runLockstep } from "./lockstep.js";
import { type PgWriteTx, writeTx } from "./write-tx.js";

/**
 * Commands per group commit. Each runs in a savepoint, a subtransaction with its own xid; past 64 in
 * one transaction PostgreSQL's per-session subtransaction cache overflows and every other session's
 * snapshot checks then go through pg_subtrans.
 */
export const MAX_BATCH = 64;
/**
 * Batches in flight at once on one replica with the optimistic tip. With two, the next batch locks
 * its streams, reads and decides while the one before it writes and commits, and links its events
 * after the tip that write will leave (its write waits on the server for that transaction, then
 * checks the tip: TipMoved if it failed). One by default: measured on the 2-core bench machine, a
 * second batch in flight split steady callers into two half-size batches competing for the same
 * cores, and gained nothing (docs/postgres-batches.md); it pays where the server has cores to spare.
 */
export const PIPELINE = 1;
/** Once the batch has held the chain tip this long, the commands left wait for the next batch. */
export const MAX_TIP_HOLD_MS = 100;

/** A command waiting for its group commit. */
interface Queued {
  work: (tx: PgWriteTx) => Promise<unknown>;
  /** The same command as a flow of steps, which a set-based batch runs in lockstep with the others. */
  flow: LockstepWork | null;
  now: number;
  resolve: (value: unknown) => void;
  reject: (e: unknown) => void;
  /** Times it was chosen as a deadlock victim so far. */
  deadlocks: number;
}

/** What a group commit needs from its store. */
export interface GroupCommitDeps {
  /** A client that survives its connection dying (see Reachability.connect). */
  connect(): Promise<pg.PoolClient>;
  /** What a work's caller is told for a failure. */
  failure(e: unknown): unknown;
  /** Resolves once this replica's listeners have seen the events up to `position`. */
  caughtUpTo(position: number): Promise<void>;
  /** Told the last position of every batch that appended (to wake the other replicas). */
  committed(lastPosition: number): void;
  /** How long a batch may hold the chain tip before the works left wait for the next one. */
  maxTipHoldMs: number;
  /** Whether the commands given as flows run set-based (see lockstep.ts); otherwise each runs in its savepoint. */
  setBased: boolean;
  /** Told why a set-based batch ran again one work per savepoint. */
  onFallback?: (reason: unknown) => void;
  /**
   * Given the events a set-based batch committed (in position order), right after its COMMIT: this
   * replica's listeners may take them without reading them back (see ChangePump.offer).
   */
  ownEvents?: (events: readonly LedgerEvent[]) => void;
  /**
   * Whether set-based batches link their events without locking the chain tip first (and may overlap:
   * `pipeline`); otherwise each batch locks the tip before its first append and runs alone (default false).
   */
  optimistic?: boolean;
  /** Batches in flight at once with the optimistic tip (default PIPELINE). */
  pipeline?: number;
}

/** After a batch found the tip moved (another replica appends too), the batches that lock the tip first. */
const CONTENDED_BATCHES = 8;

/**
 * Where group commits spend their time, summed over batches (for the benchmarks): the wall time of a
 * batch from its connection to its COMMIT's answer, split into waits on statements (round trips,
 * the server's execution, lock waits and the WAL flush) and the rest (this process: deciding,
 * linking, hashing, building statements, and waiting for a core).
 */
export interface BatchStats {
  /** Batches that reached COMMIT, and the works they answered. */
  batches: number;
  works: number;
  /** The largest batch answered. */
  largest: number;
  /** Connection to the COMMIT's answer. */
  wallMs: number;
  /** Waiting on statements, all kinds. */
  statementMs: number;
  /** Of which: the lock-and-read statements (with the transaction's BEGIN). */
  lockReadMs: number;
  /** Of which: locking the chain tip (a wait for another transaction's tip included). */
  tipLockMs: number;
  /** Of which: the statement that carried the COMMIT (the batch's write, the WAL flush). */
  commitMs: number;
  /** From the chain tip's lock (or the write that took it) to the COMMIT's answer: the time other batches queue behind this one. */
  tipHoldMs: number;
}

const noStats = (): BatchStats => ({ batches: 0, works: 0, largest: 0, wallMs: 0, statementMs: 0, lockReadMs: 0, tipLockMs: 0, commitMs: 0, tipHoldMs: 0 });

/** What a statement on a batch's connection is, for BatchStats. */
function statementKind(args: unknown[]): "lockRead" | "tipLock" | "commit" | "other" {
  const q = args[0];
  const text = typeof q === "string" ? q : ((q as { text?: string } | undefined)?.text ?? "");
  const name = typeof q === "object" && q !== null ? (q as { name?: string }).name : undefined;
  if (name === "ledger_lock_tip") return "tipLock";
  if (text === "COMMIT" || text.endsWith("; COMMIT")) return "commit";
  if (text.includes("WITH ids AS")) return "lockRead";
  return "other";
}

export class GroupCommit {
  /** Commands waiting for the next group commit, in arrival order (commands put back go first). */
  private queue: Queued[] = [];
  /** The loop that runs batches while the queue is not empty; null when idle. */
  private runner: Promise<void> | null = null;
  /** Group commits that reached COMMIT so far (each one transaction, one WAL flush). */
  commitCount = 0;
  /** Statements sent on batches' connections so far (each one round trip to the server). */
  roundTrips = 0;
  /** Works answered from a committed batch so far. */
  worksCommitted = 0;
  /** Batches that began set-based and ran again one work per savepoint. */
  setBasedFallbacks = 0;
  /** Set-based batches whose chain tip moved between their read and their write, run again with the tip locked. */
  tipMoves = 0;
  /** Where the batches spent their time (see BatchStats). */
  readonly stats: BatchStats = noStats();
  /** The tip this replica's last set-based write leaves (sent, committed or not yet); null when unknown or that batch failed. */
  private ownTip: TipRow | null = null;
  /**
   * Three advisory lock keys, one per batch in turn (see Optimistic.order): with two batches in
   * flight, a batch's key is never the one its predecessor's write still waits for.
   */
  private readonly orderKeys = Array.from({ length: 3 }, () => randomBytes(8).readBigInt64BE().toString());
  private batchNumber = 0;
  /** Batches numbered below this lock the tip first (another replica appended lately). */
  private lockTipUntil = 0;

  constructor(private readonly deps: GroupCommitDeps) {}

  /** Queues a work for the next batch; see PostgresStore.transact. */
  transact<T>(work: (tx: PgWriteTx) => Promise<T>, now: number, flow: LockstepWork | null = null): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ work, flow, now, resolve: resolve as (v: unknown) => void, reject, deadlocks: 0 });
      this.runner ??= this.runBatches();
    });
  }

  /** Resolves once the works queued so far have been answered. */
  async drain(): Promise<void> {
    await this.runner;
  }

  /** Runs batches until the queue is empty; never rejects (every failure goes to the works' callers). */
  private async runBatches(): Promise<void> {
    const running = new Set<Promise<void>>();
    let pause = false;
    while (this.queue.length > 0 || running.size > 0) {
      if (this.queue.length > 0 && running.size < (this.deps.optimistic !== true ? 1 : (this.deps.pipeline ?? PIPELINE)) && !pause) {
        let writing!: () => void;
        const written = new Promise<void>((resolve) => (writing = resolve));
        const run: Promise<void> = this.runBatch(this.queue.splice(0, MAX_BATCH), writing).then((deadlocked) => {
          running.delete(run);
          if (deadlocked) pause = true;
          writing();
        });
        running.add(run);
        // The next batch starts once this one has sent its last write (or ended).
        await written;
      } else if (running.size > 0) await Promise.race(running);
      else {
        await deadlockPause();
        pause = false;
      }
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
  private async runBatch(batch: Queued[], writing: () => void): Promise<boolean> {
    const started = performance.now();
    let client: pg.PoolClient;
    try {
      client = await this.deps.connect();
    } catch (e) {
      for (const q of batch) q.reject(this.deps.failure(e));
      return false;
    }
    // Every statement on the batch's connection is one round trip: counted and timed, for the benchmarks.
    const query = client.query;
    const timing = noStats();
    client.query = ((...args: Parameters<typeof query>) => {
      this.roundTrips++;
      const kind = statementKind(args);
      const sent = performance.now();
      const result = (query as (...a: unknown[]) => unknown).apply(client, args);
      const took = () => {
        const ms = performance.now() - sent;
        timing.statementMs += ms;
        if (kind !== "other") timing[`${kind}Ms`] += ms;
      };
      if (result instanceof Promise) result.then(took, took);
      return result;
    }) as typeof query;
    return this.runBatchOn(client, batch, timing, started, writing, () => (client.query = query));
  }

  /** Adds one committed batch's timings to the totals. */
  private account(timing: BatchStats, started: number, held: BatchTip, works: number): void {
    const end = performance.now();
    const s = this.stats;
    s.batches++;
    s.works += works;
    s.largest = Math.max(s.largest, works);
    s.wallMs += end - started;
    s.statementMs += timing.statementMs;
    s.lockReadMs += timing.lockReadMs;
    s.tipLockMs += timing.tipLockMs;
    s.commitMs += timing.commitMs;
    if (held.since > 0) s.tipHoldMs += end - held.since;
  }

  private async runBatchOn(client: pg.PoolClient, batch: Queued[], timing: BatchStats, started: number, writing: () => void, uncount: () => void): Promise<boolean> {
    /** The tip this batch's last write leaves, once announced: the next batch links after it. */
    let announced: TipRow | null = null;
    const n = this.batchNumber++;
    const overlap = (this.deps.pipeline ?? PIPELINE) > 1;
    const optimistic: Optimistic | null = this.deps.optimistic !== true || n < this.lockTipUntil ? null : {
      order: overlap ? { mine: this.orderKeys[n % 3]!, previous: this.orderKeys[(n + 2) % 3]! } : null,
      predicted: () => this.ownTip,
      announce: (tip: TipRow) => {
        announced = tip;
        this.ownTip = tip;
        writing();
      },
    };
    /** This batch failed: a batch linked after what it announced will find the tip moved. */
    const forget = () => {
      if (announced !== null && this.ownTip === announced) this.ownTip = null;
      announced = null;
    };
    let deadlocked = false;
    let held: BatchTip = { tip: null, since: 0 };
    /** The events the set-based part committed, in position order. */
    let ownEvents: LedgerEvent[] = [];
    let committed: { q: Queued; value: unknown; lastPosition: number }[] = [];
    let refused: { q: Queued; error: unknown }[] = [];
    let later: Queued[] = [];
    let broken = false;
    let begun = false;
    let done = false;
    const flows = this.deps.setBased ? batch.filter((q) => q.flow !== null) : [];
    let works = flows.length > 0 ? batch.filter((q) => q.flow === null) : batch;
    try {
      if (flows.length > 0) {
        try {
          const lockstep = flows.map((q) => ({ ...q.flow!, now: q.now }));
          let r: Awaited<ReturnType<typeof runLockstep>>;
          try {
            // Linked after the tip as read, the tip locked only by the write (see runLockstep).
            r = await runLockstep(client, held, lockstep, works.length === 0, optimistic);
          } catch (e) {
            forget();
            if (!(e instanceof TipMoved)) throw e;
            this.lockTipUntil = this.batchNumber + CONTENDED_BATCHES;
            // Another replica appended in between: again, with the tip locked before the first append.
            await client.query("ROLLBACK");
            this.tipMoves++;
            held = { tip: null, since: 0 };
            r = await runLockstep(client, held, lockstep, works.length === 0, null);
          }
          begun = true;
          done = r.committed;
          ownEvents = r.events;
          for (const [i, res] of r.results.entries()) {
            const q = flows[i]!;
            if (res.kind === "done") committed.push({ q, value: res.value, lastPosition: res.lastPosition });
            else if (res.kind === "later") later.push(q);
            else refused.push({ q, error: res.error });
          }
        } catch (e) {
          forget();
          if (isConnectionLoss(e)) throw e;
          // Not set-based after all (a statement failed, a deadlock, a step it does not batch): the
          // transaction is rolled back and the whole batch runs again, each command in its savepoint.
          await client.query("ROLLBACK");
          this.setBasedFallbacks++;
          this.deps.onFallback?.(e);
          held = { tip: null, since: 0 };
          ownEvents = [];
          committed = [];
          refused = [];
          later = [];
          works = batch;
          begun = false;
          done = false;
        }
      }
      for (const [i, q] of works.entries()) {
        if (held.tip && performance.now() - held.since > this.deps.maxTipHoldMs) {
          later.push(...works.slice(i));
          break;
        }
        await client.query(!begun ? "BEGIN; SAVEPOINT w" : i === 0 ? "SAVEPOINT w" : "RELEASE SAVEPOINT w; SAVEPOINT w");
        begun = true;
        const tipBefore = held.tip;
        let lastPosition = 0;
        try {
          const tx = writeTx(client, q.now, held, (p) => (lastPosition = Math.max(lastPosition, p)));
          committed.push({ q, value: await q.work(tx), lastPosition });
        } catch (e) {
          if (isConnectionLoss(e)) throw e;
          await client.query("ROLLBACK TO SAVEPOINT w");
          held.tip = tipBefore;
          if (e instanceof StreamBusy) later.push(q);
          else if (isDeadlock(e) && q.deadlocks++ < DEADLOCK_RETRIES) {
            later.push(q);
            deadlocked = true;
          } else refused.push({ q, error: e });
        }
      }
      if (!done) await client.query("COMMIT");
      this.commitCount++;
      this.worksCommitted += committed.length;
      this.account(timing, started, held, committed.length);
    } catch (e) {
      forget();
      if (isUnavailable(e)) broken = true;
      else await client.query("ROLLBACK").catch(() => (broken = true));
      uncount();
      client.release(broken ? true : undefined);
      const error = this.deps.failure(e);
      for (const q of batch) q.reject(error);
      return false;
    }
    // The connection goes back to the pool first: the pump may need one to read these events.
    uncount();
    client.release();
    this.queue.unshift(...later);
    for (const { q, error } of refused) q.reject(this.deps.failure(error));
    const last = Math.max(0, ...committed.map((c) => c.lastPosition));
    if (last > 0) this.deps.committed(last);
    if (ownEvents.length > 0) this.deps.ownEvents?.(ownEvents);
    for (const { q, value, lastPosition } of committed) {
      if (lastPosition === 0) q.resolve(value);
      else void this.deps.caughtUpTo(lastPosition).then(() => q.resolve(value));
    }
    return deadlocked;
  }
}
