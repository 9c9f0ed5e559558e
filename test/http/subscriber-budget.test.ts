// The per-connection byte budget counts what its subscriptions passed and have not handed to the
// socket yet: several subscriptions let go in the same turn see each other's messages.
import type { ExecutionResult } from "graphql";
import { describe, expect, it } from "vitest";
import { LedgerError } from "../../src/domain/errors.js";
import { messageBytes, pendingBytes, withinByteBudget } from "../../src/http/subscriber-budget.js";

/** A subscription whose messages are each `n` characters of data, as many as asked. */
function source(n: number): AsyncIterableIterator<ExecutionResult> & { closed: boolean } {
  const it = {
    closed: false,
    async next(): Promise<IteratorResult<ExecutionResult>> {
      return it.closed ? { value: undefined, done: true } : { value: { data: { x: "x".repeat(n) } }, done: false };
    },
    async return(): Promise<IteratorResult<ExecutionResult>> {
      it.closed = true;
      return { value: undefined, done: true };
    },
    [Symbol.asyncIterator]() {
      return it;
    },
  };
  return it;
}

const nextTurnOfLoop = () => new Promise<void>((resolve) => setImmediate(resolve));
const code = (e: unknown) => (e instanceof LedgerError ? e.code : String(e));

describe("withinByteBudget", () => {
  const MESSAGE = messageBytes({ data: { x: "x".repeat(1_000) } });

  it("ends the subscriptions whose messages, passed in the same turn, would hold more than the budget unsent", async () => {
    // Nothing is in the socket's buffer yet: the messages passed are counted all the same.
    const socket = { bufferedAmount: 0 };
    const sources = Array.from({ length: 4 }, () => source(1_000));
    const subs = sources.map((s) => withinByteBudget(s, socket, 2 * MESSAGE + 1));
    const results = await Promise.allSettled(subs.map((s) => s.next()));
    expect(results.map((r) => (r.status === "fulfilled" ? "sent" : code(r.reason)))).toEqual(["sent", "sent", "SLOW_SUBSCRIBER", "SLOW_SUBSCRIBER"]);
    expect(sources.map((s) => s.closed)).toEqual([false, false, true, true]);
    expect(pendingBytes(socket)).toBe(2 * MESSAGE);
  });

  it("stops counting a passed message once it is in the socket's buffer (the next turn) or its send completed (the next message asked)", async () => {
    const socket = { bufferedAmount: 0 };
    const a = withinByteBudget(source(1_000), socket, 2 * MESSAGE + 1);
    const b = withinByteBudget(source(1_000), socket, 2 * MESSAGE + 1);
    await Promise.all([a.next(), b.next()]);
    expect(pendingBytes(socket)).toBe(2 * MESSAGE);
    // a's send completed: graphql-ws asks for its next message, which counts instead of the first.
    await a.next();
    expect(pendingBytes(socket)).toBe(2 * MESSAGE);
    await nextTurnOfLoop();
    expect(pendingBytes(socket)).toBe(0);
    // The socket itself now holds a message its client has not read: it counts from there.
    socket.bufferedAmount = MESSAGE;
    await a.next();
    await expect(b.next()).rejects.toSatisfy((e) => code(e) === "SLOW_SUBSCRIBER");
  });

  it("lets a message larger than the budget go on a socket that has nothing unsent", async () => {
    const socket = { bufferedAmount: 0 };
    const big = withinByteBudget(source(10_000), socket, MESSAGE);
    expect((await big.next()).done).toBe(false);
    await nextTurnOfLoop();
    expect((await big.next()).done).toBe(false);
  });

  it("releases what an ended subscription passed", async () => {
    const socket = { bufferedAmount: 0 };
    const a = withinByteBudget(source(1_000), socket, 10 * MESSAGE);
    await a.next();
    expect(pendingBytes(socket)).toBe(MESSAGE);
    await a.return!();
    expect(pendingBytes(socket)).toBe(0);
  });
});
