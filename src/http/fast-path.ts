// POST /graphql without Apollo, for the requests services send thousands of times a second: a trusted
// document named by hash, or a text already parsed and validated. The pipeline's stages run as on the
// Apollo path (authenticate, admission with pricing, the wait for Ledger-Min-Position, caller slots,
// answer budget, masking, metrics)
// and the answer is written with the status, headers and body Apollo would write. Anything else (a GET,
// a refused token or operation, an accept header it does not know, a field of the wrong type) is
// handed to Apollo, which answers it as before.
import { MIN_POSITION_HEADER, POSITION_HEADER } from "../feed/applied-position.js";
import { writtenPosition } from "../graphql/write-position.js";
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { type DocumentNode, type ExecutionResult, GraphQLError, type GraphQLFormattedError, type OperationDefinitionNode, getOperationAST } from "graphql";
import type { Caller } from "../auth/scopes.js";
import type { Config } from "../config/types.js";
import { type GraphQLPipeline, VariablesRefused } from "../graphql/pipeline.js";
import { type TrustedDocuments, type TrustedOperation, persistedQueryNotFound, sha256Hex } from "../graphql/trusted-documents.js";
import { LONG_DOCUMENT } from "../turns.js";
import { readsFrom } from "./min-position.js";

/** What the fast path leaves to Apollo: the body to run (a trusted document's text in place of its hash) and the caller if already asked. */
export interface Fallback {
  readonly body: unknown;
  /** The authentication already run for this request (its refusal included), so Apollo's context does not run it twice. */
  readonly caller?: Promise<Caller>;
}

/** The request was answered. */
export const ANSWERED = null;

type Body = { query?: unknown; operationName?: unknown; variables?: unknown; extensions?: unknown; documentId?: unknown };
type Head = { status: number | undefined; headers: Map<string, string> };

const JSON_TYPE = "application/json; charset=utf-8";
const GRAPHQL_RESPONSE_TYPE = "application/graphql-response+json; charset=utf-8";
/** Accept headers whose choice is plain (as Apollo's negotiation resolves them); any other goes to Apollo. */
const ANSWER_TYPES: ReadonlyMap<string, string> = new Map([
  ["", JSON_TYPE],
  ["*/*", JSON_TYPE],
  ["application/json", JSON_TYPE],
  ["application/json, */*", JSON_TYPE],
  ["application/graphql-response+json", GRAPHQL_RESPONSE_TYPE],
  ["application/graphql-response+json, application/json", GRAPHQL_RESPONSE_TYPE],
  ["application/graphql-response+json, application/json;q=0.9", GRAPHQL_RESPONSE_TYPE],
]);

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const optionalRecord = (v: unknown) => v === undefined || v === null || isRecord(v);

export class FastPath {
  constructor(
    private readonly pipeline: GraphQLPipeline,
    private readonly trusted: TrustedDocuments,
    /** Read at each request (HTTP_FAST_PATH): when off, Apollo answers everything, trusted documents as their text. */
    private readonly settings: { readonly fastPath: boolean },
  ) {}

