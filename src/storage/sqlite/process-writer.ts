// A worker process's SQLite writes (WORKERS > 1, src/workers/): every command goes to the primary's writer over the IPC channel
// (the writer thread's own requests and answers), and every commit the primary's writer makes comes
// back, before any answer that depends on it, so this process's change feed sees each one in order.
import type { LedgerEvent } from "../../domain/events.js";
import type { StoredCheckpoint } from "../../log/transparency-store.js";
import type { CommandOutcome, CommandRequest } from "../storage-port.js";
import { StoreUnavailableError } from "../store-unavailable.js";
import type { SqliteWrites } from "./sqlite-writer.js";
import { type WriterReply, type WriterRequest, fromWire } from "./writer-protocol.js";

/** How often the primary's writer is asked, when readiness is asked, whether it can write. */
const PROBE_INTERVAL_MS = 100;

type Op = WriterRequest extends infer R ? (R extends { op: infer O } ? O : never) : never;

export class ProcessWriter implements SqliteWrites {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  private readonly listeners = new Set<(events: readonly LedgerEvent[]) => void>();
  private closed = false;
  private lastProbe = 0;

  /** `send` posts requests to the primary (in order); `writable` is what the primary's writer last said. */
  constructor(
    private readonly send: (request: WriterRequest) => void,
    private writable: boolean,
  ) {}

  /** A commit's events, as the primary's writer reported them. */
  committed(events: readonly LedgerEvent[]): void {
    for (const l of this.listeners) l(events);
  }

  /** The answer to one of this process's requests. */
  answered(m: WriterReply): void {
    if (m.kind !== "result") return;
    this.writable = m.writable;
    const w = this.waiting.get(m.id);
    if (!w) return;
    this.waiting.delete(m.id);
    if (m.ok) w.resolve(m.value);
    else w.reject(fromWire(m.error));
  }

  private call<T>(op: Op, extra: object = {}): Promise<T> {
    if (this.closed) return Promise.reject(new StoreUnavailableError(new Error("store closed")));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.send({ id, op, ...extra } as WriterRequest);
    });
  }

  execute(request: CommandRequest): Promise<CommandOutcome> {
    return this.call("execute", { request });
  }

  catchUpTree(chunk: number): Promise<number> {
    return this.call("catchUpTree", { chunk });
  }

  async saveCheckpoint(checkpoint: StoredCheckpoint): Promise<StoredCheckpoint> {
    const stored = await this.call<StoredCheckpoint>("saveCheckpoint", { checkpoint });
    // Callers compare by identity: the primary answers with a copy of ours when it stored ours.
    return stored.treeSize === checkpoint.treeSize && stored.note === checkpoint.note ? checkpoint : { ...stored, root: Buffer.from(stored.root) };
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

  isWritable(): boolean {
    if (this.closed) return false;
    // The writer is in another process, which may have closed or lost it meanwhile: asked now and then whatever it said last.
    if (Date.now() - this.lastProbe >= PROBE_INTERVAL_MS) {
      this.lastProbe = Date.now();
      this.call("probe").catch(() => undefined);
    }
    return this.writable;
  }

  /** The writer is the primary's: this process only stops asking (its requests are all answered by then). */
  async close(): Promise<void> {
    this.closed = true;
  }

  /** The primary went away: nothing outstanding can be answered any more. */
  lost(): void {
    this.closed = true;
    const lost = [...this.waiting.values()];
    this.waiting.clear();
    for (const w of lost) w.reject(new StoreUnavailableError(new Error("the primary process stopped")));
  }
}
