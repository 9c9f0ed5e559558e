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
 * Passes a subscription's results on while the socket's unsent bytes plus the next message stay within
 * `budget` (or nothing is unsent); past it the source is closed and the subscription ends with SLOW_SUBSCRIBER (the client
 * resumes with its last cursor). graphql-ws sends one message per subscription at a time, so a
 * connection holds at most the budget whatever the number of its subscriptions.
 */
export function withinByteBudget(source: AsyncIterableIterator<ExecutionResult>, socket: BufferedSocket, budget: number): AsyncIterableIterator<ExecutionResult> {
  return {
    async next() {
      const r = await source.next();
      if (r.done) return r;
      const bytes = messageBytes(r.value);
      // A message larger than the budget still goes out on a socket that has sent everything else.
      if (socket.bufferedAmount > 0 && socket.bufferedAmount + bytes > budget) {
        await source.return?.();
        throw new LedgerError(
          "SLOW_SUBSCRIBER",
          `this connection has more than ${budget} bytes its client has not read (MAX_SUBSCRIBER_BYTES), so this subscription was ended; read faster, then subscribe again with after set to the last cursor you received`,
        );
      }
      return r;
    },
    async return() {
      return source.return ? source.return() : { value: undefined, done: true };
    },
    async throw(error: unknown) {
      if (source.throw) return source.throw(error);
      throw error;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