  /**
   * A JSON POST body: answered here (ANSWERED), or what Apollo is to run. A hash no trusted document has
   * and, with TRUSTED_DOCUMENTS_ONLY, any text that is not a trusted document are answered
   * PERSISTED_QUERY_NOT_FOUND; a trusted document Apollo runs is handed over as its text.
   */
  async post(req: IncomingMessage, res: ServerResponse, body: unknown): Promise<Fallback | typeof ANSWERED> {
    if (!isRecord(body)) return { body };
    const started = process.hrtime.bigint();
    const b = body as Body;
    const named = this.trusted.named(b);
    let document: DocumentNode;
    let compiled: ((definition: OperationDefinitionNode) => TrustedOperation["compiled"]) | null = null;
    // What Apollo is given if this path hands the request over, built only then.
    let text: string | null = null;
    if (named.kind === "unknown") {
      if (typeof b.query !== "string" || this.trusted.only) return this.notFound(req, res);
      return { body }; // an Apollo persisted-query registration, or a text with a stray hash: the text runs
    }
    if (named.kind === "trusted") {
      const doc = named.document;
      document = doc.document;
      compiled = (definition) => doc.operation(definition.name?.value)?.compiled ?? null;
      text = doc.text;
    } else {
      if (typeof b.query !== "string") return { body };
      if (this.trusted.only && !this.trusted.get(sha256Hex(b.query))) return this.notFound(req, res);
      const checked = this.textDocument(b.query);
      if (checked === null) return { body };
      document = checked;
    }
    const handOver = (caller?: Promise<Caller>): Fallback => ({ body: text === null ? body : withText(body, text), ...(caller ? { caller } : {}) });
    if (!this.settings.fastPath) return handOver();
    // What Apollo would refuse or answer differently goes to Apollo.
    const answerType = ANSWER_TYPES.get(String(req.headers.accept ?? "").trim());
    const contentType = String(req.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
    if (answerType === undefined || contentType !== "application/json") return handOver();
    if (!optionalRecord(b.variables) || !optionalRecord(b.extensions)) return handOver();
    if (b.operationName !== undefined && b.operationName !== null && typeof b.operationName !== "string") return handOver();
    if (b.query !== undefined && typeof b.query !== "string") return handOver();
    const authorization = req.headers.authorization;
    if (authorization === undefined) return handOver();
    const definition = getOperationAST(document, (b.operationName as string | null | undefined) ?? undefined);
    if (!definition || definition.operation === "subscription") return handOver();

    const asked = this.pipeline.authenticate(authorization, "http");
    let caller: Caller;
    try {
      caller = await asked;
    } catch {
      asked.catch(() => {});
      return handOver(asked);
    }
    // Apollo names the operation by the one the document resolves to, for the stages and the metrics.
    const operationName = definition.name?.value ?? null;
    const variables = (b.variables ?? undefined) as Record<string, unknown> | null | undefined;
    const context = this.pipeline.context(caller, randomUUID());
    const precompiled = compiled?.(definition);
    const header = req.headers[MIN_POSITION_HEADER];
    const minPosition = header === undefined ? undefined : String(header);
    try {
      // A compiled form coerces the variables as it runs (and hands back those it cannot): pricing need not
      // coerce them too, unless a wait comes between (variables are refused before it, as on the Apollo path).
      this.pipeline.admit({ transport: "http", document, operationName, variables, context, coercedLater: precompiled != null && minPosition === undefined });
    } catch {
      return handOver(asked);
    }
    const { schema } = this.pipeline;
    const args = { schema, document, operationName, variableValues: variables ?? null, contextValue: context };
    const head: Head = { status: undefined, headers: new Map() };
    let answer: string;
    let formatted: GraphQLFormattedError[] | undefined;
    try {
      // A request naming a position waits for it after admission, as on the Apollo path (min-position.ts).
      if (minPosition !== undefined) await readsFrom(minPosition, context.services.applied);
      const result: ExecutionResult = precompiled === undefined ? await this.pipeline.execute(args) : await this.pipeline.execute(args, precompiled);
      formatted = result.errors ? this.format(result.errors, head) : undefined;
      // Apollo answers 400 when nothing was executed (the variables could not be coerced), unless an error says otherwise.
      if (formatted && result.data === undefined && head.status === undefined) head.status = 400;
      // An answer of data alone is written by the document's own serializer, when it has one (the same bytes).
      answer =
        formatted === undefined && result.extensions === undefined && precompiled
          ? precompiled.stringify(result) + "\n"
          : JSON.stringify({ errors: formatted, data: result.data, extensions: result.extensions }) + "\n";
    } catch (e) {
      // Variables that do not coerce: nothing ran; Apollo refuses them as on the text path.
      if (e instanceof VariablesRefused) return handOver(asked);
      formatted = this.format([e instanceof GraphQLError ? e : new GraphQLError(e instanceof Error ? e.message : String(e), { originalError: e instanceof Error ? e : null })], head);
      head.status ??= 500;
      answer = JSON.stringify({ errors: formatted }) + "\n";
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    this.pipeline.answered({ transport: "http", operationName, type: definition.operation, errors: formatted, seconds });
    res.statusCode = head.status ?? 200;
    res.setHeader("cache-control", "no-store");
    for (const [k, v] of head.headers) res.setHeader(k, v);
    res.setHeader("content-type", answerType);
    const position = writtenPosition(context);
    if (position !== null) res.setHeader(POSITION_HEADER, position);
    res.end(answer);
    return ANSWERED;
  }

  /**
   * A GET's search string with a trusted document's text in place of its hash, or ANSWERED when the
   * hash is unknown or, with TRUSTED_DOCUMENTS_ONLY, the query is not a trusted document.
   */
  get(req: IncomingMessage, res: ServerResponse, url: URL): string | typeof ANSWERED {
    const params = url.searchParams;
    let extensions: unknown;
    try {
      extensions = params.has("extensions") ? JSON.parse(params.get("extensions")!) : undefined;
    } catch {
      extensions = undefined; // Apollo reports the malformed parameter, if nothing here refuses the request first
    }
    const named = this.trusted.named({ documentId: params.get("documentId"), extensions });
    const query = params.get("query");
    if (named.kind === "unknown") return query === null || this.trusted.only ? this.notFound(req, res) : url.search;
    if (named.kind === "none") return this.trusted.only && query !== null && !this.trusted.get(sha256Hex(query)) ? this.notFound(req, res) : url.search;
    const search = new URLSearchParams(params);
    search.set("query", named.document.text);
    search.delete("documentId");
    if (isRecord(extensions)) {
      const { persistedQuery: _, ...rest } = extensions;
      if (Object.keys(rest).length > 0) search.set("extensions", JSON.stringify(rest));
      else search.delete("extensions");
    }
    return `?${search.toString()}`;
  }

  /** A text already screened, parsed and validated (kept by text in the pipeline), or null when Apollo is to see it. */
  private textDocument(query: string): DocumentNode | null {
    if (query.length > LONG_DOCUMENT || query.includes("__schema") || query.includes("__type(")) return null;
    if (this.pipeline.screen(query) !== null) return null;
    const checked = this.pipeline.checkedDocument(query);
    return Array.isArray(checked) ? null : checked;
  }

  /** Each error as Apollo formats it (its code, its HTTP status and headers lifted out), then masked. */
  private format(errors: readonly GraphQLError[], head: Head): GraphQLFormattedError[] {
    return errors.map((error) => {
      const extensions: Record<string, unknown> = { ...error.extensions, code: error.extensions["code"] ?? "INTERNAL_SERVER_ERROR" };
      const http = extensions["http"];
      if (isHttpHead(http)) {
        if (http.status !== undefined) head.status = http.status;
        if (http.headers) for (const [k, v] of http.headers) head.headers.set(k, v);
        delete extensions["http"];
      }
      return this.pipeline.formatError({ ...error.toJSON(), extensions }, error);
    });
  }

  /** PERSISTED_QUERY_NOT_FOUND, as Apollo answers an unknown persisted query (200, not to be cached). */
  private notFound(req: IncomingMessage, res: ServerResponse): typeof ANSWERED {
    const error = persistedQueryNotFound();
    const formatted = [this.pipeline.formatError({ ...error.toJSON(), extensions: { ...error.extensions } }, error)];
    this.pipeline.answered({ transport: "http", operationName: null, type: "unknown", errors: formatted, seconds: 0 });
    const strict = ANSWER_TYPES.get(String(req.headers.accept ?? "").trim()) === GRAPHQL_RESPONSE_TYPE;
    res.statusCode = 200;
    res.setHeader("cache-control", "private, no-cache, must-revalidate");
    res.setHeader("content-type", strict ? GRAPHQL_RESPONSE_TYPE : JSON_TYPE);
    res.end(JSON.stringify({ errors: formatted }) + "\n");
    return ANSWERED;
  }
}

/** The body with the document's text as its query and no hash (Apollo's own persisted queries are not asked). */
function withText(body: Record<string, unknown>, text: string): Record<string, unknown> {
  const { documentId: _, ...rest } = body;
  const out: Record<string, unknown> = { ...rest, query: text };
  if (isRecord(rest["extensions"])) {
    const { persistedQuery: __, ...ext } = rest["extensions"];
    out["extensions"] = ext;
  }
  return out;
}

function isHttpHead(x: unknown): x is { status?: number; headers?: Map<string, string> } {
  return (
    typeof x === "object" &&
    x !== null &&
    (!("status" in x) || typeof (x as { status: unknown }).status === "number") &&
    (!("headers" in x) || (x as { headers: unknown }).headers instanceof Map)
  );
}
