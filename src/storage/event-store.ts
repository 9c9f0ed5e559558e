// The event store port: an append-only, hash-chained log of streams; adapters live beside it.
import type { Actor, DomainEvent, EventType, LedgerEvent } from "../domain/events.js";

/** An event ready to append: the domain's fact plus who did it and whose it is. */
export type NewEvent = DomainEvent & { actor: Actor; subjectId: string | null };

export interface IdempotencyOptions {
  key: string;
  /** A digest of the caller's input: the same key with another input is a conflict. */
  requestHash: string;
}

/** Inside a write transaction: reads see everything appended so far in it. */
export interface WriteTx {
  streamVersion(streamId: string): number;
  /** Appends atomically after checking the stream's version; null skips the check. */
  append(streamId: string, expectedVersion: number | null, events: readonly NewEvent[]): LedgerEvent[];
  /** Events an earlier call with this key appended, or undefined; throws IDEMPOTENCY_CONFLICT on other input. */
  replay(streamId: string, idem: IdempotencyOptions): LedgerEvent[] | undefined;
  remember(streamId: string, idem: IdempotencyOptions, events: readonly LedgerEvent[]): void;
  /** Drops a stream's idempotency records: their request digests cover personal input, so erasure removes them. */
  forget(streamId: string): void;
}

export interface ReadFilter {
  types?: readonly EventType[] | readonly string[];
  subjectId?: string;
}

export interface ChainHead {
  position: number;
  hash: string;
}

export interface IntegrityReport {
  ok: boolean;
  eventCount: number;
  head: ChainHead | null;
  firstInvalidPosition: number | null;
}

export interface EventStore {
  /**
   * Runs `work` inside the next group commit and resolves once that commit is durable.
   * A throw from `work` rolls back only its own writes and rejects only its own promise.
   */
  transact<T>(work: (tx: WriteTx) => T): Promise<T>;
  append(streamId: string, expectedVersion: number | null, events: readonly NewEvent[], idem?: IdempotencyOptions): Promise<LedgerEvent[]>;
  readStream(streamId: string): LedgerEvent[];
  readAll(afterPosition: number, limit: number, filter?: ReadFilter): LedgerEvent[];
  head(): ChainHead | null;
  verify(): IntegrityReport;
  /** Called after each durable commit with the events it made visible, in order. */
  onCommit(listener: (events: readonly LedgerEvent[]) => void): () => void;
  isWritable(): boolean;
  close(): Promise<void>;
}
