// The shape of a change an officer or a service makes through the ledger: the scope checked first, then the
// ledger call, recorded under the caller as its actor.
import { actorFor, requireScope } from "../../auth/authorize.js";
import type { Scope } from "../../auth/scopes.js";
import type { Actor } from "../../domain/events.js";
import type { Ledger } from "../../ledger.js";
import type { GraphQLContext } from "../context.js";

/**
 * Runs `change` for a caller holding `scope` (FORBIDDEN otherwise), with the actor it is recorded under:
 * the caller, as acting on `subjectId` (null: on no one subject, e.g. a policy or a data request).
 */
export async function scopedChange<T>(ctx: GraphQLContext, scope: Scope, subjectId: string | null, change: (ledger: Ledger, actor: Actor) => T | Promise<T>): Promise<T> {
  const caller = requireScope(ctx.caller, scope);
  return change(ctx.services.ledger, actorFor(caller, subjectId));
}
