// Data requests (disclosure, correction, deletion, suspension): opening, extending, verifying the
// requester's identity and closing, with what fulfilling one does to the subject.
import type { Catalog } from "./catalog.js";
import { checkId, checkList, checkText } from "./checks.js";
import { decideErase, decideSuspend } from "./decide-lifecycle.js";
import { LedgerError, badInput } from "./errors.js";
import type { DataRequestKind, DomainEvent } from "./events.js";
import { type SubjectState, identityLabelOf } from "./subject.js";
import { DAY_MS, type Instant } from "./time.js";

export interface OpenDataRequestCommand {
  requestId: string;
  kind: DataRequestKind;
  note: string | null;
  dueDays: number;
  /** For a SUSPENSION: only these purposes; null or empty for all. */
  purposeIds?: readonly string[] | null;
  /** Opened by an officer (subject:admin): a DISCLOSURE may then be opened for an erased subject (APPI Art. 33(5)). */
  byOfficer?: boolean;
}

export const DEFAULT_MAX_OPEN_REQUESTS = 5;

/** The longest note a requester may attach; an officer's closing note may be longer. */
export const REQUEST_NOTE_LENGTH = 1_000;

/**
 * `maxOpen`: requests the subject may have open at once (MAX_OPEN_DATA_REQUESTS); `catalog`: the
 * purposes a scoped SUSPENSION may name.
 */
export function decideOpenDataRequest(
  cmd: OpenDataRequestCommand,
  state: SubjectState,
  now: Instant,
  maxOpen: number = DEFAULT_MAX_OPEN_REQUESTS,
  catalog?: Catalog,
): DomainEvent[] {
  // What is kept of an erased subject (transfer records) is still disclosed, on an officer's request.
  if (state.status === "ERASED" && !(cmd.kind === "DISCLOSURE" && cmd.byOfficer === true))
    throw new LedgerError("SUBJECT_INACTIVE", "the subject has been erased");
  checkText("note", cmd.note, REQUEST_NOTE_LENGTH);
  const scoped = cmd.purposeIds && cmd.purposeIds.length > 0 ? [...cmd.purposeIds] : null;
  if (scoped) {
    if (cmd.kind !== "SUSPENSION") throw badInput("purposeIds may name purposes only for a SUSPENSION request");
    checkList("purposeIds", scoped);
    for (const id of scoped) checkId("purpose id", id);
    if (new Set(scoped).size !== scoped.length) throw badInput("a purpose is named twice");
    const known = catalog ? new Set(catalog.policies().flatMap((p) => p.versions.flatMap((v) => v.purposes.map((x) => x.id)))) : null;
    const unknown = known ? scoped.filter((id) => !known.has(id)) : [];
    if (unknown.length > 0) throw new LedgerError("UNKNOWN_PURPOSE", `not a purpose of any published policy: ${unknown.join(", ")}`, { purposeIds: unknown });
  }
  // Each open request is work for an officer and a deadline: one requester cannot flood the queue.
  const open = [...state.dataRequests.values()].filter((r) => r.status === "OPEN" || r.status === "IDENTITY_VERIFIED").length;
  if (open >= maxOpen)
    throw new LedgerError("TOO_MANY_OPEN_REQUESTS", `${open} data requests are still open; at most ${maxOpen} may be open at once`, { limit: maxOpen });
  return [
    {
      type: "DataRequestOpened",
      occurredAt: now,
      data: {
        requestId: cmd.requestId,
        kind: cmd.kind,
        dueAt: now + cmd.dueDays * DAY_MS,
        ...(cmd.note ? { note: { plain: cmd.note } } : {}),
        ...(scoped ? { purposeIds: scoped } : {}),
      },
    },
  ];
}

/** DATA_REQUEST_MAX_EXTENSION_DAYS: how many days in total a request's due date may be moved. */
export const DEFAULT_MAX_EXTENSION_DAYS = 60;

/**
 * Moves a request's due date later by `days`, with the reason recorded (APPI allows an extension
 * when explained), at most `maxDays` in total: what earlier extensions added is the request's state,
 * so the cap is decided in the transaction that appends the extension.
 */
export function decideExtendDataRequest(
  state: SubjectState,
  requestId: string,
  days: number,
  reason: string,
  now: Instant,
  maxDays = DEFAULT_MAX_EXTENSION_DAYS,
): DomainEvent[] {
  const r = openRequest(state, requestId);
  const { extendedDays } = r;
  if (!Number.isInteger(days) || days < 1 || days > 365) throw badInput("days must be a whole number from 1 to 365");
  if (extendedDays + days > maxDays)
    throw badInput(`a request may be extended by at most ${maxDays} days in total; it was extended by ${extendedDays} already`, { field: "days", maxDays, extendedDays });
  if (reason.trim() === "") throw badInput("an extension needs a reason");
  checkText("reason", reason, 1_024);
  return [{ type: "DataRequestExtended", occurredAt: now, data: { requestId, days, dueAt: r.dueAt + days * DAY_MS, reason } }];
}

function openRequest(state: SubjectState, requestId: string) {
  const r = state.dataRequests.get(requestId);
  if (!r) throw new LedgerError("NOT_FOUND", `no data request ${requestId}`);
  if (r.status === "FULFILLED" || r.status === "REJECTED") throw new LedgerError("INVALID_STATE", `data request ${requestId} is already closed`);
  return r;
}

export function decideVerifyIdentity(state: SubjectState, requestId: string, method: string, now: Instant): DomainEvent[] {
  const r = openRequest(state, requestId);
  if (method.trim() === "") throw badInput("method must say how identity was verified");
  checkText("method", method, 256);
  if (r.status === "IDENTITY_VERIFIED") throw new LedgerError("INVALID_STATE", `identity for data request ${requestId} is already verified`);
  // How identity was checked is free text that may name documents or numbers: personal, so sealed.
  // The kind of check is kept apart as a non-personal label, so proof that identity was checked outlives erasure.
  return [{ type: "DataRequestIdentityVerified", occurredAt: now, data: { requestId, method: { plain: method }, label: identityLabelOf(method) } }];
}

/** Closing a request; fulfilling DELETION erases the subject and SUSPENSION suspends processing. */
export function decideCloseDataRequest(state: SubjectState, requestId: string, fulfilled: boolean, note: string | null, now: Instant): DomainEvent[] {
  const r = openRequest(state, requestId);
  checkText("note", note);
  // Refusing a request is explained to the person (APPI Arts. 33(3), 34(3), 35(7)).
  if (!fulfilled && (note === null || note.trim() === "")) throw badInput("rejecting a request needs a note: the reason told to the person", { field: "note" });
  if (fulfilled && r.status !== "IDENTITY_VERIFIED")
    throw new LedgerError("IDENTITY_NOT_VERIFIED", `data request ${requestId} cannot be fulfilled before the requester's identity is verified`);
  // The officer's note is the officer's record of the work, not the subject's data: it is kept through erasure.
  const closed: DomainEvent = { type: "DataRequestClosed", occurredAt: now, data: { requestId, fulfilled, ...(note ? { officerNote: note } : {}) } };
  if (!fulfilled) return [closed];
  if (r.kind === "DELETION") return [closed, ...decideErase(state, null, now, requestId)];
  if (r.kind === "SUSPENSION") {
    // A SUSPENDED subject has every purpose stopped already; one who left, was merged or erased is not suspended.
    if (state.status !== "ACTIVE") return [closed];
    return [closed, ...decideSuspend(state, null, now, requestId, r.purposeIds)];
  }
  return [closed];
}
