// Domain values -> the shapes the GraphQL types expose; no rule lives here, only translation.
import { mayReadPersonal } from "../auth/authorize.js";
import type { Caller } from "../auth/scopes.js";
import type { LedgerEvent } from "../domain/events.js";
import type { Decision } from "../domain/permission.js";
import { type DataRequestState, type SubjectState, isOverdue } from "../domain/subject.js";
import { withIsoInstants } from "../domain/time.js";
import type { Ledger } from "../ledger.js";
import { canonicalJson, hashedContent } from "../log/canonical.js";
import { encodePosition } from "../log/position.js";
import type { ConsentStateType, PermissionDecisionType } from "./types/consent-types.js";
import type { EventConnectionType, LedgerEventType } from "./types/event-types.js";
import type { DataRequestType, SubjectType } from "./types/subject-types.js";
import type { ThirdPartyTransferType } from "./types/transfer-types.js";

export const presentSubject = (s: SubjectState): SubjectType => ({ id: s.id, status: s.status, version: s.version });

/** What a personal member of event data reads for a caller who may not read it. */
export const REDACTED = Object.freeze({ redacted: true });

const isPersonal = (v: unknown): boolean => typeof v === "object" && v !== null && ("sealed" in v || "erased" in v || "plain" in v);

/**
 * An event's data as `caller` may see it: personal members opened for the subject itself and for
 * `ledger:read`, `{ "redacted": true }` for everyone else (nothing is decrypted for them). The one
 * place event data is presented, for history, the feed and the subscriptions alike.
 */
export function presentEventData(
  ledger: Ledger,
  event: LedgerEventType,
  caller: Caller | null,
): Record<string, unknown> | Promise<Record<string, unknown>> {
  const e = event.source;
  // One presented event is shared by every subscriber of the feed: decrypt it once, for the first who may read it.
  if (mayReadPersonal(caller, e.subjectId)) return (event.revealed ??= (event.revealWith?.() ?? ledger.reveal(e)).then(withIsoInstants));
  const data: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(e.data as Record<string, unknown>)) data[k] = isPersonal(v) ? REDACTED : v;
  return withIsoInstants(data);
}

/** An event for the API; its `data` is presented per caller, by LedgerEventResolver, from `source`. */
export function presentEvent(e: LedgerEvent): LedgerEventType {
  let canonical: string | undefined;
  return {
    id: e.id,
    position: encodePosition(e.position),
    type: e.type,
    streamId: e.streamId,
    streamVersion: e.streamVersion,
    schemaVersion: e.schemaVersion,
    subjectId: e.subjectId,
    occurredAt: e.occurredAt,
    recordedAt: e.recordedAt,
    actor: e.actor,
    source: e,
    prevHash: e.prevHash,
    hash: e.hash,
    // Computed only when a client asks for it, and once however many aliases or subscribers ask.
    get canonical() {
      return (canonical ??= canonicalJson(hashedContent(e)));
    },
  };
}

/**
 * Events presented together (a page, a command's events): the first caller who may read their
 * evidence opens all of them at once, each subject's key read once.
 */
export function presentEvents(ledger: Ledger, events: readonly LedgerEvent[]): LedgerEventType[] {
  let all: Promise<Record<string, unknown>[]> | undefined;
  return events.map((e, i) => {
    const node = presentEvent(e);
    node.revealWith = () => (all ??= ledger.revealAll(events)).then((d) => d[i]!);
    return node;
  });
}

/** One commit's events reach every subscriber as the same objects: each is presented (its evidence opened) once. */
const presented = new WeakMap<LedgerEvent, LedgerEventType>();

export function presentOnce(e: LedgerEvent): LedgerEventType {
  let p = presented.get(e);
  if (!p) presented.set(e, (p = presentEvent(e)));
  return p;
}

/** A page of events; asks for one more than `first` to know whether another page follows. */
export function presentPage(ledger: Ledger, events: LedgerEvent[], first: number): EventConnectionType {
  const edges = presentEvents(ledger, events.slice(0, first)).map((node) => ({ cursor: node.position, node }));
  return { edges, pageInfo: { hasNextPage: events.length > first, endCursor: edges.at(-1)?.cursor ?? null } };
}

export const presentConsent = (d: Decision): ConsentStateType => ({
  policyId: d.policyId,
  purpose: d.purpose,
  status: d.status,
  permitted: d.permitted,
  reason: d.reason,
  since: d.since,
  expiresAt: d.expiresAt,
  policyVersion: d.policyVersion,
  eventId: d.eventId,
  coveredRecipients: d.coveredRecipients,
  coveredDataCategories: d.coveredDataCategories,
});

export const presentDecision = (subjectId: string, d: Decision): PermissionDecisionType => ({
  subjectId,
  policyId: d.policyId,
  purposeId: d.purposeId,
  permitted: d.permitted,
  status: d.status,
  reason: d.reason,
  policyVersion: d.policyVersion,
  since: d.since,
  expiresAt: d.expiresAt,
});

export async function presentDataRequest(ledger: Ledger, r: DataRequestState): Promise<DataRequestType> {
  // The officer's closing note is the officer's own record and outlives erasure; the requester's note is sealed.
  const note = r.closingNote ?? (await ledger.openPersonal(r.subjectId, r.note));
  const now = ledger.now();
  return {
    id: r.id,
    subjectId: r.subjectId,
    kind: r.kind,
    status: r.status,
    openedAt: r.openedAt,
    dueAt: r.dueAt,
    closedAt: r.closedAt,
    note: typeof note === "string" ? note : note === null ? null : "[erased]",
    overdue: isOverdue(r, now),
    purposeIds: r.purposeIds,
    identityCheck: await ledger.identityCheck(r),
  };
}

export function presentTransfer(e: LedgerEvent): ThirdPartyTransferType {
  if (e.type !== "ThirdPartyTransferRecorded") throw new Error(`not a transfer record: ${e.type}`);
  return {
    id: e.data.transferId,
    subjectId: e.subjectId!,
    direction: e.data.direction,
    // Records made before recipients carried equivalentMeasures read false.
    counterparty: { equivalentMeasures: false, ...e.data.counterparty },
    purposeId: e.data.purposeId,
    dataCategories: e.data.dataCategories,
    basis: e.data.basis,
    occurredAt: e.occurredAt,
    recordedAt: e.recordedAt,
    retainUntil: e.data.retainUntil,
    provider: e.data.provider ?? null,
  };
}
