// Deliveries' HTTP exchanges on a thread of their own, so that connecting, writing requests and
// parsing answers for many receivers is not done by the event loop that serves the API. The main
// thread keeps the order, the signatures, the address checks and the progress; the thread only
// POSTs, and answers each request's status. Requests and answers cross in batches, one per turn of
// the sending thread's event loop (thread-batch.ts).
import { Worker } from "node:worker_threads";
import type { CheckedAddress } from "./address-guard.js";
import type { DeliveryWorkerData, FromDeliveryThread, ToDeliveryThread } from "./delivery-worker.js";
import type { SendResult } from "./sender.js";
import { Batch } from "./thread-batch.js";

/** What posts a message: the Sender on this thread, or the delivery thread. */
export interface MessagePoster {
  post(url: URL, to: CheckedAddress, headers: Record<string, string>, body: string, signal: AbortSignal): Promise<SendResult>;
  close(): void | Promise<void>;
}

/** Runs from compiled JavaScript as is; from TypeScript sources (the test suite) through the type-stripping hooks. */
function startThread(data: DeliveryWorkerData): Worker {
  if (!import.meta.url.endsWith(".ts")) return new Worker(new URL("./delivery-worker.js", import.meta.url), { workerData: data });
  const hooks = new URL("../../scripts/ts-source-hooks.mjs", import.meta.url).href;
  const entry = new URL("./delivery-worker.ts", import.meta.url).href;
  const boot = `import("node:module").then((m) => { m.register(${JSON.stringify(hooks)}); return import(${JSON.stringify(entry)}); })`;
  return new Worker(boot, { eval: true, workerData: data });
}

export class ThreadSender implements MessagePoster {
  private worker: Worker | null = null;
  private readonly pending = new Map<number, (r: SendResult) => void>();
  private next = 0;
  private closed = false;
  /** Requests and aborts for the thread, sent once this turn of the event loop ends. */
  private readonly outbox = new Batch<ToDeliveryThread>((b) => {
    if (!this.closed) this.thread().postMessage(b);
  });

  constructor(private readonly opts: DeliveryWorkerData) {}

  /** The thread, started on first use and again after it stopped (its requests in flight answer as failed, and are retried). */
  private thread(): Worker {
    if (this.worker) return this.worker;
    const worker = startThread({ timeoutMs: this.opts.timeoutMs, concurrencyPerReceiver: this.opts.concurrencyPerReceiver });
    this.worker = worker;
    // Only while requests are in flight does the thread keep the process alive.
    worker.unref();
    worker.on("message", (answers: FromDeliveryThread[]) => {
      for (const m of answers) {
        const done = this.pending.get(m.n);
        this.pending.delete(m.n);
        done?.({ status: m.status, error: m.error });
      }
    });
    let why = "the delivery thread stopped";
    worker.on("error", (e) => (why = `the delivery thread failed: ${e.message}`));
    worker.on("exit", () => {
      if (this.worker === worker) this.worker = null;
      for (const done of this.pending.values()) done({ status: null, error: why });
      this.pending.clear();
      // Requests not yet handed over were just answered as failed: they are not sent.
      this.outbox.clear();
    });
    return worker;
  }

  post(url: URL, to: CheckedAddress, headers: Record<string, string>, body: string, signal: AbortSignal): Promise<SendResult> {
    if (this.closed) return Promise.resolve({ status: null, error: "stopped" });
    this.thread();
    const n = this.next++;
    return new Promise<SendResult>((resolve) => {
      const onAbort = () => this.outbox.add({ abort: n });
      signal.addEventListener("abort", onAbort, { once: true });
      this.pending.set(n, (r) => {
        signal.removeEventListener("abort", onAbort);
        resolve(r);
      });
      this.outbox.add({ n, url: url.href, to, headers, body });
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.worker?.terminate();
  }
}
