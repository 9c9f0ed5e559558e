// The one request pipeline of HTTP (Apollo) and WebSocket (graphql-ws): the stages of stages.ts, run in order.
// Stages: authenticate, parse cost, transport, visitor scope, pricing, caller slots, answer budget,
// masking, metrics; plus the parsing, validation and execution both transports share.
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
import type { Caller } from "../auth/scopes.js";
import type { TokenVerifier } from "../auth/token-verifier.js";
import { LedgerError } from "../domain/errors.js";
import { CallerLimits } from "./caller-limits.js";
import type { GraphQLContext, Services } from "./context.js";
import {
  type Answer,
  type Execution,
  type Operation,
  type OperationMetrics,
  type Stage,
  type Transport,
  answerBudgetStage,
  authenticateStage,
  callerSlotsStage,
  maskingStage,
  metricsStage,
  parseCostStage,
  pricingStage,
  transportStage,
  visitorScopeStage,
} from "./stages.js";
import { validationBudgetBroken } from "./validation-budget.js";
import { isMutation, recordWrites } from "./write-position.js";

export interface PipelineDeps {
  schema: GraphQLSchema;
  services: Services;
  verifier: TokenVerifier;
  /** Where the metrics stage records operations and errors; nothing is recorded without it. */
  metrics?: OperationMetrics;
}

/** Everything both transports do to a request, defined once. */
export class GraphQLPipeline {
  readonly schema: GraphQLSchema;
  /** graphql's parser refuses a text with more lexical tokens before building any of it. */
  readonly parseOptions: ParseOptions;
  readonly callerLimits: CallerLimits;
  /** The stages, in the order every hook runs them (see stages.ts). */
  readonly stages: readonly Stage[];
  private readonly services: Services;
  private readonly compiledQueries = new WeakMap<DocumentNode, Map<string, CompiledQuery | null>>();
  private readonly budgetChecked = new Map<string, GraphQLError | null>();
  private readonly checkedDocuments = new Map<string, DocumentNode | GraphQLError[]>();

  constructor(deps: PipelineDeps) {
    this.schema = deps.schema;
    this.services = deps.services;
    const { limits } = deps.services.config;
    const { logger } = deps.services;
    this.parseOptions = { maxTokens: limits.maxTokens };
    this.callerLimits = new CallerLimits(limits, deps.services.limits?.slots);
    this.stages = [
      authenticateStage(deps.verifier, logger),
      parseCostStage((query) => this.overValidationBudget(query)),
      transportStage,
      visitorScopeStage,
      pricingStage(this.schema, limits),
      callerSlotsStage(this.callerLimits),
      answerBudgetStage(limits.maxResponseBytes),
      maskingStage(logger),
      ...(deps.metrics ? [metricsStage(deps.metrics)] : []),
    ];
  }

  /**
   * The caller a token names; UNAUTHENTICATED for a missing, malformed or invalid token. A refusal is
   * reported as answered (the transport sends it: HTTP a 401, WebSocket a close).
   */
  async authenticate(authorization: unknown, transport: Transport): Promise<Caller> {
    try {
      for (const s of this.stages) if (s.authenticate) return await s.authenticate(authorization);
      throw new Error("the pipeline has no authenticate stage");
    } catch (e) {
      const code = e instanceof LedgerError ? e.code : "UNAUTHENTICATED";
      this.answered({ transport, operationName: null, type: "unknown", errors: [{ message: "", extensions: { code } }] });
      throw e;
    }
  }

  /** A query text's refusal before it is parsed and validated, or null. */
  screen(query: string): GraphQLError | null {
    for (const s of this.stages) {
      const refusal = s.screen?.(query) ?? null;
      if (refusal) return refusal;
    }
    return null;
  }

  /** Runs every stage's admission in order; throws the GraphQLError that refuses the operation. */
  admit(op: Operation): void {
    for (const s of this.stages) s.admit?.(op);
  }

  /** Masks one error for a client: contract codes pass, anything else becomes an error id in the log. */
  formatError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
    return this.stages.reduce((f, s) => (s.mask ? s.mask(f, error) : f), formatted);
  }

  /** Reports what a client was sent (masked), to every stage that follows answers. */
  answered(answer: Answer): void {
    for (const s of this.stages) s.answered?.(answer);
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
   * the parse-cost stage, run on both transports before graphql validates (on HTTP before Apollo parses,
   * with or without a token). Answers are kept by
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

  /** graphql's specified rules, as Apollo runs them on HTTP; GRAPHQL_VALIDATION_FAILED for each finding. Run after `screen`. */
  validate(document: DocumentNode): GraphQLError[] {
    return validate(this.schema, document, specifiedRules).map(
      (e) => new GraphQLError(e.message, { nodes: e.nodes ?? null, extensions: { code: "GRAPHQL_VALIDATION_FAILED" } }),
    );
  }

  /**
   * Executes an admitted query or mutation inside the stages' execution wrappers (slots, answer budget);
   * `precompiled` is a form compiled ahead (a trusted document's), null for graphql-js. Variables the
   * precompiled form cannot coerce throw VariablesRefused, nothing run: the caller hands the request to
   * the path that refuses them as graphql words it (see fast-path.ts).
   */
  execute(args: ExecutionArgs, precompiled?: CompiledQuery | null): Promise<ExecutionResult> {
    const context = args.contextValue as GraphQLContext;
    if (isMutation(args.document, args.operationName)) recordWrites(context);
    const compiled = precompiled !== undefined ? precompiled : this.services.config.compiledReads ? this.compiled(args.document, args.operationName) : null;
    const run = async (): Promise<ExecutionResult> => {
      if (!compiled) return await execute(args);
      const result = await compiled.query(args.rootValue, context, args.variableValues);
      // graphql-jit answers variables it cannot coerce with errors and no data, before anything runs.
      if (precompiled && !("data" in result)) throw new VariablesRefused();
      return asGraphQLErrors(result, args.document);
    };
    const wrapped = this.stages.reduceRight<() => Promise<ExecutionResult>>(
      (next, s) => (s.execute ? () => s.execute!(args as Execution, next) : next),
      run,
    );
    return wrapped();
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
}

/** A precompiled operation's variables did not coerce; nothing ran (see `GraphQLPipeline.execute`). */
export class VariablesRefused extends Error {
  /** Internal: never reaches a client, the request is answered by the text path instead. */
  static readonly code = "VARIABLES_REFUSED";
  readonly code = VariablesRefused.code;
  constructor() {
    super("the variables do not coerce to the operation's definitions");
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
