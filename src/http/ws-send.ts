// A WebSocket's sends once its client has gone. graphql-ws sends each message of an operation and,
// when a send fails, reports the failure with console.error ("Internal error occurred during message
// handling") and closes the socket: for a client that dropped its connection while a message was on
// its way (a reset under a replayed page) that is an error-level line about nothing wrong with the
// service. Such a send is settled here instead, and said at debug level; a send that fails on a socket
// that is still open, for any other reason, fails as before.
import type { Logger } from "pino";
import type { WebSocket } from "ws";

/** Write errors of a connection the peer reset or closed while a message was being written. */
const CONNECTION_GONE = new Set(["ECONNRESET", "EPIPE", "ECONNABORTED", "ERR_STREAM_DESTROYED", "ERR_STREAM_WRITE_AFTER_END"]);

type SendCallback = (err?: Error) => void;

/** Makes `socket`'s failed sends to a gone client succeed quietly (see above). */
export function settleSendsToGoneClient(socket: WebSocket, logger: Pick<Logger, "debug">): void {
  const send = socket.send.bind(socket) as (data: unknown, ...rest: unknown[]) => void;
  const gone = (err: Error): boolean => socket.readyState !== socket.OPEN || CONNECTION_GONE.has((err as { code?: string }).code ?? "");
  socket.send = ((data: unknown, ...rest: unknown[]) => {
    // send(data, cb) or send(data, options, cb): the callback is the last argument, if any.
    const last = rest.length - 1;
    const cb = rest[last];
    if (typeof cb === "function") {
      rest[last] = (err?: Error) => {
        if (err && gone(err)) {
          logger.debug({ err: { message: err.message, code: (err as { code?: string }).code } }, "websocket closed before its message was sent");
          return (cb as SendCallback)();
        }
        (cb as SendCallback)(err);
      };
    }
    send(data, ...rest);
  }) as WebSocket["send"];
}
