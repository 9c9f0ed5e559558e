// Kept for imports not yet moved: the scope rules of contract §2 live in src/auth/authorize.ts only.
import { requireScope } from "../auth/authorize.js";
import type { Caller, Scope } from "../auth/scopes.js";

export { actorFor, authenticated, subjectFor } from "../auth/authorize.js";

/** requireScope with the scopes as a list. */
export const requireAny = (caller: Caller | null, scopes: readonly Scope[]): Caller => requireScope(caller, ...scopes);
