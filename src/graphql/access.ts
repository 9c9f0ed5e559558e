// Who may touch which subject (contract §2), decided once for every resolver.
import type { Caller, Scope } from "../auth/scopes.js";
import { LedgerError } from "../domain/errors.js";
import type { Actor } from "../domain/events.js";

export function authenticated(caller: Caller | null): Caller {
  if (!caller) throw new LedgerError("UNAUTHENTICATED", "authentication required");
  return caller;
}

/** The caller must hold one of the scopes. */
export function requireAny(caller: Caller | null, scopes: readonly Scope[]): Caller {
  const c = authenticated(caller);
  if (!scopes.some((s) => c.scopes.has(s))) throw new LedgerError("FORBIDDEN", `this needs one of the scopes: ${scopes.join(", ")}`);
  return c;
}

/**
 * The subject an operation is about: the caller itself with `consent:self` (subjectId omitted or
 * equal to `sub`), or any subject with one of `othersScopes`. The refusal says nothing about the other subject.
 */
export function subjectFor(caller: Caller | null, subjectId: string | null | undefined, othersScopes: readonly Scope[]): string {
  const c = authenticated(caller);
  const others = othersScopes.some((s) => c.scopes.has(s));
  if (subjectId == null) {
    if (c.scopes.has("consent:self")) return c.subject;
    if (others) throw new LedgerError("BAD_USER_INPUT", "subjectId is required");
    throw new LedgerError("FORBIDDEN", `this needs the scope consent:self, or ${othersScopes.join(" or ")} with a subjectId`);
  }
  if (subjectId === c.subject && c.scopes.has("consent:self")) return subjectId;
  if (others) return subjectId;
  throw new LedgerError("FORBIDDEN", `acting on another subject needs one of the scopes: ${othersScopes.join(", ")}`);
}

/** The actor recorded on events: the subject itself, an officer, or a service acting for it. */
export function actorFor(caller: Caller, subjectId: string | null, officerScopes: readonly Scope[] = ["subject:admin", "policy:write"]): Actor {
  if (subjectId !== null && subjectId === caller.subject && caller.scopes.has("consent:self")) return { kind: "SUBJECT", id: caller.subject };
  if (officerScopes.some((s) => caller.scopes.has(s))) return { kind: "OFFICER", id: caller.subject };
  return { kind: "SERVICE", id: caller.subject };
}
