// The client side of a writer in another thread or process: requests numbered and sent, answers
// matched to them, commits handed to the listeners. ThreadWriter (the writer thread) and ProcessWriter
// (a worker process's writes, relayed to the primary's writer) differ only in how a request travels
// and when one must be refused; each delegation of SqliteWrites is written here, once.
import type { LedgerEvent } from "../../domain/events.js";
import type { CommandOutcome, CommandRequest } from "../storage-port.js";
import type { StoredCheckpoint } from "../../log/transparency-store.js";
import type { SqliteWrites } from "./sqlite-writer.js";
import { type WriterReply, type WriterRequest, fromWire } from "./writer-protocol.js";

export type WriterOp = WriterRequest extends infer R ? (R extends { op: infer O } ? O : never) : never;

interface Waiting {
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

export abstract class WriterClient implements SqliteWrites {
  private nextId = 1;
  protected readonly waiting = new Map<number, Waiting>();
  private readonly listeners = new Set<(events: readonly LedgerEvent[]) => void>();

  /** `writable`: what the writer last said of its connection. */
  constructor(protected writable: boolean) {}

  /** Why `op` cannot be sent now (the request is refused with it), or null. */
  protected abstract refusal(op: WriterOp): Error | null;
  /** Sends one request, in order; its answer comes to `answered`. */
  protected abstract post(request: WriterRequest): void;

  abstract saveCheckpoint(checkpoint: StoredCheckpoint): Promise<StoredCheckpoint>;
  abstract isWritable(): boolean;
  abstract close(): Promise<void>;

  protected call<T>(op: WriterOp, extra: object = {}): Promise<T> {
    const refused = this.refusal(op);
    if (refused) return Promise.reject(refused);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.post({ id, op, ...extra } as WriterRequest);
    });
  }

  /** A commit's events, as the writer reported them. */
  protected committed(events: readonly LedgerEvent[]): void {
    for (const l of this.listeners) l(events);
  }

  /** The answer to one of this client's requests. */
  protected answered(m: Extract<WriterReply, { kind: "result" }>): void {
    this.writable = m.writable;
    const w = this.waiting.get(m.id);
    if (!w) return;
    this.waiting.delete(m.id);
    if (m.ok) w.resolve(m.value);
    else w.reject(fromWire(m.error));
  }

  /** Refuses request `id` with `e` (it could not be sent). */
  protected refuse(id: number, e: unknown): void {
    const w = this.waiting.get(id);
    this.waiting.delete(id);
    w?.reject(e);
  }

  /** Refuses every request not answered yet with `e` (the writer went away). */
  protected refuseAll(e: Error): void {
    const lost = [...this.waiting.values()];
    this.waiting.clear();
    for (const w of lost) w.reject(e);
  }

  execute(request: CommandRequest): Promise<CommandOutcome> {
    return this.call("execute", { request });
  }

  catchUpTree(chunk: number): Promise<number> {
    return this.call("catchUpTree", { chunk });
  }

  wrapEvidenceKeys(): Promise<number> {
    return this.call("wrapEvidenceKeys");
  }

  rebuild(): Promise<number> {
    return this.call("rebuild");
  }

  commits(): Promise<number> {
    return this.call("commits");
  }

  onCommit(listener: (events: readonly LedgerEvent[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
