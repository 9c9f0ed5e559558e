// The stages of the request pipeline, each written once and run in this order by both transports.
//
//   1. authenticate   the Authorization credential becomes a caller (UNAUTHENTICATED otherwise)
//   2. parse cost     a query text that would cost validation more than its budget is refused unparsed
//   3. transport      a subscription runs over WebSocket only; over HTTP it is refused (BAD_REQUEST)
//   4. visitor scope  a visitor token may ask only for the visitor's own root fields (FORBIDDEN)
//   5. pricing        depth, cost, exports, whole-log reads and answer bytes, priced with the variables
//   6. caller slots   whole-log reads and exports run in one of the caller's slots (TOO_MANY_REQUESTS)
//   7. answer budget  an answer measured over MAX_RESPONSE_BYTES becomes RESPONSE_TOO_LARGE
//   8. masking        contract codes pass; anything else becomes an error id in the log
//   9. metrics        durations per operation, errors sent per code, subscriptions started
//
// A stage implements only the hooks of the phases it takes part in; the pipeline (pipeline.ts) runs
// each hook over the stages in this order. The transports (http/server.ts through Apollo's plugin and
// gateway hooks, http/ws.ts through graphql-ws's) only translate their events into these calls.
import { type DocumentNode, type ExecutionArgs, type ExecutionResult, GraphQLError, type GraphQLFormattedError, getOperationAST } from "graphql";
import type { Logger } from "pino";
import type { Caller } from "../auth/scopes.js";
import { type TokenVerifier, bearerToken, refusalReason } from "../auth/token-verifier.js";
import { VISITOR_SCOPE } from "../auth/visitor-sessions.js";
import { LedgerError } from "../domain/errors.js";
import type { CallerLimits } from "./caller-limits.js";
import type { GraphQLContext } from "./context.js";
import { errorCodes, formatError } from "./errors.js";
import { type OperationLimits, checkOperationLimits } from "./limits.js";
import type { OperationCost } from "./operation-cost.js";
import { checkVisitorOperation } from "./visitor-operations.js";

export type Transport = "http" | "ws";

/** One operation, parsed, validated and resolved, as every stage sees it on either transport. */
export interface Operation {
  readonly transport: Transport;
  readonly document: DocumentNode;
  readonly operationName: string | null | undefined;
  readonly variables: Record<string, unknown> | null | undefined;
  readonly context: GraphQLContext;
  /**
   * The variables are coerced by the operation's compiled form when it runs, which hands them back
   * unrun when they do not coerce (VariablesRefused): pricing need not coerce them first when the
   * price does not depend on them.
   */
  readonly coercedLater?: boolean;
}

/** What a client was sent: an answer, a message of a stream, or a refusal. */
export interface Answer {
  readonly transport: Transport;
  readonly operationName: string | null | undefined;
  /** query, mutation or subscription; "unknown" when the operation was never resolved. */
  readonly type: string;
  /** The errors sent, already masked. */
  readonly errors: readonly GraphQLFormattedError[] | undefined;
  /** How long the operation took, when this answer ends it (a query's or mutation's answer, a refusal). */
  readonly seconds?: number;
}

export type Execution = ExecutionArgs & { contextValue: GraphQLContext };

