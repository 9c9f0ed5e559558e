// How many commands one subject's record may take per minute: one end user's token cannot grow its
// record (and so its exports and replays) without bound.
import type { LedgerCommand, SubjectCommand } from "./command.js";
import { LedgerError } from "./errors.js";

const MINUTE_MS = 60_000;
/** Windows kept before the expired ones are first dropped. */
export const PRUNE_AT = 10_000;

/** The write quota of one subject's record: throws TOO_MANY_REQUESTS (nothing counted) when it is used up. */
export interface WriteQuotaPort {
  take(subjectId: string, always: boolean): void | Promise<void>;
}

/** Every command on one subject's record counts against its quota; no other command does. */
const COUNTED: Record<SubjectCommand["kind"], true> = {
  recordConsent: true,
  suspendProcessing: true,
  resumeProcessing: true,
  leaveService: true,
  eraseSubject: true,
  openDataRequest: true,
  verifyDataRequestIdentity: true,
  closeDataRequest: true,
  extendDataRequest: true,
  recordNoticeShown: true,
  recordPersonalDataAccessed: true,
};

/**
 * What `command` takes of the write quota: its subject, and whether it is counted without ever being
 * refused. Erasure is a right that must always be exercisable, however busy the record, and the
 * record of who read a subject's data must not fail the read it records: both count, neither is
 * refused. Null: the command takes none.
 */
export function quotaOf(command: LedgerCommand): { subjectId: string; always: boolean } | null {
  if (!Object.hasOwn(COUNTED, command.kind)) return null;
  const c = command as SubjectCommand;
  return { subjectId: c.subjectId, always: c.kind === "eraseSubject" || c.kind === "recordPersonalDataAccessed" };
}

/** The quota of a worker whose writes go to the primary's SQLite writer: the primary counts each one as it hands it to the writer. */
export const COUNTED_BY_THE_WRITER: WriteQuotaPort = { take: () => undefined };

/**
 * A fixed one-minute window per subject, started by its first command: at most `max` commands in
 * it, then TOO_MANY_REQUESTS until the window ends. Memory holds the subjects written in the last minute.
 */
export class WriteQuota implements WriteQuotaPort {
  private readonly windows = new Map<string, { start: number; count: number }>();
  /**
   * The size at which expired windows are next dropped: twice what the last prune kept (at least
   * PRUNE_AT). When more than PRUNE_AT subjects write within one minute, a prune keeps them all; a
   * fixed threshold would then walk every window on every new subject's command. Doubling makes the
   * walk amortised constant per command, and memory stays within twice the last minute's subjects.
   */
  private pruneAt = PRUNE_AT;

  constructor(
    private readonly max: number,
    private readonly clock: () => number,
  ) {}

  /**
   * Counts one command of the subject; throws TOO_MANY_REQUESTS (nothing counted) when its minute is
   * used up, unless `always` (a command that must never be refused), which is counted regardless.
   */
  take(subjectId: string, always = false): void {
    if (this.max <= 0) return;
    const now = this.clock();
    let w = this.windows.get(subjectId);
    if (!w || now - w.start >= MINUTE_MS || now < w.start) {
      if (this.windows.size >= this.pruneAt) this.prune(now);
      this.windows.set(subjectId, (w = { start: now, count: 0 }));
    }
    if (w.count >= this.max && !always) {
      const retryAfterSeconds = Math.max(1, Math.ceil((w.start + MINUTE_MS - now) / 1000));
      throw new LedgerError(
        "TOO_MANY_REQUESTS",
        `this subject's record took ${this.max} writes in the last minute, the most it may take; retry in ${retryAfterSeconds} s`,
        { retryAfterSeconds },
      );
    }
    w.count++;
  }

  private prune(now: number): void {
    for (const [id, w] of this.windows) if (now - w.start >= MINUTE_MS || now < w.start) this.windows.delete(id);
    this.pruneAt = Math.max(PRUNE_AT, 2 * this.windows.size);
  }

  /** Windows held (the subjects written in the last minute, and expired ones not dropped yet). */
  get size(): number {
    return this.windows.size;
  }
}
