// Per-caller limits: whole-log reads running at once, WebSocket connections and subscriptions held.
import { LedgerError } from "../domain/errors.js";

export interface CallerLimitSettings {
  maxWholeLogPerCaller: number;
  maxConnectionsPerCaller: number;
  maxSubscriptionsPerCaller: number;
  maxExportsPerCaller: number;
}

/** What a connection reports about itself: its open operations. */
export interface OpenConnection {
  readonly openOperations: number;
}

/**
 * Counts, per token subject, what a caller holds open. One caller (a leaked token, a buggy client)
 * cannot take every slot of work that reads the whole log, nor every socket of the process.
 */
export class CallerLimits {
  private readonly wholeLog = new Map<string, number>();
  private readonly exports = new Map<string, number>();
  private readonly connections = new Map<string, Set<OpenConnection>>();

  constructor(private readonly settings: CallerLimitSettings) {}

  /** Runs `work` in one of the caller's whole-log slots; TOO_MANY_REQUESTS when they are all taken. */
  withWholeLogSlot<T>(caller: string, work: () => T | Promise<T>): Promise<T> {
    const max = this.settings.maxWholeLogPerCaller;
    return withSlot(this.wholeLog, caller, max, `at most ${max} whole-log read${max === 1 ? "" : "s"} (ledgerIntegrity, events by type) may run at once per caller`, work);
  }

  /** Runs `work` in one of the caller's subjectExport slots; TOO_MANY_REQUESTS when they are all taken. */
  withExportSlot<T>(caller: string, work: () => T | Promise<T>): Promise<T> {
    const max = this.settings.maxExportsPerCaller;
    return withSlot(this.exports, caller, max, `at most ${max} subjectExport${max === 1 ? "" : "s"} may be built at once per caller`, work);
  }

  /** Registers a connection; false (and nothing registered) when the caller already holds the maximum. */
  openConnection(caller: string, connection: OpenConnection): boolean {
    let set = this.connections.get(caller);
    if ((set?.size ?? 0) >= this.settings.maxConnectionsPerCaller) return false;
    if (!set) this.connections.set(caller, (set = new Set()));
    set.add(connection);
    return true;
  }

  closeConnection(caller: string, connection: OpenConnection): void {
    const set = this.connections.get(caller);
    set?.delete(connection);
    if (set?.size === 0) this.connections.delete(caller);
  }

  /** Whether the caller's open operations, counting the one being started, are within the limit. */
  subscriptionsWithinLimit(caller: string): boolean {
    let open = 0;
    for (const c of this.connections.get(caller) ?? []) open += c.openOperations;
    return open <= this.settings.maxSubscriptionsPerCaller;
  }

  /** Connections the caller holds (for tests and metrics). */
  connectionsOf(caller: string): number {
    return this.connections.get(caller)?.size ?? 0;
  }
}

async function withSlot<T>(running: Map<string, number>, caller: string, max: number, limit: string, work: () => T | Promise<T>): Promise<T> {
  const now = running.get(caller) ?? 0;
  if (now >= max) throw new LedgerError("TOO_MANY_REQUESTS", `${limit}; retry when the running one has answered`);
  running.set(caller, now + 1);
  try {
    return await work();
  } finally {
    const left = (running.get(caller) ?? 1) - 1;
    if (left <= 0) running.delete(caller);
    else running.set(caller, left);
  }
}
