// The one command flow: lock the streams, replay an idempotency key or read the state and the
// catalogue, decide with the domain, seal personal values under the subject's evidence key, append
// with the expected version, shred on erasure, remember the idempotency answer, read the subject back.
//
// It is a generator of steps (storage/command-steps.ts), so it is written once for every adapter:
// SQLite answers each step synchronously inside its write transaction (driveSync), PostgreSQL with
// `await` inside the command's savepoint of its group commit (drive). The handler locks every stream
// it writes in one `lock` step (ids sorted) before it reads them, and reads and writes are separate
// steps. A batch driver can therefore run N handlers in lockstep: call `next` on each, gather the
// steps they yield in that round, answer all steps of one kind with one statement (one lock of N
// streams, one read of N subjects, one append of N commands' events), feed each handler its answer,
// and repeat until all have returned; a handler that throws is rolled back alone, as now.
import type { Catalog } from "../domain/catalog.js";
import {
  CLOCK_STREAM,
  SYSTEM_CLOCK,
  type CommandBounds,
  type MergeSubjects,
  type RecordDueChanges,
  type RecordThirdPartyTransfer,
  type SubjectCommand,
  announcementStream,
  decideAnnouncement,
  decidePublication,
  decideSubjectCommand,
  shredsEvidence,
} from "../domain/command.js";
import { requireActive } from "../domain/decide.js";
import type { Actor, DomainEvent, LedgerEvent, Personal } from "../domain/events.js";
import { policyStream, subjectStream } from "../domain/events.js";
import { checkPseudonymousSubject } from "../domain/identifiers.js";
import { decideMerge } from "../domain/merge.js";
import { viewOf } from "../domain/permission.js";
import { type SubjectState, foldSubject } from "../domain/subject.js";
import { checkTransfer, decideTransfer } from "../domain/transfer.js";
import { hasPlain, sealEvent, sealWith } from "../evidence/seal.js";
import type { CommandFlow, CommandProgram, Step, StepKind, StepResult, StepResults, Steps } from "../storage/command-steps.js";
import type { CommandOutcome, CommandRequest } from "../storage/storage-port.js";

type Flow<T> = Generator<Step, T, StepResult>;

/** One step, typed by its kind: `const state = yield* ask({ kind: "state", subjectId })`. */
function* ask<K extends StepKind>(step: Steps[K] & { kind: K }): Flow<StepResults[K]> {
  return (yield step) as StepResults[K];
}

const none = (events: LedgerEvent[] = []): CommandOutcome => ({ events, subject: null, replayed: false });

/** Runs one command; the request's subject id has been checked by the caller. */
export function* handleCommand(request: CommandRequest): CommandFlow {
  const { command, actor, now } = request;
  switch (command.kind) {
    case "publishPolicyVersion": {
      const policyId = command.input.policyId;
      const stream = policyStream(policyId);
      const [version] = yield* ask({ kind: "lock", streams: [stream] });
      // A publication of this policy earlier in the same group commit makes the committed catalogue
      // stale: then decide against the log as the transaction sees it.
      let catalog = yield* ask({ kind: "catalog", view: "committed" });
      if (version !== (catalog.get(policyId)?.versions.length ?? 0)) catalog = yield* ask({ kind: "catalog", view: "transaction" });
      const e = decidePublication(command, catalog, now);
      if (e === null) return none();
      return none(yield* ask({ kind: "append", stream, expectedVersion: version!, events: [{ ...e, actor, subjectId: null }], before: null }));
    }
    case "recordPolicyAnnouncement": {
      const stream = announcementStream(command.policyId);
      const [version] = yield* ask({ kind: "lock", streams: [stream] });
      const e = decideAnnouncement(command, yield* ask({ kind: "catalog", view: "transaction" }), now);
      return none(yield* ask({ kind: "append", stream, expectedVersion: version!, events: [{ ...e, actor, subjectId: null }], before: null }));
    }
    case "recordThirdPartyTransfer":
      return none(yield* recordTransfers(command, actor, now, request.bounds ?? {}));
    case "mergeSubjects":
      return yield* merge(command, actor, now, request.bounds?.allowIdentifyingSubjectIds ?? false);
    case "recordDueChanges":
      return none(yield* recordDue(command, now));
    default:
      return yield* subjectCommand(command, request);
  }
}

/** The handler as the adapters take it. */
export const commandProgram: CommandProgram = { handle: handleCommand, module: import.meta.url };

/** A command on one subject's stream, replayed when its idempotency key was used before. */
function* subjectCommand(command: SubjectCommand, request: CommandRequest): CommandFlow {
  const { subjectId } = command;
  const stream = subjectStream(subjectId);
  const idem = request.idempotency ?? null;
  yield* ask({ kind: "lock", streams: [stream] });
  if (idem) {
    const replayed = yield* ask({ kind: "replay", stream, idempotency: idem });
    if (replayed) {
      // The first call's answer: the subject as that call left it, not as later calls changed it.
      const history = yield* ask({ kind: "history", stream, through: replayed.at(-1)!.position });
      return { events: replayed, subject: foldSubject(subjectId, history), replayed: true };
    }
  }
  const state = yield* ask({ kind: "state", subjectId });
  const decided = decideSubjectCommand(command, state, yield* ask({ kind: "catalog", view: "committed" }), request.now, request.bounds);
  const events = yield* appendFor(state, request.actor, decided);
  // Crypto-shredding, in the erasing transaction: the evidence key and the idempotency digests
  // (which cover personal input) go together with the SubjectErased event.
  if (shredsEvidence(decided)) yield* ask({ kind: "erase", subjectId, stream });
  else if (idem) yield* ask({ kind: "remember", stream, idempotency: idem, events });
  return { events, subject: yield* ask({ kind: "state", subjectId }), replayed: false };
}

