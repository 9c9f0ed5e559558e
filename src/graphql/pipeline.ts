// The one request pipeline of HTTP (Apollo) and WebSocket (graphql-ws): parsing, validation, limits, auth, execution, masking.
import {
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  GraphQLError,
  type GraphQLFormattedError,
  type GraphQLSchema,
  type ParseOptions,
  Kind,
  execute,
  getOperationAST,
  parse,
  specifiedRules,
  validate,
} from "graphql";
import { type CompiledQuery, compileQuery, isCompiledQuery } from "graphql-jit";
import type { Logger } from "pino";
import type { Caller } from "../auth/scopes.js";
import { type TokenVerifier, bearerToken, refusalReason } from "../auth/token-verifier.js";
import { VISITOR_SCOPE } from "../auth/visitor-sessions.js";
import { LedgerError } from "../domain/errors.js";
import { CallerLimits } from "./caller-limits.js";
import type { GraphQLContext, Services } from "./context.js";
import { formatError } from "./errors.js";
import { checkOperationLimits } from "./limits.js";
import { checkVisitorOperation } from "./visitor-operations.js";
import type { OperationCost } from "./operation-cost.js";
import { validationBudgetBroken } from "./validation-budget.js";

export interface PipelineDeps {
  schema: GraphQLSchema;
  services: Services;
  verifier: TokenVerifier;
}

/** Everything both transports do to a request, defined once. */
export class GraphQLPipeline {
  readonly schema: GraphQLSchema;
  /** graphql's parser refuses a text with more lexical tokens before building any of it. */
  readonly parseOptions: ParseOptions;
  readonly callerLimits: CallerLimits;
  private readonly services: Services;
  private readonly verifier: TokenVerifier;
  private readonly logger: Logger;
  private readonly compiledQueries = new WeakMap<DocumentNode, Map<string, CompiledQuery | null>>();
  private readonly budgetChecked = new Map<string, GraphQLError | null>();
  private readonly checkedDocuments = new Map<string, DocumentNode | GraphQLError[]>();

  constructor(deps: PipelineDeps) {
    this.schema = deps.schema;
    this.services = deps.services;
    this.verifier = deps.verifier;
    this.logger = deps.services.logger;
    const { limits } = deps.services.config;
    this.parseOptions = { maxTokens: limits.maxTokens };
    this.callerLimits = new CallerLimits(limits);
  }

  /** The caller a token names; UNAUTHENTICATED for a missing, malformed or invalid token. */
  async authenticate(authorization: unknown): Promise<Caller> {
    try {
      const token = bearerToken(typeof authorization === "string" ? authorization : null);
      if (!token) throw new LedgerError("UNAUTHENTICATED", "authentication required: send Authorization: Bearer <token>");
      return await this.verifier.verify(token);
    } catch (e) {
      // Operators need to see why tokens fail (wrong audience, unknown key, JWKS down); never the token itself.
      if (typeof authorization === "string" && authorization.trim() !== "") this.logger.info({ reason: refusalReason(e) }, "access token refused");
      throw e;
    }
  }

  /** A fresh request context for an authenticated caller. */
  context(caller: Caller | null, requestId: string): GraphQLContext {
    return { caller, services: this.services, requestId };
  }

  /** Parses a query text as Apollo does on HTTP (same options); GRAPHQL_PARSE_FAILED on a bad text. */
  parse(query: string): DocumentNode | GraphQLError {
    try {
      return parse(query, this.parseOptions);
    } catch (e) {
      return new GraphQLError(e instanceof GraphQLError ? e.message : "the query could not be parsed", { extensions: { code: "GRAPHQL_PARSE_FAILED" } });
    }
  }

  /**
   * Whether a query text would cost graphql's validation more than its budget (see validation-budget.ts):
   * checked on HTTP before Apollo parses and validates, with or without a token. Answers are kept by
   * text, so the hot queries are parsed once here; any other text costs one bounded parse and a linear pass.
   */
  overValidationBudget(query: string): GraphQLError | null {
    const known = this.budgetChecked.get(query);
    if (known !== undefined) return known;
    const document = this.parse(query);
    // A text that does not parse is Apollo's to report, with its own message.
    const verdict = document instanceof GraphQLError ? null : validationBudgetBroken(document);
    if (query.length <= MAX_CHECKED_TEXT) {
      if (this.budgetChecked.size >= MAX_CHECKED_TEXTS) this.budgetChecked.clear();
      this.budgetChecked.set(query, verdict);
    }
    return verdict;
  }

