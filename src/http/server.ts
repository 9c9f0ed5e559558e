// node:http serving Apollo on /graphql, plus health, readiness, metrics, the receipt JWKS and the checkpoint key.
import { isPolicyDocumentPath, servePolicyDocument } from "./policy-document.js";
import { randomUUID } from "node:crypto";
import { type IncomingMessage, type Server, type ServerResponse, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { ApolloServer, type ApolloServerOptionsWithGateway, HeaderMap } from "@apollo/server";
import { ApolloServerPluginLandingPageDisabled } from "@apollo/server/plugin/disabled";
import { ApolloServerPluginDrainHttpServer } from "@apollo/server/plugin/drainHttpServer";
import { GraphQLError, type GraphQLSchema } from "graphql";
import type { TokenVerifier } from "../auth/token-verifier.js";
import { LedgerError } from "../domain/errors.js";
import type { GraphQLContext, Services } from "../graphql/context.js";
import { GraphQLPipeline } from "../graphql/pipeline.js";
import { applyCors } from "./cors.js";
import { MIN_POSITION_HEADER, POSITION_HEADER } from "../feed/applied-position.js";
import { writtenPosition } from "../graphql/write-position.js";
import { readsFrom } from "./min-position.js";
import { isPublicOperation } from "../graphql/public-operations.js";
import { externalTransmissionNotice } from "./external-transmission-notice.js";
import type { Metrics } from "./metrics.js";
import { refuseBatch } from "./batch-refusal.js";
import { LONG_DOCUMENT, nextTurn, weightOf } from "../turns.js";
import { MAX_VARIABLE_DEPTH, jsonNestsDeeperThan } from "../graphql/input-values.js";
import { BodyTooLargeError, readBody } from "./read-body.js";
import { SECURITY_HEADERS, isWebPath, serveExplorer, serveWeb, wantsExplorer } from "./static-web.js";
import { isSdkPath, serveSdk } from "./sdk.js";
import { visitorSessionRoute } from "./visitor-session.js";
import type { VisitorSessions } from "../auth/visitor-sessions.js";
import type { Caller } from "../auth/scopes.js";
import { trustedDocumentsFor } from "../graphql/trusted-documents.js";
import { ANSWERED, FastPath } from "./fast-path.js";

export interface WebSocketAttachment {
  /** Closes every subscription (clients may resume with their cursors) and the WebSocket server. */
  dispose(): Promise<void>;
}

export interface ServerDeps {
  services: Services;
  schema: GraphQLSchema;
  verifier: TokenVerifier;
  metrics: Metrics;
  /** Attaches the WebSocket transport to the same HTTP server (graphql-ws), sharing the request pipeline. */
  attachWebSocket?: (httpServer: Server, pipeline: GraphQLPipeline) => WebSocketAttachment;
  /** Signs visitor tokens at POST /visitor-session; null when VISITOR_SESSIONS=false. */
  visitorSessions?: VisitorSessions | null;
  /** /metrics's text when it is not this process's registry alone (a worker process: every process's, aggregated). */
  metricsText?: () => Promise<string>;
}

export interface RunningServer {
  url: string;
  port: number;
  httpServer: Server;
  /** Graceful: readiness turns 503, in-flight requests finish, subscriptions end, then the port closes. */
  close(): Promise<void>;
}

const json = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" });
  res.end(JSON.stringify(body));
};

const clientError = (res: ServerResponse, status: number, code: string, message: string) =>
  json(res, status, { errors: [{ message, extensions: { code } }] });