/**
 * Seals a subject's decided events under its key and appends them with its expected version. One
 * call's events share its evidence: each value is sealed once. An erased subject's key is gone for
 * good (asking would make a new one): its personal values are dropped.
 */
function* appendFor(state: SubjectState, actor: Actor, decided: readonly DomainEvent[]): Flow<LedgerEvent[]> {
  if (decided.length === 0) return [];
  const subjectId = state.id;
  const key = state.status !== "ERASED" && decided.some(hasPlain) ? yield* ask({ kind: "evidenceKey", subjectId }) : null;
  const sealedOnce = new Map<unknown, Personal<unknown>>();
  const seal = (v: unknown): Personal<unknown> => {
    if (key === null) return { erased: true };
    let p = sealedOnce.get(v);
    if (!p) sealedOnce.set(v, (p = sealWith(key, subjectId, v)));
    return p;
  };
  const events = decided.map((e) => ({ ...sealEvent(e, seal), actor, subjectId }));
  return yield* ask({ kind: "append", stream: subjectStream(subjectId), expectedVersion: state.version, events, before: state });
}

/** Stream ids of subjects, each once, sorted (the one lock order every command keeps). */
const subjectStreams = (ids: Iterable<string>): string[] => [...new Set(ids)].sort().map(subjectStream);

/** One transfer record per subject, all or none; a provision on consent needs each subject's permission at occurredAt. */
function* recordTransfers(command: RecordThirdPartyTransfer, actor: Actor, now: number, bounds: CommandBounds): Flow<LedgerEvent[]> {
  const { input } = command;
  const catalog: Catalog = yield* ask({ kind: "catalog", view: "committed" });
  const counterparty = checkTransfer(input, catalog, now);
  yield* ask({ kind: "lock", streams: subjectStreams(input.subjectIds) });
  const out: LedgerEvent[] = [];
  for (const [i, subjectId] of input.subjectIds.entries()) {
    const state = yield* ask({ kind: "state", subjectId });
    checkPseudonymousSubject(subjectId, state.version === 0, bounds.allowIdentifyingSubjectIds ?? false);
    if (state.status === "ERASED" || state.status === "MERGED") requireActive(state);
    const view = input.direction === "PROVIDED" ? viewOf(yield* ask({ kind: "viewAt", subjectId, asOf: { at: input.occurredAt, knownAt: now } })) : null;
    const decided = decideTransfer(input, counterparty, command.transferIds[i]!, {
      catalog,
      view,
      now,
      defaultPolicyId: bounds.defaultPolicyId ?? null,
      ...(bounds.adequateCountries ? { adequateCountries: bounds.adequateCountries } : {}),
    });
    out.push(...(yield* appendFor(state, actor, [decided])));
  }
  return out;
}

/** `from`'s choices carried into `into`, and `from` marked MERGED, in one transaction. */
function* merge(command: MergeSubjects, actor: Actor, now: number, allowIdentifying: boolean): CommandFlow {
  yield* ask({ kind: "lock", streams: subjectStreams([command.from, command.into]) });
  const source = yield* ask({ kind: "state", subjectId: command.from });
  const target = yield* ask({ kind: "state", subjectId: command.into });
  checkPseudonymousSubject(command.into, target.version === 0, allowIdentifying);
  const { fromEvents, intoEvents } = decideMerge(source, target, now);
  const events = [...(yield* appendFor(target, actor, intoEvents)), ...(yield* appendFor(source, actor, fromEvents))];
  return { events, subject: yield* ask({ kind: "state", subjectId: command.into }), replayed: false };
}

/**
 * The expiries and versions coming into effect due by `now`, as system events. The clock stream's
 * lock serialises these runs; the expiring subjects' streams are locked before their state is read,
 * and a grant replaced meanwhile is no longer due.
 */
function* recordDue(command: RecordDueChanges, now: number): Flow<LedgerEvent[]> {
  const [clockVersion] = yield* ask({ kind: "lock", streams: [CLOCK_STREAM] });
  const out: LedgerEvent[] = [];
  const effects = yield* ask({ kind: "dueEffects", now, limit: command.limit });
  if (effects.length > 0) {
    const events = effects.map((v) => ({
      type: "PolicyVersionEffective" as const,
      occurredAt: v.effectiveAt,
      data: { policyId: v.policyId, version: v.version },
      actor: SYSTEM_CLOCK,
      subjectId: null,
    }));
    out.push(...(yield* ask({ kind: "append", stream: CLOCK_STREAM, expectedVersion: clockVersion!, events, before: null })));
  }
  const expiries = yield* ask({ kind: "dueExpiries", now, limit: command.limit });
  if (expiries.length > 0) yield* ask({ kind: "lock", streams: subjectStreams(expiries.map((x) => x.subjectId)) });
  for (const x of expiries) {
    if (!(yield* ask({ kind: "stillDue", expiry: x }))) continue;
    const state = yield* ask({ kind: "state", subjectId: x.subjectId });
    const expired: DomainEvent = { type: "ConsentExpired", occurredAt: x.expiresAt, data: { policyId: x.policyId, purposeId: x.purposeId, grantEventId: x.grantEventId } };
    out.push(...(yield* appendFor(state, SYSTEM_CLOCK, [expired])));
  }
  return out;
}
