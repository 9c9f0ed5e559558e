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

/**
 * Live feeds. One execution of a feed's change is shared by the subscribers of its sharing group
 * (graphql/shared-subscription.ts), so the execution only marks whose sealed evidence it opened, and
 * each subscriber is noted for itself once its message is ready (`noteFeedReveals`).
 */
const feedReveals = new WeakMap<object, WeakMap<GraphQLContext, Map<string, string>>>();

/** Marks, for the execution of a feed's change (its root value, run in `ctx`), that it opened the subject's sealed evidence. */
export function markFeedReveal(root: unknown, ctx: GraphQLContext, subjectId: string | null, data: object, read: string): void {
  if (typeof root !== "object" || root === null || subjectId === null || !holdsSealed(data) || !mayReadPersonal(ctx.caller, subjectId)) return;
  let byExecution = feedReveals.get(root);
  if (!byExecution) feedReveals.set(root, (byExecution = new WeakMap()));
  let subjects = byExecution.get(ctx);
  if (!subjects) byExecution.set(ctx, (subjects = new Map()));
  subjects.set(subjectId, read);
}

/**
 * How many subjects a subscription remembers having recorded a read for. Past it the subject noted
 * longest ago is forgotten, and recorded again the next time the subscription reveals its evidence.
 */
export const FEED_READS_REMEMBERED = 4_096;

/** The subjects each subscription (by its context) has recorded a read for, oldest first. */
const feedNoted = new WeakMap<GraphQLContext, Set<string>>();

/**
 * Records PersonalDataAccessed for each subject whose sealed evidence the execution `by` opened and
 * `ctx`'s subscriber receives with it: once per subscription and subject, never for the subject's own
 * subscriptions. The record is written in the background: the delivery never waits for it or fails
 * with it (a failed record is logged). The record holds nothing sealed, so delivering it notes nothing.
 */
export function noteFeedReveals(ctx: GraphQLContext, root: object, by: GraphQLContext): void {
  const revealed = feedReveals.get(root)?.get(by);
  if (!revealed) return;
  for (const [subjectId, read] of revealed) {
    if (!readsAnothersData(ctx.caller, subjectId) || !mayReadPersonal(ctx.caller, subjectId)) continue;
    let seen = feedNoted.get(ctx);
    if (!seen) feedNoted.set(ctx, (seen = new Set()));
    if (seen.has(subjectId)) continue;
    if (seen.size >= FEED_READS_REMEMBERED) seen.delete(seen.values().next().value!);
    seen.add(subjectId);
    const { ledger, logger } = ctx.services;
    ledger
      .recordPersonalDataAccessed(subjectId, read, null, actorFor(ctx.caller!, subjectId, ["subject:admin", "ledger:read"]))
      .catch((err: unknown) => logger.warn({ err, subjectId }, "could not record a live feed's read of personal evidence"));
  }
}
