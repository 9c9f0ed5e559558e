// What a group commit does when its locks meet another replica's: a stream busy while the batch
// holds the chain tip puts the command back for the next batch; a deadlock victim runs again, a
// few times, after a short pause.

/** How often one command is run again after its statement was chosen as a deadlock victim. */
export const DEADLOCK_RETRIES = 3;
/** The pause (this to twice this) before the batch that runs a deadlock victim again. */
export const DEADLOCK_BACKOFF_MS = 20;

/**
 * Thrown by a stream lock that would have to wait while the batch already holds the chain tip: the
 * command rolls back to its savepoint and runs first in the next batch instead.
 */
export class StreamBusy extends Error {
  static readonly code = "STREAM_BUSY";
  readonly code = StreamBusy.code;
  constructor(readonly streamId: string, cause: unknown) {
    super(`stream ${streamId} is locked by another transaction`, { cause });
  }
}

/** lock_not_available: what a NOWAIT lock answers when the row is held. */
export const isLockBusy = (e: unknown): boolean => (e as { code?: unknown }).code === "55P03";

const DEADLOCK_SQLSTATE = new Set(["40P01", "40001"]);
export const isDeadlock = (e: unknown) => e instanceof Error && DEADLOCK_SQLSTATE.has(String((e as { code?: unknown }).code));

/**
 * After a deadlock the other side gets a moment to go on before the victim runs again: retried
 * at once, the victim can take a lock back before the waking winner and make the same cycle.
 */
export const deadlockPause = (): Promise<void> => new Promise((r) => setTimeout(r, DEADLOCK_BACKOFF_MS * (1 + Math.random())));
