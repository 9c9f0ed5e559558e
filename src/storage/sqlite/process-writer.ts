// A worker process's SQLite writes (WORKERS > 1, src/workers/): every command goes to the primary's writer over the IPC channel
// (the writer thread's own requests and answers), and every commit the primary's writer makes comes
// back, before any answer that depends on it, so this process's change feed sees each one in order.
import type { LedgerEvent } from "../../domain/events.js";
import type { StoredCheckpoint } from "../../log/transparency-store.js";
import { StoreUnavailableError } from "../store-unavailable.js";
import { WriterClient } from "./writer-client.js";
import type { WriterReply, WriterRequest } from "./writer-protocol.js";

/** How often the primary's writer is asked, when readiness is asked, whether it can write. */
const PROBE_INTERVAL_MS = 100;

export class ProcessWriter extends WriterClient {
  private closed = false;
  private lastProbe = 0;

  /** `send` posts requests to the primary (in order); `writable` is what the primary's writer last said. */
  constructor(
    private readonly send: (request: WriterRequest) => void,
    writable: boolean,
  ) {
    super(writable);
  }

  protected refusal(): Error | null {
    return this.closed ? new StoreUnavailableError(new Error("store closed")) : null;
  }

  protected post(request: WriterRequest): void {
    this.send(request);
  }

  /** A commit's events, as the primary's writer reported them. */
  override committed(events: readonly LedgerEvent[]): void {
    super.committed(events);
  }

  /** The answer to one of this process's requests (the writer thread's reply, relayed). */
  receive(m: WriterReply): void {
    if (m.kind === "result") this.answered(m);
  }

  async saveCheckpoint(checkpoint: StoredCheckpoint): Promise<StoredCheckpoint> {
    const stored = await this.call<StoredCheckpoint>("saveCheckpoint", { checkpoint });
    // Callers compare by identity: the primary answers with a copy of ours when it stored ours.
    return stored.treeSize === checkpoint.treeSize && stored.note === checkpoint.note ? checkpoint : { ...stored, root: Buffer.from(stored.root) };
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
    this.refuseAll(new StoreUnavailableError(new Error("the primary process stopped")));
  }
}
