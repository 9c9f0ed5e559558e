// consentChanged and ledgerEvents: access checks and argument reading; the feed yields facts, shaped here.
import { Arg, ID, Resolver, Root, Subscription } from "type-graphql";
import type { SubscribeResolverData } from "type-graphql";
import { checkId } from "../../domain/decide.js";
import type { ConsentChangeFact } from "../../feed/consent-changes.js";
import { decodeFeedCursor, encodeChangeCursor } from "../../feed/feed-cursor.js";
import type { LedgerEvent } from "../../domain/events.js";
import { requireScope, subjectFor } from "../../auth/authorize.js";
import type { GraphQLContext } from "../context.js";
import { presentConsent, presentOnce } from "../present.js";
import { typeFilter } from "../paging.js";
import { LedgerEventType } from "../types/event-types.js";
import { ConsentChangeType } from "../types/subject-types.js";

interface ConsentChangedArgs {
  subjectId?: string | null;
  policyId?: string | null;
  purposeIds?: string[] | null;
  after?: string | null;
}

interface LedgerEventsArgs {
  after?: string | null;
  types?: string[] | null;
}

type Data<A> = SubscribeResolverData<unknown, A, GraphQLContext>;

function subscribeConsentChanged({ args, context }: Data<ConsentChangedArgs>) {
  const caller = requireScope(context.caller, "consent:self", "consent:read");
  // Omitting subjectId follows everyone with consent:read, oneself with only consent:self.
  const subjectId = args.subjectId == null && caller.scopes.has("consent:read") ? null : subjectFor(caller, args.subjectId, ["consent:read"]);
  if (subjectId !== null) checkId("subjectId", subjectId);
  if (args.policyId != null) checkId("policyId", args.policyId);
  for (const p of args.purposeIds ?? []) checkId("purpose id", p);
  const after = args.after != null ? decodeFeedCursor(args.after, true) : null;
  return context.services.changes.consentChanges(
    { subjectId, policyId: args.policyId ?? null, purposeIds: typeFilter(args.purposeIds) ?? null },
    after,
    caller.subject,
  );
}

function subscribeLedgerEvents({ args, context }: Data<LedgerEventsArgs>) {
  const caller = requireScope(context.caller, "ledger:read");
  const after = args.after != null ? decodeFeedCursor(args.after, false) : null;
  return context.services.changes.ledgerEvents({ types: typeFilter(args.types) ?? null }, after, caller.subject);
}

function presentChange(f: ConsentChangeFact): ConsentChangeType {
  return {
    cursor: encodeChangeCursor(f.event.position, f.index),
    subjectId: f.subjectId,
    policyId: f.current.policyId,
    purposeId: f.current.purposeId,
    previous: f.previous?.status ?? null,
    current: presentConsent(f.current),
    event: presentOnce(f.event),
  };
}

/**
 * The arguments choose which facts a subscription's stream yields (filters, the cursor to resume
 * after); a message's content depends on the fact alone, never on them, since subscribers that differ
 * only in these arguments share each fact's execution (graphql/shared-subscription.ts).
 */
@Resolver()
export class SubscriptionResolver {
  @Subscription(() => ConsentChangeType, {
    subscribe: (data) => subscribeConsentChanged(data as Data<ConsentChangedArgs>),
    description:
      "One message per (subject, policy, purpose) whose status or permission an event changed, oldest first. " +
      "consent:self follows oneself; consent:read follows any subject, or all when subjectId is omitted. " +
      "With `after` (a change's cursor, or an event position) every later change is replayed, then live ones follow without gap or duplicate.",
  })
  consentChanged(
    @Root() change: ConsentChangeFact,
    @Arg("subjectId", () => ID, { nullable: true }) _subjectId?: string | null,
    @Arg("policyId", () => ID, { nullable: true }) _policyId?: string | null,
    @Arg("purposeIds", () => [ID], { nullable: true }) _purposeIds?: string[] | null,
    @Arg("after", () => String, { nullable: true }) _after?: string | null,
  ): ConsentChangeType {
    return presentChange(change);
  }

  @Subscription(() => LedgerEventType, {
    subscribe: (data) => subscribeLedgerEvents(data as Data<LedgerEventsArgs>),
    description: "Every event appended to the ledger, oldest first (ledger:read); `after` is an event position to resume from.",
  })
  ledgerEvents(
    @Root() event: LedgerEvent,
    @Arg("after", () => String, { nullable: true }) _after?: string | null,
    @Arg("types", () => [String], { nullable: true }) _types?: string[] | null,
  ): LedgerEventType {
    return presentOnce(event);
  }
}
