// The messages between the primary and its worker processes (docs/workers.md). They travel over the
// process's IPC channel with structured-clone serialisation ("advanced"), so events, bytes and
// errors cross as they cross the writer thread's boundary.
import type { LedgerEvent } from "../domain/events.js";
import type { Config } from "../config.js";
import type { WriterReply, WriterRequest } from "../open-storage.js";
import type { LimitAnswer, LimitAsk } from "./limits-host.js";

export type MetricsJson = unknown[];

/** Primary to worker; several made in one turn of the primary's loop travel as one batch, in order. */
export type ToWorker =
  /** `clockAt`: a test's clock (startApp's `clock`), which the worker follows instead of the real time. */
  | { t: "init"; config: Config; index: number; writable: boolean; clockAt?: number }
  /** A test's clock moved (its `seq`-th move): the worker reads `at` as now from then on, and says so. */
  | { t: "clock"; at: number; seq: number }
  /** A connection the primary accepted; the socket comes as the message's handle. */
  | { t: "connection"; id: number }
  /** A commit's events, sent to every worker before any answer that depends on it. */
  | { t: "commit"; events: readonly LedgerEvent[] }
  | { t: "reply"; reply: WriterReply }
  | { t: "relayed"; id: number; ok: boolean; message?: string }
  | { t: "metricsOf"; id: number }
  | { t: "metricsText"; id: number; text: string }
  /** The answer to the worker's `limit` message of the same id. */
  | { t: "limited"; id: number; answer: LimitAnswer }
  | { t: "close" };

export type FromWorker =
  | { t: "ready" }
  /** The worker follows the clock's `seq`-th move. */
  | { t: "clockAt"; seq: number }
  /** The worker holds connection `id` now: the primary closes its copy. */
  | { t: "accepted"; id: number }
  | { t: "failed"; message: string }
  | { t: "write"; requests: readonly WriterRequest[] }
  | { t: "webhooks"; id: number; op: "refresh" }
  | { t: "webhooks"; id: number; op: "forget"; webhookId: string }
  | { t: "metricsOf"; id: number; json: MetricsJson }
  | { t: "metrics"; id: number }
  /** A question to the service's per-caller and per-subject counts, which the primary holds. */
  | { t: "limit"; id: number; ask: LimitAsk };

export interface Batch<T> {
  t: "batch";
  messages: readonly T[];
}

export const isBatch = <T>(m: unknown): m is Batch<T> => typeof m === "object" && m !== null && (m as { t?: unknown }).t === "batch";

/**
 * Messages queued in one turn of the event loop and sent together at its end: one serialisation
 * and one wake-up of the other side instead of one per message, and their order kept.
 */
export class Outbox<T> {
  private queued: T[] = [];
  constructor(private readonly send: (batch: Batch<T>) => void) {}

  push(message: T): void {
    if (this.queued.push(message) === 1) setImmediate(() => this.flush());
  }

  flush(): void {
    if (this.queued.length === 0) return;
    const messages = this.queued;
    this.queued = [];
    this.send({ t: "batch", messages });
  }
}
