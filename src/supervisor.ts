// A small parent process that owns shutdown: it stays responsive whatever blocks the service's main thread.
import { spawn } from "node:child_process";
import { write } from "node:fs";
import { constants } from "node:os";

/** Set in the service process's environment by its supervisor. */
const SUPERVISED = "CONSENT_LEDGER_SUPERVISED";

/** Whether this process is the service its supervisor started (rather than the supervisor). */
export const isSupervised = (): boolean => process.env[SUPERVISED] === "1";

/**
 * Runs `entry` as a child process (same Node flags, arguments, environment and standard streams)
 * and passes SIGTERM and SIGINT on to it. From the first signal the supervisor gives the service
 * `deadlineMs` to drain and exit, then kills it (SIGKILL). The supervisor writes nothing to the log
 * pipe and runs no work of its own, so its timer fires even when the service's main thread is stuck
 * (a synchronous write into a pipe whose reader is alive but not reading, a blocked call): the
 * signal handler inside the service never runs then, and no guard armed there can help. The
 * supervisor exits with the service's exit code (1 when it had to kill it, 128 + n for a signal).
 */
export function supervise(entry: string, deadlineMs: number): void {
  const child = spawn(process.execPath, [...process.execArgv, entry, ...process.argv.slice(2)], {
    stdio: ["inherit", "inherit", "inherit", "ipc"],
    env: { ...process.env, [SUPERVISED]: "1" },
  });
  let deadline: NodeJS.Timeout | null = null;
  let killed = false;
  const forward = (signal: NodeJS.Signals) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill(signal);
    deadline ??= setTimeout(() => {
      killed = true;
      child.kill("SIGKILL");
    }, deadlineMs);
  };
  process.on("SIGTERM", () => forward("SIGTERM"));
  process.on("SIGINT", () => forward("SIGINT"));
  child.on("error", (e) => {
    process.stderr.write(`${JSON.stringify({ level: 60, time: Date.now(), msg: `could not start the service: ${e.message}` })}\n`);
    process.exit(1);
  });
  child.on("exit", (code, signal) => {
    if (deadline) clearTimeout(deadline);
    const status = killed ? 1 : (code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0));
    if (!killed) process.exit(status);
    // Said on stderr without blocking: a write into a stuck pipe runs on libuv's thread pool, and the exit does not wait for it.
    const line = `${JSON.stringify({ level: 50, time: Date.now(), msg: `shutdown took longer than ${deadlineMs / 1000} s; killed` })}\n`;
    write(2, line, () => process.exit(status));
    setTimeout(() => process.exit(status), 1_000).unref();
  });
}