/** One stage; each hook is optional and runs in the stages' order. */
export interface Stage {
  readonly name: string;
  /** The caller an Authorization value names; throws the refusal. */
  authenticate?(authorization: unknown): Promise<Caller>;
  /** A query text before it is parsed and validated: the refusal, or null. */
  screen?(query: string): GraphQLError | null;
  /** An operation before it runs: throws the GraphQLError that refuses it. */
  admit?(op: Operation): void;
  /** Wraps the execution of a query or mutation (the first stage is the outermost). */
  execute?(args: Execution, next: () => Promise<ExecutionResult>): Promise<ExecutionResult>;
  /** One error as the client will see it. */
  mask?(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError;
  /** Something was sent to a client. */
  answered?(answer: Answer): void;
}

/** What the metrics stage records into (http/metrics.ts's Metrics). */
export interface OperationMetrics {
  observeOperation(name: string | null | undefined, type: string, seconds: number): void;
  readonly errors: { inc(labels: { code: string }): void };
  readonly subscriptions: { inc(): void };
}

export function authenticateStage(verifier: TokenVerifier, logger: Logger): Stage {
  return {
    name: "authenticate",
    async authenticate(authorization) {
      try {
        const token = bearerToken(typeof authorization === "string" ? authorization : null);
        if (!token) throw new LedgerError("UNAUTHENTICATED", "authentication required: send Authorization: Bearer <token>");
        return await verifier.verify(token);
      } catch (e) {
        // Operators need to see why tokens fail (wrong audience, unknown key, JWKS down); never the token itself.
        if (typeof authorization === "string" && authorization.trim() !== "") logger.info({ reason: refusalReason(e) }, "access token refused");
        throw e;
      }
    },
  };
}

/** `check` is the pipeline's remembered validation-budget verdict by query text. */
export function parseCostStage(check: (query: string) => GraphQLError | null): Stage {
  return { name: "parse cost", screen: check };
}

/** A subscription over HTTP is refused before it runs, rather than failing inside its resolver. */
export const transportStage: Stage = {
  name: "transport",
  admit(op) {
    if (op.transport === "http" && operationType(op) === "subscription")
      throw new GraphQLError("subscriptions run over WebSocket (graphql-transport-ws) on /graphql", { extensions: { code: "BAD_REQUEST", http: { status: 400 } } });
  },
};

export const visitorScopeStage: Stage = {
  name: "visitor scope",
  admit(op) {
    if (op.context.caller?.scopes.has(VISITOR_SCOPE)) checkVisitorOperation(op.document, op.operationName);
  },
};

/** Prices the operation and remembers the price on the context, for the slots and the answer budget. */
export function pricingStage(schema: ExecutionArgs["schema"], limits: OperationLimits): Stage {
  return {
    name: "pricing",
    admit(op) {
      const cost = checkOperationLimits({ schema, document: op.document, operationName: op.operationName, variables: op.variables, limits, coercedLater: op.coercedLater === true });
      if (cost) op.context.cost = cost;
    },
  };
}

export function callerSlotsStage(limits: CallerLimits): Stage {
  return {
    name: "caller slots",
    async execute(args, next) {
      const cost = args.contextValue.cost;
      const caller = args.contextValue.caller?.subject;
      if (caller === undefined || (!needsWholeLogSlot(cost) && !needsExportSlot(cost))) return next();
      const inExportSlot = needsExportSlot(cost) ? () => limits.withExportSlot(caller, next) : next;
      try {
        return await (needsWholeLogSlot(cost) ? limits.withWholeLogSlot(caller, inExportSlot) : inExportSlot());
      } catch (e) {
        if (e instanceof LedgerError) return { errors: [new GraphQLError(e.message, { originalError: e, extensions: { code: e.code, http: { status: 429 } } })] };
        throw e;
      }
    },
  };
}

/** Answers priced at more than this (or a sixteenth of the budget) are measured after they are built. */
const MEASURE_FROM_BYTES = 65_536;

/**
 * The static price bounds event data by its cap but other strings by a typical size; an answer priced
 * near the budget is measured once built, and one over MAX_RESPONSE_BYTES is replaced by RESPONSE_TOO_LARGE.
 */
export function answerBudgetStage(budget: number): Stage {
  return {
    name: "answer budget",
    async execute(args, next) {
      const result = await next();
      if ((args.contextValue.cost?.bytes ?? 0) < Math.min(MEASURE_FROM_BYTES, budget / 16) || result.data == null) return result;
      const bytes = JSON.stringify(result.data).length;
      if (bytes <= budget) return result;
      const message = `the answer holds ${bytes} bytes, more than the ${budget} one answer may hold (MAX_RESPONSE_BYTES); ask for fewer items or fewer fields`;
      return { errors: [new GraphQLError(message, { originalError: new LedgerError("RESPONSE_TOO_LARGE", message, { limit: budget }) })] };
    },
  };
}

/**
 * An error without a place in the answer that carries a LedgerError (a refusal of the whole operation
 * by a stage, the end of a stream) is masked as that LedgerError; errors with a path are unwrapped by
 * formatError itself.
 */
export function maskingStage(logger: Logger): Stage {
  return {
    name: "masking",
    mask(formatted, error) {
      const whole = error instanceof GraphQLError && error.path === undefined && error.originalError instanceof LedgerError;
      return formatError(logger, formatted, whole ? error.originalError : error);
    },
  };
}

export function metricsStage(metrics: OperationMetrics): Stage {
  return {
    name: "metrics",
    admit(op) {
      if (operationType(op) === "subscription") metrics.subscriptions.inc();
    },
    answered(answer) {
      if (answer.seconds !== undefined) metrics.observeOperation(answer.operationName, answer.type, answer.seconds);
      for (const code of errorCodes(answer.errors)) metrics.errors.inc({ code });
    },
  };
}

/** The operation's type (query, mutation, subscription), or "unknown" when the document has no such operation. */
export const operationType = (op: Pick<Operation, "document" | "operationName">): string =>
  getOperationAST(op.document, op.operationName ?? undefined)?.operation ?? "unknown";

const needsWholeLogSlot = (cost: OperationCost | undefined): boolean => (cost?.wholeLog ?? 0) > 0;
const needsExportSlot = (cost: OperationCost | undefined): boolean => (cost?.exports ?? 0) > 0;
