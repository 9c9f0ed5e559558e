// graphql-ws on /graphql, through the same request pipeline as HTTP (graphql/stages.ts).
// graphql-ws's hooks are translated into the pipeline's calls (onConnect: authenticate; onSubscribe:
// screen, parse and validate, admit; execute; onNext and onError: mask, then answered). What only a
// connection has stays here: its close codes, its token's expiry, its share of the caller's
// connections and subscriptions.
import { LONG_DOCUMENT, nextTurn, weightOf } from "../turns.js";
import { randomUUID } from "node:crypto";
import type { Server } from "node:http";
import { type ExecutionArgs, GraphQLError, type GraphQLFormattedError, getOperationAST } from "graphql";
import { CloseCode, type Context, type SubscribePayload } from "graphql-ws";
import { type Extra, useServer } from "graphql-ws/use/ws";
import { WebSocketServer } from "ws";
import type { Caller } from "../auth/scopes.js";
import { LedgerError } from "../domain/errors.js";
import type { GraphQLContext, Services } from "../graphql/context.js";
import { withLedgerPosition } from "../graphql/write-position.js";
import type { GraphQLPipeline } from "../graphql/pipeline.js";
import { persistedQueryNotFound, trustedDocumentsFor } from "../graphql/trusted-documents.js";
import { operationKeyOf, subscribeShared } from "../graphql/shared-subscription.js";
import { type BufferedSocket, withinByteBudget } from "./subscriber-budget.js";
import { settleSendsToGoneClient } from "./ws-send.js";
import type { WebSocketAttachment } from "./server.js";

/** Close codes of this transport; 44xx follow graphql-ws (4401 is final for its client, 4403 is retried). */
export const WS_CLOSE = {
  /** No token, or one that is not good: the client should not retry with it. */
  unauthenticated: CloseCode.Unauthorized,
  /** The token expired: reconnect with a fresh one (graphql-ws calls connectionParams again). */
  tokenExpired: CloseCode.Forbidden,
  /** Shutdown or restart: reconnect and resubscribe with the last cursor. */
  goingAway: 1001,
  /** The token could not be checked right now (e.g. the JWKS is unreachable). */
  tryAgainLater: 1013,
  /** The caller already holds MAX_CONNECTIONS_PER_CALLER connections: close one first. */
  tooManyConnections: 4429,
} as const;

/** How long a shutdown waits for clients to answer the close handshake before cutting them off. */
const CLOSE_GRACE_MS = 2_000;
/** setTimeout's ceiling; a longer token life is re-armed in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** An operation of a connection, from its subscribe message until it ends: what its answers are counted under. */
type OperationState = { started: bigint; name: string | null | undefined; type: string };

type ConnectionState = {
  caller?: Caller;
  /** The connection's operations, by the client's id. */
  operations?: Map<string, OperationState>;
  expiry?: NodeJS.Timeout;
  /** The connection holds one of its caller's connection slots. */
  holdsSlot?: boolean;
  /** Its operations holding one of the caller's operation slots, by the client's id. */
  held?: Set<string>;
  closed?: boolean;
};

export interface WebSocketOptions {
  services: Services;
  /** The clock token expiry is measured against; defaults to Date.now. */
  now?: () => number;
}

/** Builds the `attachWebSocket` hook startHttpServer expects. */
export function webSocketTransport(opts: WebSocketOptions) {
  return (httpServer: Server, pipeline: GraphQLPipeline): WebSocketAttachment => attachGraphQLWebSocket(httpServer, pipeline, opts);
}

