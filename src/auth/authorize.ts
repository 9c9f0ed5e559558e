// The access rules (docs/api.md, "Who may do what") as pure functions: which scope an operation needs and whose data a caller may touch.
import { LedgerError } from "../domain/errors.js";
import type { Actor } from "../domain/events.js";
import type { Caller, Scope } from "./scopes.js";

/** The caller; UNAUTHENTICATED without one. */
export function authenticated(caller: Caller | null): Caller {
  if (!caller) throw new LedgerError("UNAUTHENTICATED", "authentication required");
  return caller;
}

/** The caller when it holds any one of `anyOf`; UNAUTHENTICATED without a caller, FORBIDDEN without the scope. */
export function requireScope(caller: Caller | null, ...anyOf: Scope[]): Caller {
  const c = authenticated(caller);
  if (anyOf.length === 0 || anyOf.some((s) => c.scopes.has(s))) return c;
  throw new LedgerError("FORBIDDEN", `this operation needs the scope ${anyOf.join(" or ")}`);
}

/**
 * The subject an operation acts on, `othersScopes` being the scopes that reach any subject:
 * - omitted, with `consent:self`: the caller itself;
 * - omitted, without `consent:self` but with one of `othersScopes`: BAD_USER_INPUT "subjectId is required";
 * - the caller's own id: allowed with `consent:self` or one of `othersScopes`;
 * - another subject: allowed only with one of `othersScopes`, else FORBIDDEN saying nothing about that subject.
 */
export function subjectFor(caller: Caller | null, subjectId: string | null | undefined, othersScopes: readonly Scope[]): string {
  const c = authenticated(caller);
  const self = c.scopes.has("consent:self");
  const others = othersScopes.some((s) => c.scopes.has(s));
  const needed = ["consent:self", ...othersScopes].join(" or ");
  if (subjectId === null || subjectId === undefined) {
    if (self) return c.subject;
    if (others) throw new LedgerError("BAD_USER_INPUT", "subjectId is required");
    throw new LedgerError("FORBIDDEN", `this operation needs the scope ${needed}`);
  }
  if (subjectId === "") throw new LedgerError("BAD_USER_INPUT", "subjectId must not be empty");
  if (subjectId === c.subject) {
    if (self || others) return c.subject;
    throw new LedgerError("FORBIDDEN", `this operation needs the scope ${needed}`);
  }
  if (others) return subjectId;
  // The same words whether or not that subject exists, so the refusal reveals nothing about it.
  throw new LedgerError(
    "FORBIDDEN",
    othersScopes.length > 0 ? `acting on another subject needs the scope ${othersScopes.join(" or ")}` : "a caller may act only on itself here",
  );
}

/** The actor recorded on events: the subject itself, an officer, or a service acting for it. */
export function actorFor(caller: Caller, subjectId: string | null, officerScopes: readonly Scope[] = ["subject:admin", "policy:write"]): Actor {
  if (subjectId === caller.subject && caller.scopes.has("consent:self")) return { kind: "SUBJECT", id: caller.subject };
  if (officerScopes.some((s) => caller.scopes.has(s))) return { kind: "OFFICER", id: caller.subject };
  return { kind: "SERVICE", id: caller.subject };
}

/**
 * Whether the caller may have the inclusion proof of an event whose subject is `subjectId` (undefined:
 * there is no such event): `ledger:read` for any event, `consent:self` for one's own. A caller with only
 * `consent:self` gets the same FORBIDDEN for another's event as for an unknown id, so it learns nothing.
 */
export function authorizeEventProof(caller: Caller | null, subjectId: string | null | undefined): void {
  const c = requireScope(caller, "ledger:read", "consent:self");
  if (c.scopes.has("ledger:read")) {
    if (subjectId === undefined) throw new LedgerError("NOT_FOUND", "no event has this id");
    return;
  }
  if (subjectId !== c.subject) throw new LedgerError("FORBIDDEN", "with consent:self, a caller may ask only for proofs of its own events");
}

/**
 * Whether the caller may read the personal members of a subject's events (evidence such as the ip
 * address and user agent, officers' free-text reasons and notes): the subject itself, or an auditor
 * with `ledger:read`. `consent:read` asks "may I process" and reads consent facts, never evidence.
 */
export function mayReadPersonal(caller: Caller | null, subjectId: string | null): boolean {
  if (!caller) return false;
  if (caller.scopes.has("ledger:read")) return true;
  return subjectId !== null && subjectId === caller.subject && caller.scopes.has("consent:self");
}

/** The scopes that may record a notice shown to any subject; `consent:self` records one shown to oneself. */
export const NOTICE_SCOPES: readonly Scope[] = ["consent:write"];

/** The subject a recordNoticeShown call records for (the one place its scopes are checked). */
export const noticeSubjectFor = (caller: Caller | null, subjectId: string | null | undefined): string => subjectFor(caller, subjectId, NOTICE_SCOPES);

/** Whether reading a subject's sealed evidence is a read by someone other than that subject (recorded as PersonalDataAccessed). */
export const readsAnothersData = (caller: Caller | null, subjectId: string | null): boolean => caller !== null && subjectId !== null && subjectId !== caller.subject;