export async function startHttpServer(deps: ServerDeps, listen: { port: number; host: string }): Promise<RunningServer> {
  const { services, schema, verifier, metrics } = deps;
  const { config, logger, ledger, receipts, transparency } = services;
  let draining = false;
  const pipeline = new GraphQLPipeline({ schema, services, verifier, metrics });

  const httpServer = createServer();
  const visitorSession = visitorSessionRoute(config, deps.visitorSessions ?? null, () => ledger.now(), services.limits?.visitorSessions);
  const apollo = new ApolloServer<GraphQLContext>({
    // Apollo's gateway interface is its hook for a custom executor: the pipeline's, which both transports share.
    gateway: pipelineGateway(schema, pipeline),
    parseOptions: pipeline.parseOptions,
    csrfPrevention: true,
    allowBatchedHttpRequests: false,
    // main.ts owns SIGTERM/SIGINT: Apollo's own handler would re-raise the signal once Apollo has
    // stopped, killing the process before the store is closed and "stopped cleanly" is logged.
    stopOnTerminationSignals: false,
    // Every operation needs a valid token (see the context), so introspection is for authenticated callers only.
    introspection: true,
    includeStacktraceInErrorResponses: false,
    formatError: (formatted, error) => pipeline.formatError(formatted, error),
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer }),
      ApolloServerPluginLandingPageDisabled(),
      // Apollo's request hooks, translated into the pipeline's: admission once resolved, the answer once sent.
      {
        async requestDidStart() {
          const started = process.hrtime.bigint();
          return {
            async didResolveOperation({ document, request, operationName, contextValue }) {
              // A long document was parsed and validated in this turn: it is priced and run in another.
              const length = request.query?.length ?? 0;
              if (length > LONG_DOCUMENT) await nextTurn(weightOf(length));
              pipeline.admit({ transport: "http", document, operationName, variables: request.variables, context: contextValue });
              await readsFrom(request.http?.headers.get(MIN_POSITION_HEADER), services.applied);
            },
            async willSendResponse({ response, operationName, operation, contextValue }) {
              const position = writtenPosition(contextValue);
              if (position !== null) response.http.headers.set(POSITION_HEADER, position);
              const seconds = Number(process.hrtime.bigint() - started) / 1e9;
              const errors = response.body.kind === "single" ? response.body.singleResult.errors : undefined;
              pipeline.answered({ transport: "http", operationName, type: operation?.operation ?? "unknown", errors, seconds });
            },
          };
        },
      },
    ],
  });
  await apollo.start();

  // Trusted documents and texts already validated are answered without Apollo (fast-path.ts).
  const fastPath = new FastPath(pipeline, trustedDocumentsFor(pipeline, config), config.trustedDocuments);

  const contextFor = (req: IncomingMessage, body: unknown, known?: Promise<Caller>) => async (): Promise<GraphQLContext> => {
    // The external-transmission notice is public: without a token, only it may be asked.
    if (req.headers.authorization === undefined && isPublicOperation(body)) return pipeline.context(null, randomUUID());
    try {
      return pipeline.context(await (known ?? pipeline.authenticate(req.headers.authorization, "http")), randomUUID());
    } catch (e) {
      const code = e instanceof LedgerError ? e.code : "UNAUTHENTICATED";
      throw new GraphQLError(e instanceof LedgerError ? e.message : "invalid token", { extensions: { code, http: { status: 401 } } });
    }
  };

  async function graphql(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    let body: unknown;
    let knownCaller: Promise<Caller> | undefined;
    if (req.method === "POST") {
      const raw = await readBody(req, config.limits.bodyBytes);
      // Each request starts in a turn of its own: many arriving at once do not hold the thread together.
      await nextTurn(weightOf(raw.length));
      const type = String(req.headers["content-type"] ?? "");
      if (type.includes("json")) {
        // The body is the request object, its variables one level in: deeper is refused before parsing.
        if (jsonNestsDeeperThan(raw, MAX_VARIABLE_DEPTH + 2)) {
          const message = `variables nest deeper than ${MAX_VARIABLE_DEPTH} levels`;
          pipeline.answered({ transport: "http", operationName: null, type: "unknown", errors: [{ message, extensions: { code: "BAD_USER_INPUT" } }] });
          return clientError(res, 400, "BAD_USER_INPUT", message);
        }
        try {
          body = raw.length > 0 ? JSON.parse(raw) : undefined;
        } catch {
          clientError(res, 400, "BAD_REQUEST", "the request body is not valid JSON");
          return;
        }
      } else body = raw;
      if (Array.isArray(body)) return refuseBatch(req, res, body);
      if (type.includes("json")) {
        const fallback = await fastPath.post(req, res, body);
        if (fallback === ANSWERED) return;
        ({ body, caller: knownCaller } = fallback);
      }
    } else {
      await nextTurn(weightOf(req.url?.length ?? 0));
      if (req.method === "GET") {
        const search = fastPath.get(req, res, url);
        if (search === ANSWERED) return;
        if (search !== url.search) url = new URL(`${url.pathname}${search}`, url);
      }
    }
    // Validation's cost is bounded before Apollo parses and validates: with or without a token.
    const query = typeof body === "object" && body !== null ? (body as { query?: unknown }).query : url.searchParams.get("query");
    const refused = typeof query === "string" ? pipeline.screen(query) : null;
    if (refused) {
      const code = String(refused.extensions["code"] ?? "GRAPHQL_VALIDATION_FAILED");
      pipeline.answered({ transport: "http", operationName: null, type: "unknown", errors: [{ message: refused.message, extensions: { code } }] });
      return clientError(res, 400, code, refused.message);
    }
    // A long document was screened in this turn: Apollo parses and validates it in the next.
    if (typeof query === "string" && query.length > LONG_DOCUMENT) await nextTurn(weightOf(query.length));
    const headers = new HeaderMap();
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(", ") : v);
    // A GET carrying Authorization cannot be a "simple" cross-site request: the browser must preflight
    // it, and CORS decides. So such a query (urql's default) passes the CSRF check like a JSON POST;
    // Apollo still refuses a mutation over GET.
    if (req.method === "GET" && req.headers.authorization) headers.set("apollo-require-preflight", "get-with-authorization");
    const response = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: (req.method ?? "GET").toUpperCase(), headers, search: url.search, body },
      context: contextFor(req, body, knownCaller),
    });
    for (const [k, v] of response.headers) res.setHeader(k, v);
    res.statusCode = response.status ?? 200;
    if (response.body.kind === "complete") {
      res.end(response.body.string);
      return;
    }
    for await (const chunk of response.body.asyncIterator) res.write(chunk);
    res.end();
  }

  httpServer.on("request", (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    // Every answer, the HTML notice page and the web pages included: no framing, no sniffing, no referrer, nothing from elsewhere.
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
    const route = async () => {
      switch (url.pathname) {
        case "/healthz":
          return json(res, 200, { status: "ok" });
        case "/readyz": {
          if (draining) return json(res, 503, { status: "draining" });
          if (!ledger.isWritable()) return json(res, 503, { status: "store not writable" });
          const logHalted = transparency.haltReason();
          if (logHalted !== null) return json(res, 503, { status: "transparency log halted", reason: logHalted });
          const tokensUncheckable = await verifier.readiness();
          if (tokensUncheckable !== null) return json(res, 503, { status: "access tokens cannot be checked", reason: tokensUncheckable });
          return json(res, 200, { status: "ready" });
        }
        case "/metrics":
          res.writeHead(200, { "content-type": metrics.registry.contentType });
          return res.end(await (deps.metricsText ? deps.metricsText() : metrics.registry.metrics()));
        case "/.well-known/jwks.json":
          res.writeHead(200, { "content-type": "application/jwk-set+json", "cache-control": "public, max-age=300" });
          return res.end(JSON.stringify(receipts.jwks()));
        case "/.well-known/ledger-checkpoint-key":
          res.writeHead(200, { "content-type": "text/plain; charset=utf-8", "cache-control": "public, max-age=300" });
          return res.end(transparency.verifierKey());
        case "/graphql":
          if (config.auth.mode === "dev" && wantsExplorer(req.method, req.headers.accept, url.searchParams)) return serveExplorer(config.webDir, req.method, res);
          if (applyCors(config.corsOrigins, req, res)) return;
          return graphql(req, res, url);
        case "/notices/external-transmission":
          return externalTransmissionNotice(req, res, ledger);
        case "/visitor-session":
          return visitorSession(req, res);
        default:
          if (isSdkPath(url.pathname)) return serveSdk(config.webDir, req.method, url.pathname, res);
          if (isPolicyDocumentPath(url.pathname)) return servePolicyDocument(req, res, ledger, url.pathname);
          if (isWebPath(url.pathname)) return serveWeb(config.webDir, req.method, url.pathname, res);
          return clientError(res, 404, "NOT_FOUND", "not found: the API is at /graphql");
      }
    };
    route().catch((e: unknown) => {
      if (e instanceof BodyTooLargeError) {
        res.setHeader("connection", "close");
        return clientError(res, 413, e.code, e.message);
      }
      // The client went away mid-answer (its socket is closed): nothing is wrong with the service.
      if (res.destroyed || (e as { code?: unknown }).code === "ERR_STREAM_DESTROYED") {
        logger.debug({ err: e }, "client closed the connection before its answer was sent");
        return;
      }
      const errorId = randomUUID();
      logger.error({ err: e, errorId }, "request failed");
      if (!res.headersSent) clientError(res, 500, "INTERNAL_SERVER_ERROR", `Internal server error (error id ${errorId})`);
      else res.destroy();
    });
  });

  const ws = deps.attachWebSocket?.(httpServer, pipeline);
  await new Promise<void>((resolve, reject) => {
    httpServer.once("error", reject);
    httpServer.listen(listen.port, listen.host, () => resolve());
  });
  const port = (httpServer.address() as AddressInfo).port;
  const host = listen.host.includes(":") ? `[${listen.host}]` : listen.host;
  let closing: Promise<void> | null = null;
  return {
    url: `http://${host}:${port}/graphql`,
    port,
    httpServer,
    close: () =>
      (closing ??= (async () => {
        draining = true;
        await ws?.dispose();
        await apollo.stop();
      })()),
  };
}

/** Serves the schema and hands execution to the pipeline; nothing is loaded from elsewhere. */
function pipelineGateway(schema: GraphQLSchema, pipeline: GraphQLPipeline): ApolloServerOptionsWithGateway<GraphQLContext>["gateway"] {
  return {
    onSchemaLoadOrUpdate(callback) {
      callback({ apiSchema: schema, coreSupergraphSdl: "" });
      return () => {};
    },
    async load() {
      return {
        executor: (request) =>
          pipeline.execute({
            schema,
            document: request.document,
            operationName: request.operationName,
            variableValues: request.request.variables ?? null,
            contextValue: request.context,
          }),
      };
    },
    async stop() {},
  };
}
