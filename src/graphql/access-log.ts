// Who read personal evidence (PersonalDataAccessed): noted once per request and subject, before the answer leaves.
import { actorFor, mayReadPersonal, readsAnothersData } from "../auth/authorize.js";
import type { DataRequestState } from "../domain/subject.js";
import type { GraphQLContext } from "./context.js";
import { presentDataRequest } from "./present.js";
import type { DataRequestType } from "./types/subject-types.js";

const noted = new WeakMap<GraphQLContext, Map<string, Promise<void>>>();
const reasons = new WeakMap<GraphQLContext, string>();

/** The `reason` argument a read gave, for the notes its answer's fields make. */
export function setAccessReason(ctx: GraphQLContext, reason: string | null | undefined): void {
  if (reason != null) reasons.set(ctx, reason);
}

/** Appends PersonalDataAccessed to the subject's stream (actor: the caller; `read`: what was read), once per request, subject and kind of read. */
export function noteAccess(ctx: GraphQLContext, subjectId: string, read: string): Promise<void> {
  let m = noted.get(ctx);
  if (!m) noted.set(ctx, (m = new Map()));
  const key = `${subjectId}\u0000${read}`;
  let p = m.get(key);
  if (!p) m.set(key, (p = ctx.services.ledger.recordPersonalDataAccessed(subjectId, read, reasons.get(ctx) ?? null, actorFor(ctx.caller!, subjectId, ["subject:admin", "ledger:read"]))));
  return p;
}

const isSealed = (v: unknown): boolean => typeof v === "object" && v !== null && "sealed" in v;

/** Whether event data holds a sealed member that opening would reveal. */
export const holdsSealed = (data: object): boolean => Object.values(data).some(isSealed);

/** Notes a read of sealed event data by someone other than its subject (an auditor's history or feed). */
export async function noteEventRead(ctx: GraphQLContext, subjectId: string | null, data: object): Promise<void> {
  if (subjectId !== null && readsAnothersData(ctx.caller, subjectId) && mayReadPersonal(ctx.caller, subjectId) && holdsSealed(data)) await noteAccess(ctx, subjectId, "sealed evidence in events");
}

/** A data request as presented, with the read of the requester's sealed note or identity check noted when it was opened for an officer. */
export async function presentDataRequestFor(ctx: GraphQLContext, r: DataRequestState): Promise<DataRequestType> {
  const out = await presentDataRequest(ctx.services.ledger, r);
  const revealed = (isSealed(r.note) && r.closingNote === null && out.note !== "[erased]") || (out.identityCheck !== null && out.identityCheck !== r.identityLabel);
  if (revealed && readsAnothersData(ctx.caller, r.subjectId)) await noteAccess(ctx, r.subjectId, "data request");
  return out;
}
