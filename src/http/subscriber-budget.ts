// A WebSocket connection's byte budget: messages its client has not read yet stay in the server's
// memory, so once they pass the budget the connection's subscriptions end with SLOW_SUBSCRIBER.
import type { ExecutionResult } from "graphql";
import { LedgerError } from "../domain/errors.js";

/** What the budget reads of a socket: the bytes queued on it and not yet written to the network. */
export interface BufferedSocket {
  readonly bufferedAmount: number;
}

/** Each result's JSON size, computed once however many subscribers share it. */
const sizes = new WeakMap<object, number>();

export function messageBytes(result: ExecutionResult): number {
  let n = sizes.get(result);
  if (n === undefined) sizes.set(result, (n = JSON.stringify(result).length));
  return n;
}

/**
 * Bytes of each socket's messages that passed the budget and whose sends may not be in the socket's
 * `bufferedAmount` yet. A message is sent a few microtasks after it passes, so when many subscriptions
 * of one connection are let go in the same turn of the event loop (the shared turns let them go
 * together), each counts the messages passed before it, not only what the socket already holds.
 */
const passed = new WeakMap<BufferedSocket, { bytes: number }>();

/** The socket's unsent bytes, counting the messages passed and not yet handed to it. */
export function pendingBytes(socket: BufferedSocket): number {
  return socket.bufferedAmount + (passed.get(socket)?.bytes ?? 0);
}

/**
 * Passes a subscription's results on while the socket's unsent bytes (those passed and not yet handed
 * to it included) plus the next message stay within `budget` (or nothing is unsent); past it the source
 * is closed and the subscription ends with SLOW_SUBSCRIBER (the client resumes with its last cursor).
 * graphql-ws sends one message per subscription at a time, so a connection holds at most the budget
 * whatever the number of its subscriptions.
 */
export function withinByteBudget(source: AsyncIterableIterator<ExecutionResult>, socket: BufferedSocket, budget: number): AsyncIterableIterator<ExecutionResult> {
  let counted = passed.get(socket);
  if (!counted) passed.set(socket, (counted = { bytes: 0 }));
  const shared = counted;
  /** This subscription's last passed message while it counts in `shared`. */
  let held: { bytes: number } | null = null;
  const release = (h: { bytes: number } | null) => {
    if (h === null || h !== held) return;
    shared.bytes -= h.bytes;
    held = null;
  };
  return {
    async next() {
      // graphql-ws asks for the next message once the previous one's send completed: it is no longer pending.
      release(held);
      const r = await source.next();
      if (r.done) return r;
      const bytes = messageBytes(r.value);
      const pending = pendingBytes(socket);
      // A message larger than the budget still goes out on a socket that has sent everything else.
      if (pending > 0 && pending + bytes > budget) {
        await source.return?.();
        throw new LedgerError(
          "SLOW_SUBSCRIBER",
          `this connection has more than ${budget} bytes its client has not read (MAX_SUBSCRIBER_BYTES), so this subscription was ended; read faster, then subscribe again with after set to the last cursor you received`,
        );
      }
      const h = { bytes };
      held = h;
      shared.bytes += bytes;
      // By the next turn of the event loop the message has been handed to the socket: its bufferedAmount counts it from then on.
      setImmediate(() => release(h));
      return r;
    },
    async return() {
      release(held);
      return source.return ? source.return() : { value: undefined, done: true };
    },
    async throw(error: unknown) {
      release(held);
      if (source.throw) return source.throw(error);
      throw error;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
