// The pages' GraphQL client: typed documents over HTTP (graphql-request) and live updates (graphql-ws).
import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { ClientError, GraphQLClient, type RequestMiddleware } from "graphql-request";
import { type Client, createClient } from "graphql-ws";
import { print } from "graphql";

/** An error the API answered, with the contract's code (`VERSION_CONFLICT`, `UNAUTHENTICATED`, …). */
export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

/** Codes that mean "sign in again": the token is missing, bad or expired. */
export const isSignInNeeded = (e: unknown): boolean => e instanceof ApiError && e.code === "UNAUTHENTICATED";

export class Api {
  private readonly http: GraphQLClient;
  private ws: Client | null = null;

  constructor(private readonly token: () => string | null) {
    this.http = new GraphQLClient(new URL("/graphql", location.href).href, { method: "POST", requestMiddleware: withDocumentId });
  }

  /** Runs a query or mutation; throws ApiError with the first error's code. */
  async request<TData, TVariables extends object>(document: TypedDocumentNode<TData, TVariables>, variables: TVariables): Promise<TData> {
    const token = this.token();
    printed(document);
    try {
      return await this.http.request<TData>({
        document: document as TypedDocumentNode<TData, Record<string, unknown>>,
        variables: variables as Record<string, unknown>,
        requestHeaders: token ? { authorization: `Bearer ${token}` } : {},
      });
    } catch (e) {
      throw toApiError(e);
    }
  }

  /**
   * Follows a subscription over graphql-ws; `next` gets each result's data. The socket reconnects
   * after a drop (the server restarting, a network change) until `stop` is called.
   */
  subscribe<TData, TVariables extends object>(
    document: TypedDocumentNode<TData, TVariables>,
    variables: () => TVariables,
    handlers: { next: (data: TData) => void; error: (e: ApiError) => void; connected?: () => void; closed?: () => void },
  ): () => void {
    this.ws ??= createClient({
      url: new URL("/graphql", location.href.replace(/^http/, "ws")).href,
      connectionParams: () => ({ authorization: `Bearer ${this.token() ?? ""}` }),
      retryAttempts: Infinity,
      // Any drop is retried (graphql-ws gives up on most 4xxx closes by default), except a refused or
      // expired token: that one reaches `error` below and leads to sign-in.
      shouldRetry: (e) => !isTokenRefusal(e),
      on: { connected: () => handlers.connected?.(), closed: () => handlers.closed?.() },
    });
    const documentId = documentIdOf(document);
    return this.ws.subscribe<TData>(
      { query: printed(document), ...(documentId ? { documentId } : {}), variables: variables() as Record<string, unknown> },
      {
        next: (result) => {
          if (result.errors?.length) {
            const first = result.errors[0]!;
            handlers.error(new ApiError(String(first.extensions?.["code"] ?? "ERROR"), first.message));
          } else if (result.data) handlers.next(result.data as TData);
        },
        error: (e) => handlers.error(socketError(e)),
        complete: () => {},
      },
    );
  }

  /** Closes the live connection (sign-out). */
  close(): void {
    void this.ws?.dispose();
    this.ws = null;
  }
}

/** The sha256 graphql-codegen gives each generated document (`persistedDocuments`), as `sha256:<hex>`. */
const documentIdOf = (document: object): string | undefined => {
  const hash: unknown = (document as { __meta__?: { hash?: unknown } }).__meta__?.hash;
  return typeof hash === "string" ? hash : undefined;
};

/** Each document's printed text (what graphql-request sends), and the hash a text was printed from. */
const texts = new WeakMap<object, string>();
const hashesByText = new Map<string, string>();
function printed(document: TypedDocumentNode<unknown, never> | object): string {
  let text = texts.get(document);
  if (text === undefined) {
    text = print(document as TypedDocumentNode<unknown, never>);
    texts.set(document, text);
    const id = documentIdOf(document);
    if (id) hashesByText.set(text, id);
  }
  return text;
}

/**
 * Names a generated document by its hash beside its text: the server runs its trusted copy (and
 * refuses other texts when it trusts nothing else); a server that does not know the hash runs the text.
 */
const withDocumentId: RequestMiddleware = (request) => {
  if (typeof request.body !== "string") return request;
  const body = JSON.parse(request.body) as { query?: unknown };
  const id = typeof body.query === "string" ? hashesByText.get(body.query) : undefined;
  return id ? { ...request, body: JSON.stringify({ documentId: id, ...body }) } : request;
};

function toApiError(e: unknown): ApiError {
  if (e instanceof ClientError) {
    const first = e.response.errors?.[0];
    const code = first?.extensions?.["code"];
    if (first) return new ApiError(typeof code === "string" ? code : "ERROR", first.message);
    return new ApiError(e.response.status === 401 ? "UNAUTHENTICATED" : "HTTP_ERROR", `HTTP ${e.response.status}`);
  }
  return new ApiError("NETWORK_ERROR", e instanceof Error ? e.message : String(e));
}

/** graphql-ws hands over the CloseEvent when the server closed the socket. */
const isCloseEvent = (e: unknown): e is CloseEvent => typeof e === "object" && e !== null && typeof (e as { code?: unknown }).code === "number";
const isTokenRefusal = (e: unknown): boolean => isCloseEvent(e) && (e.code === 4401 || e.code === 4403);

function socketError(e: unknown): ApiError {
  if (isCloseEvent(e)) {
    const { code, reason } = e;
    if (isTokenRefusal(e)) return new ApiError("UNAUTHENTICATED", reason || "unauthorized");
    return new ApiError("NETWORK_ERROR", `connection closed (${code})`);
  }
  return new ApiError("NETWORK_ERROR", e instanceof Error ? e.message : String(e));
}
