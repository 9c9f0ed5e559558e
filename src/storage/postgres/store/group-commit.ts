// Group commit per replica: the commands queued while a transaction runs share the next one, each
// in its own savepoint, and one COMMIT (one WAL flush) answers them all.
import type pg from "pg";
import { isConnectionLoss, isUnavailable } from "../connection.js";
import type { BatchTip } from "./chain-tip.js";
import { DEADLOCK_RETRIES, StreamBusy, deadlockPause, isDeadlock } from "./deadlock-retry.js";
import { type PgWriteTx, writeTx } from "./write-tx.js";

/**
 * Commands per group commit. Each runs in a savepoint, a subtransaction with its own xid; past 64 in
 * one transaction PostgreSQL's per-session subtransaction cache overflows and every other session's
 * snapshot checks then go through pg_subtrans.
 */
export const MAX_BATCH = 64;
/** Once the batch has held the chain tip this long, the commands left wait for the next batch. */
export const MAX_TIP_HOLD_MS = 100;

/** A command waiting for its group commit. */
interface Queued {
  work: (tx: PgWriteTx) => Promise<unknown>;
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
}

export class GroupCommit {
  /** Commands waiting for the next group commit, in arrival order (commands put back go first). */
  private queue: Queued[] = [];
  /** The loop that runs batches while the queue is not empty; null when idle. */
  private runner: Promise<void> | null = null;
  /** Group commits that reached COMMIT so far (each one transaction, one WAL flush). */
  commitCount = 0;

  constructor(private readonly deps: GroupCommitDeps) {}

  /** Queues a work for the next batch; see PostgresStore.transact. */
  transact<T>(work: (tx: PgWriteTx) => Promise<T>, now: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ work, now, resolve: resolve as (v: unknown) => void, reject, deadlocks: 0 });
      this.runner ??= this.runBatches();
    });
  }

  /** Resolves once the works queued so far have been answered. */
  async drain(): Promise<void> {
    await this.runner;
  }

  /** Runs batches until the queue is empty; never rejects (every failure goes to the works' callers). */
  private async runBatches(): Promise<void> {
    while (this.queue.length > 0) {
      if (await this.runBatch(this.queue.splice(0, MAX_BATCH))) await deadlockPause();
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
      client = await this.deps.connect();
    } catch (e) {
      for (const q of batch) q.reject(this.deps.failure(e));
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
        if (held.tip && performance.now() - held.since > this.deps.maxTipHoldMs) {
          later.push(...batch.slice(i));
          break;
        }
        await client.query(i === 0 ? "BEGIN; SAVEPOINT w" : "RELEASE SAVEPOINT w; SAVEPOINT w");
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
      const error = this.deps.failure(e);
      for (const q of batch) q.reject(error);
      return false;
    }
    // The connection goes back to the pool first: the pump may need one to read these events.
    client.release();
    this.queue.unshift(...later);
    for (const { q, error } of refused) q.reject(this.deps.failure(error));
    const last = Math.max(0, ...committed.map((c) => c.lastPosition));
    if (last > 0) this.deps.committed(last);
    for (const { q, value, lastPosition } of committed) {
      if (lastPosition === 0) q.resolve(value);
      else void this.deps.caughtUpTo(lastPosition).then(() => q.resolve(value));
    }
    return deadlocked;
  }
}
