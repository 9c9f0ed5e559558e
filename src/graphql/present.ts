// Domain values -> the shapes the GraphQL types expose; no rule lives here, only translation.
import type { LedgerEvent } from "../domain/events.js";
import type { Decision } from "../domain/permission.js";
import { type DataRequestState, type SubjectState, isOverdue } from "../domain/subject.js";
import { toIso } from "../domain/time.js";
import type { Ledger } from "../ledger.js";
import { canonicalJson, hashedContent } from "../log/canonical.js";
import { encodePosition } from "../log/position.js";
import type { ConsentStateType, PermissionDecisionType } from "./types/consent-types.js";
import type { EventConnectionType, LedgerEventType } from "./types/event-types.js";
import type { DataRequestType, SubjectType } from "./types/subject-types.js";

export const presentSubject = (s: SubjectState): SubjectType => ({ id: s.id, status: s.status, version: s.version });

/** Members of event data that hold instants (epoch ms inside), shown as RFC 3339 like every DateTime. */
const INSTANT_KEYS = new Set(["expiresAt", "effectiveAt", "dueAt"]);

function withIsoInstants(data: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(data)) out[k] = INSTANT_KEYS.has(k) && typeof v === "number" ? toIso(v) : v;
  return out;
}

export async function presentEvent(ledger: Ledger, e: LedgerEvent): Promise<LedgerEventType> {
  return presentRevealed(e, await ledger.reveal(e));
}

/** An event with its data as revealed (sealed members opened while the subject's key exists). */
export function presentRevealed(e: LedgerEvent, data: Record<string, unknown>): LedgerEventType {
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
    data: withIsoInstants(data),
    prevHash: e.prevHash,
    hash: e.hash,
    // Computed only when a client asks for it.
    get canonical() {
      return canonicalJson(hashedContent(e));
    },
  };
}

/** A page of events; asks for one more than `first` to know whether another page follows. */
export async function presentPage(ledger: Ledger, events: LedgerEvent[], first: number): Promise<EventConnectionType> {
  const page = events.slice(0, first);
  const revealed = await ledger.revealAll(page);
  const edges = page.map((e, i) => {
    const node = presentRevealed(e, revealed[i]!);
    return { cursor: node.position, node };
  });
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
  const note = await ledger.openPersonal(r.subjectId, r.note);
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
  };
}
