// One command inside the SQLite write transaction: read the state there, decide, seal, append, project.
import type { Catalog } from "../../domain/catalog.js";
import {
  CLOCK_STREAM,
  SYSTEM_CLOCK,
  type CommandBounds,
  type MergeSubjects,
  type RecordDueChanges,
  type RecordThirdPartyTransfer,
  announcementStream,
  decideAnnouncement,
  decidePublication,
  decideSubjectCommand,
  shredsEvidence,
} from "../../domain/command.js";
import { checkId, requireActive } from "../../domain/decide.js";
import { checkPseudonymousSubject } from "../../domain/identifiers.js";
import { decideMerge } from "../../domain/merge.js";
import { viewOf } from "../../domain/permission.js";
import { checkTransfer, decideTransfer } from "../../domain/transfer.js";
import type { Actor, DomainEvent, LedgerEvent, Personal } from "../../domain/events.js";
import { policyStream, subjectStream } from "../../domain/events.js";
import { type SubjectState, foldSubject } from "../../domain/subject.js";
import { sealEvent } from "../../evidence/seal.js";
import type { NewEvent, WriteTx } from "../event-store.js";
import type { CommandOutcome, CommandRequest } from "../storage-port.js";
import type { KeyVault } from "./key-vault.js";
import type { SqliteProjections } from "./projections.js";
import type { SqliteEventStore } from "./sqlite-event-store.js";

export interface CommandContext {
  store: SqliteEventStore;
  projections: SqliteProjections;
  vault: KeyVault;
  /** The catalogue as committed; publications earlier in the same group commit are not in it yet. */
  catalog: () => Catalog;
  /** The catalogue as the write transaction sees it, uncommitted publications included. */
  loadCatalog: () => Catalog;
}

/** Runs `request` in the open write transaction `tx`; a throw rolls back this command only. */
export function runCommand(ctx: CommandContext, tx: WriteTx, request: CommandRequest): CommandOutcome {
  const { command, actor, now } = request;
  if (command.kind === "publishPolicyVersion") {
    const policyId = command.input.policyId;
    const stream = policyStream(policyId);
    // Another publication of this policy earlier in the same group commit makes the committed
    // catalogue stale: then decide against the log as the transaction sees it.
    const committed = ctx.catalog();
    const stale = tx.streamVersion(stream) !== (committed.get(policyId)?.versions.length ?? 0);
    const e = decidePublication(command, stale ? ctx.loadCatalog() : committed, now);
    if (e === null) return { events: [], subject: null, replayed: false };
    const events = tx.append(stream, tx.streamVersion(stream), [{ ...e, actor, subjectId: null }]);
    return { events, subject: null, replayed: false };
  }
  if (command.kind === "recordPolicyAnnouncement") {
    const stream = announcementStream(command.policyId);
    const e = decideAnnouncement(command, ctx.loadCatalog(), now);
    return { events: tx.append(stream, tx.streamVersion(stream), [{ ...e, actor, subjectId: null }]), subject: null, replayed: false };
  }
  const allowIdentifying = request.bounds?.allowIdentifyingSubjectIds ?? false;
  if (command.kind === "recordThirdPartyTransfer") return { events: recordTransfers(ctx, tx, command, actor, now, request.bounds ?? {}), subject: null, replayed: false };
  if (command.kind === "mergeSubjects") return { events: merge(ctx, tx, command, actor, now, allowIdentifying), subject: ctx.projections.subject(command.into), replayed: false };
  if (command.kind === "recordDueChanges") return { events: recordDue(ctx, tx, command, now), subject: null, replayed: false };
  const subjectId = command.subjectId;
  checkId("subjectId", subjectId);
  const stream = subjectStream(subjectId);
  const idem = request.idempotency ?? null;
  if (idem) {
    const replayed = tx.replay(stream, idem);
    if (replayed) {
      // The first call's payload: the subject as that call left it, not as later calls changed it.
      const upTo = replayed.at(-1)!.position;
      const history = ctx.store.readStream(stream).filter((e) => e.position <= upTo);
      return { subject: foldSubject(subjectId, history), events: replayed, replayed: true };
    }
  }
  const state = ctx.projections.subject(subjectId);
  const decided = decideSubjectCommand(command, state, ctx.catalog(), now, request.bounds);
  const events = append(ctx, tx, state, actor, decided);
  // Crypto-shredding, in the erasing transaction: the evidence key and the idempotency digests
  // (which cover personal input) go together with the SubjectErased event.
  if (shredsEvidence(decided)) {
    ctx.vault.destroy(subjectId);
    tx.forget(stream);
  }
  if (idem) tx.remember(stream, idem, events);
  return { events, subject: ctx.projections.subject(subjectId), replayed: false };
}