  /**
   * A query text parsed and validated, or the errors that refuse it, kept by text as Apollo keeps its
   * parsed documents on HTTP: a client opening many subscriptions with one query pays for it once.
   */
  checkedDocument(query: string): DocumentNode | GraphQLError[] {
    const known = this.checkedDocuments.get(query);
    if (known !== undefined) return known;
    const document = this.parse(query);
    const verdict = document instanceof GraphQLError ? [document] : this.validate(document);
    const result = verdict.length > 0 ? verdict : (document as DocumentNode);
    if (query.length <= MAX_CHECKED_TEXT) {
      if (this.checkedDocuments.size >= MAX_CHECKED_TEXTS) this.checkedDocuments.clear();
      this.checkedDocuments.set(query, result);
    }
    return result;
  }

  /** graphql's specified rules, as Apollo runs them on HTTP, after the overlap budget; GRAPHQL_VALIDATION_FAILED for each finding. */
  validate(document: DocumentNode): GraphQLError[] {
    const over = validationBudgetBroken(document);
    if (over) return [over];
    return validate(this.schema, document, specifiedRules).map(
      (e) => new GraphQLError(e.message, { nodes: e.nodes ?? null, extensions: { code: "GRAPHQL_VALIDATION_FAILED" } }),
    );
  }

  /**
   * Prices the operation with its variables and refuses it (throws the GraphQLError) when it is too
   * deep, too costly, or asks for more exports or whole-log reads than one request may run. The price
   * is remembered on the context, for execution to take the caller's whole-log slot when needed.
   */
  admit(args: { document: DocumentNode; operationName?: string | null | undefined; variables?: Record<string, unknown> | null | undefined; context: GraphQLContext }): void {
    if (args.context.caller?.scopes.has(VISITOR_SCOPE)) checkVisitorOperation(args.document, args.operationName);
    const cost = checkOperationLimits({ schema: this.schema, ...args, limits: this.services.config.limits });
    if (cost) args.context.cost = cost;
  }

  /** Executes an admitted query or mutation; whole-log work runs in one of the caller's slots. */
  async execute(args: ExecutionArgs): Promise<ExecutionResult> {
    const context = args.contextValue as GraphQLContext;
    const compiled = this.services.config.compiledReads ? this.compiled(args.document, args.operationName) : null;
    const budget = this.services.config.limits.maxResponseBytes;
    const run = async () =>
      withinResponseBudget(compiled ? asGraphQLErrors(await compiled.query(args.rootValue, context, args.variableValues), args.document) : await execute(args), context.cost, budget);
    const caller = context.caller?.subject;
    if (caller === undefined || (!needsWholeLogSlot(context.cost) && !needsExportSlot(context.cost))) return run();
    const limits = this.callerLimits;
    const inExportSlot = needsExportSlot(context.cost) ? () => limits.withExportSlot(caller, run) : run;
    try {
      return await (needsWholeLogSlot(context.cost) ? limits.withWholeLogSlot(caller, inExportSlot) : inExportSlot());
    } catch (e) {
      if (e instanceof LedgerError) return { errors: [new GraphQLError(e.message, { originalError: e, extensions: { code: e.code, http: { status: 429 } } })] };
      throw e;
    }
  }

