// Per-caller limits: whole-log reads running at once, WebSocket connections and operations held.
// The counts are the service's (src/limits/shared-limits.ts): with WORKERS > 1 every worker counts
// against the same ones.
import { LedgerError } from "../domain/errors.js";
import { type SlotKind, type Slots, SlotTable } from "../limits/slots.js";

export interface CallerLimitSettings {
  maxWholeLogPerCaller: number;
  maxConnectionsPerCaller: number;
  maxSubscriptionsPerCaller: number;
  maxExportsPerCaller: number;
}

/**
 * Counts, per token subject, what a caller holds open. One caller (a leaked token, a buggy client)
 * cannot take every slot of work that reads the whole log, nor every socket of the service.
 */
export class CallerLimits {
  constructor(
    private readonly settings: CallerLimitSettings,
    private readonly slots: Slots = new SlotTable(),
  ) {}

  /** Runs `work` in one of the caller's whole-log slots; TOO_MANY_REQUESTS when they are all taken. */
  withWholeLogSlot<T>(caller: string, work: () => T | Promise<T>): Promise<T> {
    const max = this.settings.maxWholeLogPerCaller;
    return this.withSlot("wholeLog", caller, max, `at most ${max} whole-log read${max === 1 ? "" : "s"} (ledgerIntegrity, events by type) may run at once per caller`, work);
  }

  /** Runs `work` in one of the caller's subjectExport slots; TOO_MANY_REQUESTS when they are all taken. */
  withExportSlot<T>(caller: string, work: () => T | Promise<T>): Promise<T> {
    const max = this.settings.maxExportsPerCaller;
    return this.withSlot("export", caller, max, `at most ${max} subjectExport${max === 1 ? "" : "s"} may be built at once per caller`, work);
  }

  /** Takes one of the caller's connections; false (nothing taken) when the caller already holds the maximum. Give it back with closeConnection. */
  openConnection(caller: string): boolean | Promise<boolean> {
    return this.slots.take("connection", caller, this.settings.maxConnectionsPerCaller);
  }

  closeConnection(caller: string): void {
    this.slots.give("connection", caller);
  }

  /**
   * Takes one of the caller's operation slots (operations running at once across its connections);
   * false (nothing taken) when they are all held. Give it back with endOperation.
   */
  startOperation(caller: string): boolean | Promise<boolean> {
    return this.slots.take("operation", caller, this.settings.maxSubscriptionsPerCaller);
  }

  endOperation(caller: string): void {
    this.slots.give("operation", caller);
  }

  private async withSlot<T>(kind: SlotKind, caller: string, max: number, limit: string, work: () => T | Promise<T>): Promise<T> {
    // Counted in this process, the work starts in this same turn; counted by the primary (WORKERS > 1), once it answers.
    const taken = this.slots.take(kind, caller, max);
    if (!(typeof taken === "boolean" ? taken : await taken)) throw new LedgerError("TOO_MANY_REQUESTS", `${limit}; retry when the running one has answered`);
    try {
      return await work();
    } finally {
      // Answered once the slot is back: the caller's next request (on any worker, with WORKERS > 1) is let in.
      await this.slots.give(kind, caller);
    }
  }
}
