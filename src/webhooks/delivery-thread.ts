// Deliveries' HTTP exchanges on a thread of their own, so that connecting, writing requests and
// parsing answers for many receivers is not done by the event loop that serves the API. The main
// thread keeps the order, the signatures, the address checks and the progress; the thread only
// POSTs, and answers each request's status.
import { Worker } from "node:worker_threads";
import type { CheckedAddress } from "./address-guard.js";
import type { DeliveryWorkerData, FromDeliveryThread, ToDeliveryThread } from "./delivery-worker.js";
import type { SendResult } from "./sender.js";

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
  private readonly worker: Worker;
  private readonly pending = new Map<number, (r: SendResult) => void>();
  private next = 0;
  private gone: string | null = null;

  constructor(opts: DeliveryWorkerData) {
    this.worker = startThread({ timeoutMs: opts.timeoutMs, concurrencyPerReceiver: opts.concurrencyPerReceiver });
    // Only while requests are in flight does the thread keep the process alive.
    this.worker.unref();
    this.worker.on("message", (m: FromDeliveryThread) => {
      const done = this.pending.get(m.n);
      this.pending.delete(m.n);
      done?.({ status: m.status, error: m.error });
    });
    const end = (why: string) => {
      this.gone ??= why;
      for (const done of this.pending.values()) done({ status: null, error: why });
      this.pending.clear();
    };
    this.worker.on("error", (e) => end(`the delivery thread failed: ${e.message}`));
    this.worker.on("exit", () => end("the delivery thread stopped"));
  }

  post(url: URL, to: CheckedAddress, headers: Record<string, string>, body: string, signal: AbortSignal): Promise<SendResult> {
    if (this.gone !== null) return Promise.resolve({ status: null, error: this.gone });
    const n = this.next++;
    return new Promise<SendResult>((resolve) => {
      const onAbort = () => this.worker.postMessage({ abort: n } satisfies ToDeliveryThread);
      signal.addEventListener("abort", onAbort, { once: true });
      this.pending.set(n, (r) => {
        signal.removeEventListener("abort", onAbort);
        resolve(r);
      });
      this.worker.postMessage({ n, url: url.href, to, headers, body } satisfies ToDeliveryThread);
    });
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }
}