  /**
   * The compiled form of a hot read (a query whose root fields are all among COMPILED_ROOT_FIELDS),
   * compiled once per parsed document and operation; null for everything else, which graphql-js runs.
   */
  compiled(document: DocumentNode, operationName: string | null | undefined): CompiledQuery | null {
    const key = operationName ?? "";
    let byName = this.compiledQueries.get(document);
    const known = byName?.get(key);
    if (known !== undefined) return known;
    const op = getOperationAST(document, operationName ?? undefined);
    const hot = op?.operation === "query" && op.selectionSet.selections.every((s) => s.kind === Kind.FIELD && COMPILED_ROOT_FIELDS.has(s.name.value));
    let result: CompiledQuery | null = null;
    if (hot) {
      const c = compileQuery(this.schema, document, operationName ?? undefined, { disablingCapturingStackErrors: true });
      result = isCompiledQuery(c) ? c : null;
    }
    if (!byName) this.compiledQueries.set(document, (byName = new Map()));
    if (byName.size >= MAX_COMPILED_PER_DOCUMENT) byName.clear();
    byName.set(key, result);
    return result;
  }

  /** Masks one error for a client: contract codes pass, anything else becomes an error id in the log. */
  formatError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
    return formatError(this.logger, formatted, error);
  }
}

/**
 * The reads services send thousands of times a second; graphql-jit compiles them to plain functions.
 * Everything else (mutations, subscriptions, the officers' reads) runs on graphql-js.
 */
export const COMPILED_ROOT_FIELDS: ReadonlySet<string> = new Set(["permission", "permissions", "me"]);
const MAX_COMPILED_PER_DOCUMENT = 16;
/** Query texts whose validation budget is remembered, and the longest text remembered. */
const MAX_CHECKED_TEXTS = 1_000;
const MAX_CHECKED_TEXT = 16_384;

/**
 * graphql-jit reports errors with its own error type (message, locations, path, originalError); the
 * rest of the pipeline (Apollo, the masking) expects graphql-js's. Rebuilt here with the same
 * message, place in the document, path and cause, they are formatted exactly as on graphql-js.
 */
function asGraphQLErrors(result: ExecutionResult, document: DocumentNode): ExecutionResult {
  if (!result.errors || result.errors.length === 0) return result;
  const source = document.loc?.source;
  const lineStarts = source ? lineOffsets(source.body) : [];
  const errors = result.errors.map((e) => {
    if (e instanceof GraphQLError && Object.getPrototypeOf(e) === GraphQLError.prototype) return e;
    const positions = source ? (e.locations ?? []).map((l) => (lineStarts[l.line - 1] ?? 0) + l.column - 1) : [];
    const original = e.originalError ?? null;
    return new GraphQLError(e.message, {
      ...(source && positions.length > 0 ? { source, positions } : {}),
      ...(e.path ? { path: e.path } : {}),
      ...(original ? { originalError: original } : {}),
      ...(e.extensions ? { extensions: e.extensions } : {}),
    });
  });
  return { ...result, errors };
}

/** Where each line starts; like graphql's lexer, \r\n, \n and \r each end a line. */
function lineOffsets(body: string): number[] {
  const starts = [0];
  for (let i = 0; i < body.length; i++) {
    if (body[i] === "\r" && body[i + 1] === "\n") i++;
    if (body[i] === "\n" || body[i] === "\r") starts.push(i + 1);
  }
  return starts;
}

/** Answers priced at more than this (or a sixteenth of the budget) are measured after they are built. */
const MEASURE_FROM_BYTES = 65_536;

/**
 * The static price bounds event data by its cap but other strings by a typical size; an answer priced
 * near the budget is measured once built, and one over MAX_RESPONSE_BYTES is replaced by RESPONSE_TOO_LARGE.
 */
function withinResponseBudget(result: ExecutionResult, cost: OperationCost | undefined, budget: number): ExecutionResult {
  if ((cost?.bytes ?? 0) < Math.min(MEASURE_FROM_BYTES, budget / 16) || result.data == null) return result;
  const bytes = JSON.stringify(result.data).length;
  if (bytes <= budget) return result;
  const message = `the answer holds ${bytes} bytes, more than the ${budget} one answer may hold (MAX_RESPONSE_BYTES); ask for fewer items or fewer fields`;
  return { errors: [new GraphQLError(message, { originalError: new LedgerError("RESPONSE_TOO_LARGE", message, { limit: budget }) })] };
}

const needsWholeLogSlot = (cost: OperationCost | undefined): boolean => (cost?.wholeLog ?? 0) > 0;
const needsExportSlot = (cost: OperationCost | undefined): boolean => (cost?.exports ?? 0) > 0;
