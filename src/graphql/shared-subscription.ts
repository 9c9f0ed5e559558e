// Subscription fan-out: one committed change reaches every subscriber as the same source value, and
// the subscribers who must receive the same bytes for it share one execution of their selection.
import { type ASTNode, type DocumentNode, type ExecutionArgs, type ExecutionResult, Kind, createSourceEventStream, execute, getOperationAST, visit } from "graphql";
import { mayReadPersonal } from "../auth/authorize.js";
import { noteFeedReveals } from "./access-log.js";
import type { GraphQLContext } from "./context.js";

type Result = ExecutionResult | Promise<ExecutionResult>;

/** One shared execution and the subscriber's context it ran in. */
interface Execution {
  result: Result;
  by: GraphQLContext;
}

/**
 * The executions of one source value (an event, a consent change), by sharing group. Keyed weakly:
 * an entry lives as long as some subscriber still has the value queued.
 */
const executions = new WeakMap<object, Map<string, Execution>>();

/**
 * The subject whose personal data a source value shows: a consent change shows its event's data, an
 * event its own. A change a version coming into effect caused names a subject, but its event (the
 * publication) has none, so its evidence is visible only to ledger:read, as presentEventData decides.
 */
export function personalSubjectOf(root: object): string | null {
  const event = "event" in root && typeof root.event === "object" && root.event !== null ? root.event : root;
  return "subjectId" in event && typeof event.subjectId === "string" ? event.subjectId : null;
}

/**
 * Which subscribers of a source value get the same bytes: the same operation (query text, operation
 * name, variables; `operationKey`) and the same visibility of personal data (LedgerEvent.data is
 * opened for the subject and ledger:read, redacted for everyone else). Nothing else in a
 * subscription's selection depends on the caller.
 */
export function sharingKey(operationKey: string, context: GraphQLContext, root: object): string {
  return `${mayReadPersonal(context.caller, personalSubjectOf(root)) ? "open" : "redacted"}\u0000${operationKey}`;
}

/**
 * The operation part of a sharing key: two subscribe messages with the same key run the same selection.
 * The root fields' arguments (a subscription's filters and `after` cursor) choose which values its
 * source stream yields, not what a value's message holds, so variables used only there are left out:
 * subscribers resuming from different cursors share once they are live.
 */
export function operationKeyOf(
  document: DocumentNode,
  payload: { query: string; operationName?: string | null; variables?: Record<string, unknown> | null },
): string {
  const used = variablesShaping(document, payload.operationName ?? undefined);
  const variables = Object.entries(payload.variables ?? {}).filter(([name]) => used.has(name));
  return JSON.stringify([payload.query, payload.operationName ?? null, variables]);
}

/** The variables a message's content may depend on: all the operation uses except in its root fields' arguments. */
function variablesShaping(document: DocumentNode, operationName: string | undefined): Set<string> {
  const used = new Set<string>();
  const collect = (node: ASTNode) =>
    visit(node, {
      Variable(v) {
        used.add(v.name.value);
      },
    });
  const op = getOperationAST(document, operationName);
  if (!op) return used;
  for (const s of op.selectionSet.selections) {
    if (s.kind !== Kind.FIELD) collect(s);
    else {
      for (const d of s.directives ?? []) collect(d);
      if (s.selectionSet) collect(s.selectionSet);
    }
  }
  for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) collect(d);
  return used;
}

/**
 * graphql's subscribe (the source stream, then the selection executed for each value), except that a
 * value's execution is shared with the other subscribers of the same sharing key: the first to reach
 * the value executes it, the others take the same result object.
 */
export async function subscribeShared(args: ExecutionArgs, operationKey: string): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> {
  const stream = await createSourceEventStream(args);
  if (!isAsyncIterable(stream)) return stream;
  const context = args.contextValue as GraphQLContext;
  const run = (root: unknown): Result => {
    if (typeof root !== "object" || root === null) return execute({ ...args, rootValue: root });
    const key = sharingKey(operationKey, context, root);
    let byKey = executions.get(root);
    if (!byKey) executions.set(root, (byKey = new Map()));
    let shared = byKey.get(key);
    if (shared === undefined) byKey.set(key, (shared = { result: execute({ ...args, rootValue: root }), by: context }));
    const { result, by } = shared;
    // Each subscriber's reads of personal evidence are its own, though the execution is shared.
    if (!(result instanceof Promise)) {
      noteFeedReveals(context, root, by);
      return result;
    }
    return result.then((r) => {
      noteFeedReveals(context, root, by);
      return r;
    });
  };
  return mapResults(stream, run);
}

const isAsyncIterable = (v: unknown): v is AsyncIterable<unknown> => typeof v === "object" && v !== null && Symbol.asyncIterator in v;

/** graphql's mapAsyncIterator: each source value mapped, and the source closed when mapping fails. */
function mapResults(source: AsyncIterable<unknown>, map: (value: unknown) => Result): AsyncIterableIterator<ExecutionResult> {
  const iterator = source[Symbol.asyncIterator]();
  const close = async () => {
    try {
      await iterator.return?.();
    } catch {
      // Keep the original error when closing the source also fails.
    }
  };
  const mapped = async (r: IteratorResult<unknown>): Promise<IteratorResult<ExecutionResult>> => {
    if (r.done) return { value: undefined, done: true };
    try {
      return { value: await map(r.value), done: false };
    } catch (e) {
      await close();
      throw e;
    }
  };
  return {
    async next() {
      return mapped(await iterator.next());
    },
    async return() {
      return iterator.return ? mapped(await iterator.return()) : { value: undefined, done: true };
    },
    async throw(error: unknown) {
      if (iterator.throw) return mapped(await iterator.throw(error));
      await close();
      throw error;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