function attachGraphQLWebSocket(httpServer: Server, pipeline: GraphQLPipeline, opts: WebSocketOptions): WebSocketAttachment {
  const { services } = opts;
  const { config, logger } = services;
  const { schema, callerLimits } = pipeline;
  const trusted = trustedDocumentsFor(pipeline, config);
  const now = opts.now ?? Date.now;
  const wss = new WebSocketServer({ server: httpServer, path: "/graphql", maxPayload: config.limits.bodyBytes });

  const mask = (e: GraphQLError): GraphQLFormattedError => pipeline.formatError(e.toJSON(), e);

  /**
   * Reports what an operation was sent. A refusal or a query's or mutation's answer ends the operation
   * and is timed, as an HTTP answer is; a subscription's messages are not (a stream has no duration).
   */
  const answered = (state: ConnectionState, id: string, errors: readonly GraphQLFormattedError[] | undefined, refusal: boolean) => {
    const op = state.operations?.get(id);
    const ends = refusal || op?.type !== "subscription";
    if (!ends && !errors) return; // a stream's plain message: nothing to count
    if (ends) state.operations?.delete(id);
    const seconds = ends && op !== undefined && op.type !== "subscription" ? Number(process.hrtime.bigint() - op.started) / 1e9 : undefined;
    pipeline.answered({ transport: "ws", operationName: op?.name, type: op?.type ?? "unknown", errors, ...(seconds !== undefined ? { seconds } : {}) });
  };

  const refusal = (code: "UNAUTHENTICATED" | "OPERATION_RESOLUTION_FAILURE", message: string) => [new GraphQLError(message, { extensions: { code } })];
  const tooMany = (message: string) => [new GraphQLError(message, { originalError: new LedgerError("TOO_MANY_SUBSCRIPTIONS", message) })];

  const armExpiry = (state: ConnectionState, expiresAt: number, close: () => void) => {
    const wait = Math.max(0, expiresAt - now());
    state.expiry = setTimeout(() => (expiresAt <= now() ? close() : armExpiry(state, expiresAt, close)), Math.min(wait, MAX_TIMER_MS));
    state.expiry.unref();
  };

  /** Each started subscription's operation key (see subscribeShared), by its execution context. */
  const operationKeys = new WeakMap<object, string>();
  /** Each started subscription's socket, whose unsent bytes its byte budget reads. */
  const sockets = new WeakMap<object, BufferedSocket>();

  /** Screens, parses, validates and admits a subscribe message; an operation admitted holds one of its caller's operation slots. */
  const admitOperation = async (ctx: Context<Record<string, unknown> | undefined, Extra & Partial<ConnectionState>>, id: string, payload: SubscribePayload): Promise<ExecutionArgs | readonly GraphQLError[]> => {
    const caller = ctx.extra.caller;
    if (!caller) return refusal("UNAUTHENTICATED", "authentication required");
    // Unnamed until resolved, as Apollo counts an operation that fails before it is resolved.
    const op: OperationState = { started: process.hrtime.bigint(), name: null, type: "unknown" };
    ctx.extra.operations?.set(id, op);
    const max = config.limits.maxSubscriptionsPerConnection;
    // graphql-ws has already registered this operation, so the counts include it.
    if (Object.keys(ctx.subscriptions).length > max) return tooMany(`at most ${max} operations may run on one connection`);
    if (!(await callerLimits.startOperation(caller.subject)))
      return tooMany(`at most ${config.limits.maxSubscriptionsPerCaller} operations may run at once per caller, across connections`);
    // Held until the operation ends (onComplete), is refused below, or the connection closes.
    if (ctx.extra.closed || !ctx.extra.holdsSlot) callerLimits.endOperation(caller.subject);
    else ctx.extra.held?.add(id);
    // A trusted document named by hash runs as its text; an unknown hash, or any other text under TRUSTED_DOCUMENTS_ONLY, is refused.
    const query = trusted.queryOf(payload);
    if (query === null) return [persistedQueryNotFound()];
    // Many subscribe messages arrive in one read of the socket: each is taken in a turn of its own.
    await nextTurn(weightOf(query.length));
    const screened = pipeline.screen(query);
    if (screened) return [screened];
    // A long document was screened in this turn: it is parsed and validated in the next.
    if (query.length > LONG_DOCUMENT) await nextTurn(weightOf(query.length));
    const document = pipeline.checkedDocument(query);
    if (Array.isArray(document)) return document;
    const resolved = getOperationAST(document, payload.operationName ?? undefined);
    if (!resolved) return refusal("OPERATION_RESOLUTION_FAILURE", "name one operation of the document with operationName");
    // Named as Apollo names it: by the operation the document resolves to.
    op.type = resolved.operation;
    op.name = resolved.name?.value ?? null;
    const contextValue = pipeline.context(caller, randomUUID());
    try {
      pipeline.admit({ transport: "ws", document, operationName: payload.operationName, variables: payload.variables, context: contextValue });
    } catch (e) {
      if (e instanceof GraphQLError) return [e];
      throw e;
    }
    operationKeys.set(contextValue, operationKeyOf(document, payload));
    sockets.set(contextValue, ctx.extra.socket);
    return { schema, document, variableValues: payload.variables ?? null, operationName: payload.operationName ?? null, contextValue };
  };

  /** The operation's slot goes back to its caller, once. */
  const endOperation = (state: ConnectionState, id: string): void => {
    if (state.caller && state.held?.delete(id)) callerLimits.endOperation(state.caller.subject);
  };

  const server = useServer<Record<string, unknown> | undefined, ConnectionState>(
    {
      isProd: true,
      // No headers over WebSocket: a mutation's position travels in its result's extensions.
      execute: async (args: ExecutionArgs) => withLedgerPosition(await pipeline.execute(args), args.contextValue as GraphQLContext),
      // Subscribers of the same operation who may see the same personal data share each change's execution.
      subscribe: async (args: ExecutionArgs) => {
        const result = await subscribeShared(args, operationKeys.get(args.contextValue as object) ?? randomUUID());
        const socket = sockets.get(args.contextValue as object);
        // Every subscription of a connection counts against the connection's one byte budget.
        return socket && Symbol.asyncIterator in result ? withinByteBudget(result, socket, config.limits.subscriberBytes) : result;
      },
      async onConnect(ctx) {
        const params = ctx.connectionParams ?? {};
        const socket = ctx.extra.socket;
        let caller: Caller;
        try {
          caller = await pipeline.authenticate(params["authorization"] ?? params["Authorization"], "ws");
        } catch (e) {
          if (e instanceof LedgerError) socket.close(WS_CLOSE.unauthenticated, "Unauthorized: send connection_init with { authorization: \"Bearer <token>\" }");
          else {
            logger.error({ err: e }, "websocket authentication failed");
            socket.close(WS_CLOSE.tryAgainLater, "authentication is unavailable, try again later");
          }
          return false;
        }
        if (!(await callerLimits.openConnection(caller.subject))) {
          const max = config.limits.maxConnectionsPerCaller;
          socket.close(WS_CLOSE.tooManyConnections, `too many connections: at most ${max} per caller`);
          return false;
        }
        // Closed while the slot was being taken: onClose has run already, so the slot goes back here.
        if (ctx.extra.closed) {
          callerLimits.closeConnection(caller.subject);
          return false;
        }
        ctx.extra.caller = caller;
        ctx.extra.holdsSlot = true;
        ctx.extra.held = new Set();
        ctx.extra.operations = new Map();
        if (caller.expiresAt !== null)
          armExpiry(ctx.extra, caller.expiresAt, () => socket.close(WS_CLOSE.tokenExpired, "token expired: reconnect with a fresh token"));
        return true;
      },
      onClose(ctx) {
        ctx.extra.closed = true;
        if (ctx.extra.expiry) clearTimeout(ctx.extra.expiry);
        const caller = ctx.extra.caller;
        if (!caller || !ctx.extra.holdsSlot) return;
        ctx.extra.holdsSlot = false;
        for (const id of [...(ctx.extra.held ?? [])]) endOperation(ctx.extra, id);
        callerLimits.closeConnection(caller.subject);
      },
      async onSubscribe(ctx, id, payload): Promise<ExecutionArgs | readonly GraphQLError[]> {
        const answer = await admitOperation(ctx, id, payload);
        // An operation refused here ends here (graphql-ws calls no other hook when its client completed it meanwhile).
        if (Array.isArray(answer)) endOperation(ctx.extra, id);
        return answer;
      },
      onNext(ctx, id, _payload, _args, result) {
        const errors = result.errors?.map(mask);
        answered(ctx.extra, id, errors, false);
        return errors ? { ...result, errors } : undefined;
      },
      onError(ctx, id, _payload, errors) {
        // The client went away while a message was on its way (its socket is closed, the send failed):
        // nothing is wrong with the service, and nobody is left to tell.
        if (ctx.extra.socket.readyState !== ctx.extra.socket.OPEN) {
          logger.debug({ err: errors[0]?.message }, "websocket closed before its messages were sent");
          ctx.extra.operations?.delete(id);
          return errors.map((e) => ({ message: e.message }));
        }
        const masked = errors.map(mask);
        answered(ctx.extra, id, masked, true);
        return masked;
      },
      onComplete(ctx, id) {
        ctx.extra.operations?.delete(id);
        endOperation(ctx.extra, id);
      },
    },
    wss,
  );

  // graphql-ws reports socket errors (an oversized message, a broken frame) with console.error; ws has
  // already closed such a socket with the right code, so say it once in our own log instead. A send
  // to a client that has gone is not an error either (ws-send.ts).
  wss.on("connection", (socket) => {
    socket.removeAllListeners("error");
    socket.on("error", (err) => logger.warn({ err: { message: err.message, code: (err as { code?: string }).code } }, "websocket closed on a protocol error"));
    settleSendsToGoneClient(socket, logger);
  });

  return {
    async dispose() {
      for (const client of wss.clients) client.close(WS_CLOSE.goingAway, "server restarting: resubscribe with your last cursor");
      const force = setTimeout(() => {
        for (const client of wss.clients) client.terminate();
      }, CLOSE_GRACE_MS);
      try {
        await server.dispose();
      } finally {
        clearTimeout(force);
      }
    },
  };
}
