// The transaction a command runs in, as plain steps: the application's command handler yields one
// step at a time (lock, read, seal key, append, ...) and an adapter answers each inside its write
// transaction. The flow is written once (application/handle-command.ts); an adapter only says how each
// step is done with its own SQL. Steps are data, reads and writes are separate steps, so a driver may
// also run many handlers in lockstep and serve the steps of one round with one statement per kind.
import type { AsOf, Catalog } from "../domain/catalog.js";
import type { LedgerEvent } from "../domain/events.js";
import type { SubjectState } from "../domain/subject.js";
import type { Instant } from "../domain/time.js";
import type { NewEvent } from "./event-store.js";
import type { CommandOutcome, CommandRequest, IdempotencyKey, SubjectSnapshot } from "./storage-port.js";

/** A version coming into effect that has not been recorded yet. */
export interface DueEffect {
  policyId: string;
  version: number;
  effectiveAt: Instant;
}

/** A grant past its expiry that has not been recorded as expired yet. */
export interface DueExpiry {
  subjectId: string;
  policyId: string;
  purposeId: string;
  expiresAt: Instant;
  grantEventId: string;
}

/** Each step a handler may yield, by kind. */
export interface Steps {
  /** Locks the streams (in the order given: sorted, so two commands never wait on each other in a cycle). */
  lock: { kind: "lock"; streams: readonly string[] };
  /** The events an earlier call with this idempotency key appended (IDEMPOTENCY_CONFLICT on other input). */
  replay: { kind: "replay"; stream: string; idempotency: IdempotencyKey };
  /** A stream's events up to and including log position `through`, in stream order. */
  history: { kind: "history"; stream: string; through: number };
  /** A subject's state as the transaction sees it (a fresh one for a subject never seen). */
  state: { kind: "state"; subjectId: string };
  /**
   * The catalogue. `committed`: as of the adapter's last commit, which may miss a publication made
   * earlier in the same group commit; `transaction`: as the transaction sees the log. An adapter may
   * answer both with the transaction's view.
   */
  catalog: { kind: "catalog"; view: "committed" | "transaction" };
  /** The subject as of (at, knownAt), from the bitemporal read models. */
  viewAt: { kind: "viewAt"; subjectId: string; asOf: AsOf };
  /** Versions coming into effect due by `now`, oldest first, at most `limit`. */
  dueEffects: { kind: "dueEffects"; now: Instant; limit: number };
  /** Grants expired by `now`, oldest first, at most `limit`. */
  dueExpiries: { kind: "dueExpiries"; now: Instant; limit: number };
  /** Whether a grant read as due is still due now that its subject's stream is locked. */
  stillDue: { kind: "stillDue"; expiry: DueExpiry };
  /** The subject's evidence key, made on first use (asked only while the subject is not erased). */
  evidenceKey: { kind: "evidenceKey"; subjectId: string };
  /**
   * Appends after checking the stream's version (null: no check); `before` is the subject's state the
   * events were decided against, when there is one (the read models need its lifecycle).
   */
  append: { kind: "append"; stream: string; expectedVersion: number | null; events: readonly NewEvent[]; before: SubjectState | null };
  /** Erasure: destroys the subject's evidence key and drops its stream's idempotency records. */
  erase: { kind: "erase"; subjectId: string; stream: string };
  /** Keeps an idempotency key's answer (the events appended) for a later call with the same key. */
  remember: { kind: "remember"; stream: string; idempotency: IdempotencyKey; events: readonly LedgerEvent[] };
}

/** What each step answers, by kind. */
export interface StepResults {
  lock: number[];
  replay: LedgerEvent[] | null;
  history: LedgerEvent[];
  state: SubjectState;
  catalog: Catalog;
  viewAt: SubjectSnapshot;
  dueEffects: DueEffect[];
  dueExpiries: DueExpiry[];
  stillDue: boolean;
  evidenceKey: Uint8Array;
  append: LedgerEvent[];
  erase: void;
  remember: void;
}

export type StepKind = keyof Steps;
export type Step = Steps[StepKind];
export type StepResult = StepResults[StepKind];

/** A command's flow: yields steps, receives their answers, returns the outcome. */
export type CommandFlow = Generator<Step, CommandOutcome, StepResult>;

/** An adapter's answer to every kind of step, synchronously (SQLite, inside its write transaction). */
export type SyncStepRunner = { [K in StepKind]: (step: Steps[K]) => StepResults[K] };
/** An adapter's answer to every kind of step, asynchronously (PostgreSQL, in its transaction). */
export type AsyncStepRunner = { [K in StepKind]: (step: Steps[K]) => Promise<StepResults[K]> };

/**
 * The command handler an adapter drives. An adapter running its writes on another thread imports
 * `module` there and takes its export `commandProgram`.
 */
export interface CommandProgram {
  handle(request: CommandRequest): CommandFlow;
  /** The URL of a module exporting this program as `commandProgram`. */
  readonly module: string;
}

function runOne<K extends StepKind>(runner: SyncStepRunner, step: Steps[K]): StepResults[K];
function runOne(runner: SyncStepRunner, step: Step): StepResult {
  return (runner[step.kind] as (s: Step) => StepResult)(step);
}

function runOneAsync(runner: AsyncStepRunner, step: Step): Promise<StepResult> {
  return (runner[step.kind] as (s: Step) => Promise<StepResult>)(step);
}

/** Runs a flow to its end, each step answered at once; a throw from a step or the flow ends it. */
export function driveSync<R>(flow: Generator<Step, R, StepResult>, runner: SyncStepRunner): R {
  let next = flow.next();
  while (!next.done) next = flow.next(runOne(runner, next.value));
  return next.value;
}

/** Runs a flow to its end, awaiting each step's answer; a rejection from a step or a throw from the flow ends it. */
export async function drive<R>(flow: Generator<Step, R, StepResult>, runner: AsyncStepRunner): Promise<R> {
  let next = flow.next();
  while (!next.done) next = flow.next(await runOneAsync(runner, next.value));
  return next.value;
}
