// One command inside the SQLite write transaction: read the state there, decide, seal, append, project.
import type { Catalog } from "../../domain/catalog.js";
import { decidePublication, decideSubjectCommand, shredsEvidence } from "../../domain/command.js";
import { checkId } from "../../domain/decide.js";
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
    const events = tx.append(stream, tx.streamVersion(stream), [{ ...e, actor, subjectId: null }]);
    return { events, subject: null, replayed: false };
  }
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
