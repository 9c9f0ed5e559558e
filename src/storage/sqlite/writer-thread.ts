// The SQLite adapter's writes on a worker thread: the main thread only posts commands and receives
// answers, so no group commit or fsync stops its event loop. A crashed thread is started again.
import { Worker } from "node:worker_threads";
import type { StoredCheckpoint } from "../../log/transparency-store.js";
import { StoreUnavailableError } from "../store-unavailable.js";
import { WriterClient, type WriterOp } from "./writer-client.js";
import { type WriterData, type WriterReply, type WriterRequest, fromWire } from "./writer-protocol.js";

/** Delays before starting a crashed writer again: doubling from the first to the last, then staying there. */
const RESTART_FIRST_MS = 50;
const RESTART_MAX_MS = 5_000;
/** How often a writer whose last commit failed is asked whether the cause has passed (readiness). */
const PROBE_INTERVAL_MS = 100;

/**
 * Runs from compiled JavaScript as is; from TypeScript sources (the test suite) the thread first
 * registers a loader that strips types (scripts/ts-source-hooks.mjs), since Node 20 cannot.
 */
function startThread(path: string, evidenceKek: Uint8Array | null, commands: string | null): Worker {
  // A copy of its own: a Buffer may be a view into a shared pool, and the whole pool would be cloned.
  const data: WriterData = { path, evidenceKek: evidenceKek && new Uint8Array(evidenceKek), commands };
  if (!import.meta.url.endsWith(".ts")) return new Worker(new URL("./writer-worker.js", import.meta.url), { workerData: data });
  const hooks = new URL("../../../scripts/ts-source-hooks.mjs", import.meta.url).href;
  const entry = new URL("./writer-worker.ts", import.meta.url).href;
  const boot = `import("node:module").then((m) => { m.register(${JSON.stringify(hooks)}); return import(${JSON.stringify(entry)}); })`;
  return new Worker(boot, { eval: true, workerData: data });
}

/** The writer thread's client; every method answers once the thread's commit is durable. */
export class ThreadWriter extends WriterClient {
  private worker: Worker | null = null;
  /** Requests made in this turn of the event loop, posted together at its end. */
  private outbox: WriterRequest[] = [];
  /** The thread is up and answered "ready". */
  private alive = false;
  private closing = false;
  private restartDelay = RESTART_FIRST_MS;
  private restartTimer: NodeJS.Timeout | null = null;
  private lastProbe = 0;
  /** Thread crashes seen (for readiness reports and tests). */
  crashes = 0;

  private constructor(
    private readonly path: string,
    private readonly evidenceKek: Uint8Array | null,
    private readonly commands: string | null,
  ) {
    // What the thread last said of its connection (false after a failed commit until a probe says otherwise).
    super(false);
  }

  /**
   * Starts the writer thread on `path` (subject keys wrapped under `evidenceKek`, commands run with the
   * `commandProgram` of the module at URL `commands`) and resolves once its connection is open.
   */
  static async start(path: string, evidenceKek: Uint8Array | null, commands: string | null): Promise<ThreadWriter> {
    const w = new ThreadWriter(path, evidenceKek, commands);
    await w.spawn();
    return w;
  }

  private spawn(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const worker = startThread(this.path, this.evidenceKek, this.commands);
      this.worker = worker;
      let started = false;
      const receive = (m: WriterReply): void => {
        switch (m.kind) {
          case "ready":
            started = true;
            this.alive = true;
            this.writable = m.writable;
            this.restartDelay = RESTART_FIRST_MS;
            return resolve();
          case "failed":
            return reject(fromWire(m.error));
          case "commit":
            return this.committed(m.events);
          case "result":
            return this.answered(m);
        }
      };
      worker.on("message", (replies: readonly WriterReply[]) => {
        for (const m of replies) receive(m);
      });
      worker.on("error", (e) => {
        if (!started) reject(e);
      });
      worker.on("exit", () => {
        if (this.worker !== worker) return;
        this.worker = null;
        this.alive = false;
        // Whatever had not been answered may or may not have committed: none of it was acknowledged.
        this.refuseAll(new StoreUnavailableError(new Error("the writer thread stopped")));
        if (!started) reject(new StoreUnavailableError(new Error("the writer thread stopped while opening the database")));
        else if (!this.closing) {
          this.crashes++;
          this.scheduleRestart();
        }
      });
    });
  }

  private scheduleRestart(): void {
    if (this.closing || this.restartTimer) return;
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      if (this.closing) return;
      this.spawn().catch(() => {
        this.restartDelay = Math.min(this.restartDelay * 2, RESTART_MAX_MS);
        this.scheduleRestart();
      });
    }, this.restartDelay);
    this.restartTimer.unref();
  }

  protected refusal(op: WriterOp): Error | null {
    if (this.worker && this.alive && !(this.closing && op !== "close")) return null;
    return new StoreUnavailableError(new Error(this.closing ? "store closed" : "the writer thread is restarting"));
  }

  protected post(request: WriterRequest): void {
    if (this.outbox.push(request) === 1) setImmediate(() => this.sendOutbox());
  }

  /**
   * Posts the requests made during one turn of the event loop as one message (they would share a
   * group commit anyway): one copy and one wake-up of the thread instead of one per request.
   */
  private sendOutbox(): void {
    // A thread that stopped meanwhile has already refused its requests (see "exit"): they are not sent to its successor.
    const requests = this.outbox.filter((r) => this.waiting.has(r.id));
    this.outbox = [];
    const worker = this.worker;
    if (requests.length === 0) return;
    if (!worker) {
      for (const r of requests) this.refuse(r.id, new StoreUnavailableError(new Error("the writer thread is restarting")));
      return;
    }
    try {
      worker.postMessage(requests);
    } catch {
      // A request that cannot be copied fails alone; the others go as before.
      for (const r of requests) {
        try {
          worker.postMessage([r]);
        } catch (e) {
          this.refuse(r.id, e);
        }
      }
    }
  }

  /** `checkpoint` itself when the thread stored it (callers compare by identity), else the larger one stored before it. */
  async saveCheckpoint(checkpoint: StoredCheckpoint): Promise<StoredCheckpoint> {
    const other = await this.call<StoredCheckpoint | null>("saveCheckpoint", { checkpoint });
    return other === null ? checkpoint : { ...other, root: Buffer.from(other.root) };
  }

  isWritable(): boolean {
    if (this.closing || !this.alive) return false;
    // After a failed commit the thread is asked, now and then, whether the cause has passed.
    if (!this.writable && Date.now() - this.lastProbe >= PROBE_INTERVAL_MS) {
      this.lastProbe = Date.now();
      this.call("probe").catch(() => undefined);
    }
    return this.writable;
  }

  /** Stops the thread at once, as a crash would (tests of the failure path). */
  async crash(): Promise<void> {
    await this.worker?.terminate();
  }

  /** Lets the thread commit and answer everything it accepted, then stops it. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = null;
    const worker = this.worker;
    if (!worker || !this.alive) return;
    try {
      await this.call("close");
    } finally {
      await worker.terminate();
    }
  }
}