/** Appends a subject's decided events with its expected version, sealing personal values under its key. */
function append(ctx: CommandContext, tx: WriteTx, state: SubjectState, actor: Actor, events: DomainEvent[]): LedgerEvent[] {
  if (events.length === 0) return [];
  const subjectId = state.id;
  // An erased subject's key is gone for good: sealing would mint a new one, so personal values are dropped.
  // One call's events share its evidence: seal each value once, not once per event.
  const sealedOnce = new Map<unknown, Personal<unknown>>();
  const seal = (v: unknown): Personal<unknown> => {
    if (state.status === "ERASED") return { erased: true };
    let p = sealedOnce.get(v);
    if (!p) sealedOnce.set(v, (p = ctx.vault.seal(subjectId, v)));
    return p;
  };
  const out: NewEvent[] = events.map((e) => ({ ...sealEvent(e, seal), actor, subjectId }));
  return tx.append(subjectStream(subjectId), state.version, out);
}

/** One transfer record per subject, all or none; a provision on consent needs each subject's permission at occurredAt. */
function recordTransfers(ctx: CommandContext, tx: WriteTx, command: RecordThirdPartyTransfer, actor: Actor, now: number, bounds: CommandBounds): LedgerEvent[] {
  const { input } = command;
  const catalog = ctx.catalog();
  const counterparty = checkTransfer(input, catalog, now);
  const out: LedgerEvent[] = [];
  for (const [i, subjectId] of input.subjectIds.entries()) {
    const state = ctx.projections.subject(subjectId);
    checkPseudonymousSubject(subjectId, state.version === 0, bounds.allowIdentifyingSubjectIds ?? false);
    if (state.status === "ERASED" || state.status === "MERGED") requireActive(state);
    const view = input.direction === "PROVIDED" ? viewOf(ctx.projections.viewAt(subjectId, { at: input.occurredAt, knownAt: now })) : null;
    const decided = decideTransfer(input, counterparty, command.transferIds[i]!, { catalog, view, now, defaultPolicyId: bounds.defaultPolicyId ?? null, ...(bounds.adequateCountries ? { adequateCountries: bounds.adequateCountries } : {}) });
    out.push(...append(ctx, tx, state, actor, [decided]));
  }
  return out;
}

/** `from`'s choices carried into `into`, and `from` marked MERGED, in one transaction. */
function merge(ctx: CommandContext, tx: WriteTx, command: MergeSubjects, actor: Actor, now: number, allowIdentifying: boolean): LedgerEvent[] {
  const source = ctx.projections.subject(command.from);
  const target = ctx.projections.subject(command.into);
  checkPseudonymousSubject(command.into, target.version === 0, allowIdentifying);
  const { fromEvents, intoEvents } = decideMerge(source, target, now);
  return [...append(ctx, tx, target, actor, intoEvents), ...append(ctx, tx, source, actor, fromEvents)];
}

/** The expiries and versions coming into effect due by `now`, found through their indexes, as system events. */
function recordDue(ctx: CommandContext, tx: WriteTx, command: RecordDueChanges, now: number): LedgerEvent[] {
  const out: LedgerEvent[] = [];
  for (const v of ctx.projections.dueEffects(now, command.limit))
    out.push(
      ...tx.append(CLOCK_STREAM, null, [
        { type: "PolicyVersionEffective", occurredAt: v.effectiveAt, data: { policyId: v.policyId, version: v.version }, actor: SYSTEM_CLOCK, subjectId: null },
      ]),
    );
  for (const x of ctx.projections.dueExpiries(now, command.limit)) {
    const state = ctx.projections.subject(x.subjectId);
    out.push(
      ...append(ctx, tx, state, SYSTEM_CLOCK, [
        { type: "ConsentExpired", occurredAt: x.expiresAt, data: { policyId: x.policyId, purposeId: x.purposeId, grantEventId: x.grantEventId } },
      ]),
    );
  }
  return out;
}
