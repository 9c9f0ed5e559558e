// A client that drops its WebSocket while a message is on its way: graphql-ws's own server (use/ws),
// on a socket whose sends fail as ws fails them, says nothing at error level and settles the operation;
// a send that fails on an open socket for another reason is still reported.
import { EventEmitter } from "node:events";
import { GraphQLInt, GraphQLObjectType, GraphQLSchema } from "graphql";
import { useServer } from "graphql-ws/use/ws";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { WebSocket, WebSocketServer } from "ws";
import { settleSendsToGoneClient } from "../../src/http/ws-send.js";

const schema = new GraphQLSchema({
  query: new GraphQLObjectType({ name: "Query", fields: { n: { type: GraphQLInt, resolve: () => 1 } } }),
  subscription: new GraphQLObjectType({
    name: "Subscription",
    fields: {
      ticks: {
        type: GraphQLInt,
        subscribe: async function* () {
          for (const tick of [1, 2, 3]) yield { ticks: tick };
        },
      },
    },
  }),
});

type Sent = { type: string; id?: string };
/** What the socket does with a send: succeed, or fail with `error` after (optionally) closing. */
type Outcome = { error?: Error; closeFirst?: boolean } | undefined;

/** A ws socket as use/ws drives it, whose send calls back on the next tick as ws does. */
class FakeSocket extends EventEmitter {
  readonly OPEN = 1;
  readonly CLOSED = 3;
  readyState = 1;
  readonly protocol = "graphql-transport-ws";
  readonly sent: Sent[] = [];
  readonly closes: number[] = [];
  constructor(private readonly outcome: (m: Sent) => Outcome) {
    super();
  }
  send(data: string, cb?: (err?: Error) => void): void {
    const message = JSON.parse(data) as Sent;
    this.sent.push(message);
    const o = this.outcome(message);
    if (o?.closeFirst) this.readyState = this.CLOSED;
    process.nextTick(() => cb?.(o?.error));
  }
  close(code: number): void {
    this.closes.push(code);
    this.readyState = this.CLOSED;
  }
  terminate(): void {}
  ping(): void {}
}

const logger = { debug: vi.fn() };

/** Opens `socket` on graphql-ws's server (with this service's send hook) and returns its message handler. */
function open(socket: FakeSocket): (text: string) => Promise<void> {
  const wss = Object.assign(new EventEmitter(), { options: {}, clients: new Set() });
  useServer({ schema }, wss as unknown as WebSocketServer, 0);
  wss.emit("connection", socket, { url: "/graphql", headers: {} });
  settleSendsToGoneClient(socket as unknown as WebSocket, logger);
  const [handler] = socket.listeners("message") as ((event: string) => Promise<void>)[];
  return (text) => handler!(text);
}

/** Initialises the connection and runs one `ticks` subscription to its end, as graphql-ws handles it. */
async function subscribe(socket: FakeSocket): Promise<void> {
  const message = open(socket);
  await message(JSON.stringify({ type: "connection_init" }));
  expect(socket.sent.map((m) => m.type)).toEqual(["connection_ack"]);
  await message(JSON.stringify({ id: "1", type: "subscribe", payload: { query: "subscription { ticks }" } }));
}

const reset = () => Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" });

describe("sends to a WebSocket client that has gone", () => {
  const consoleError = vi.spyOn(console, "error").mockImplementation(() => {});
  afterEach(() => {
    consoleError.mockClear();
    logger.debug.mockClear();
  });

  it("a reset while a subscription's message is written: the operation runs to its end, nothing at error level", async () => {
    // Every write after the acknowledgement meets the reset.
    const socket = new FakeSocket((m) => (m.type === "connection_ack" ? undefined : { error: reset() }));
    await subscribe(socket);
    expect(socket.sent.map((m) => m.type)).toEqual(["connection_ack", "next", "next", "next", "complete"]);
    expect(consoleError).not.toHaveBeenCalled();
    expect(socket.closes).toEqual([]);
    expect(logger.debug).toHaveBeenCalledTimes(4);
  });

  it("a socket closed before its send's callback: the send settles, nothing more is sent, nothing at error level", async () => {
    const socket = new FakeSocket((m) => (m.type === "next" ? { closeFirst: true, error: new Error("WebSocket is not open: readyState 3 (CLOSED)") } : undefined));
    await subscribe(socket);
    expect(socket.sent.map((m) => m.type)).toEqual(["connection_ack", "next"]);
    expect(consoleError).not.toHaveBeenCalled();
    expect(logger.debug).toHaveBeenCalledOnce();
  });

  it("a send that fails on an open socket for another reason is not hidden", async () => {
    const socket = new FakeSocket((m) => (m.type === "connection_ack" ? undefined : { error: new Error("the frame could not be written") }));
    await subscribe(socket);
    // graphql-ws reports it and closes the socket, as without the hook.
    expect(consoleError).toHaveBeenCalledOnce();
    expect(socket.closes).toEqual([4500]);
    expect(logger.debug).not.toHaveBeenCalled();
  });
});
