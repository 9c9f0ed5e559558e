// The delivery thread: POSTs the messages the dispatcher hands it (each already signed, and to an
// address already checked), with the same sender, limits and time-out as on the main thread. Both
// ways, what is ready in one turn of a thread's event loop crosses as one batch (one postMessage and
// one wake-up of the other thread, rather than one per message).
import { parentPort, workerData } from "node:worker_threads";
import type { CheckedAddress } from "./address-guard.js";
import { Batch } from "./thread-batch.js";
import { Sender } from "./sender.js";

export interface DeliveryWorkerData {
  timeoutMs: number;
  concurrencyPerReceiver: number;
}

export type ToDeliveryThread = { n: number; url: string; to: CheckedAddress; headers: Record<string, string>; body: string } | { abort: number };
export interface FromDeliveryThread {
  n: number;
  status: number | null;
  error: string | null;
}

const port = parentPort!;
const sender = new Sender(workerData as DeliveryWorkerData);
const inFlight = new Map<number, AbortController>();
const answers = new Batch<FromDeliveryThread>((b) => port.postMessage(b));

function handle(m: ToDeliveryThread): void {
  if ("abort" in m) return void inFlight.get(m.abort)?.abort();
  const stop = new AbortController();
  inFlight.set(m.n, stop);
  void sender.post(new URL(m.url), m.to, m.headers, m.body, stop.signal).then((r) => {
    inFlight.delete(m.n);
    answers.add({ n: m.n, status: r.status, error: r.error });
  });
}

port.on("message", (batch: ToDeliveryThread[]) => batch.forEach(handle));
