// A deadline for the process that no blocked main thread can hold up: a worker thread kills it.
import { Worker } from "node:worker_threads";

// CommonJS, evaluated in the worker: it sleeps on its own thread, so a main thread stuck in a
// synchronous write (a log pipe whose reader is gone or stalled) cannot keep it from firing.
const GUARD = `
const { workerData } = require("node:worker_threads");
const { writeSync } = require("node:fs");
setTimeout(() => {
  try { writeSync(2, JSON.stringify({ level: 50, time: Date.now(), msg: workerData.message }) + "\\n"); } catch {}
  process.kill(workerData.pid, "SIGKILL");
}, workerData.ms);
`;

/** Kills this process (SIGKILL) after `ms` unless it has exited by then; the worker does not keep it alive. */
export function armExitGuard(ms: number, message: string): void {
  new Worker(GUARD, { eval: true, workerData: { pid: process.pid, ms, message } }).unref();
}
