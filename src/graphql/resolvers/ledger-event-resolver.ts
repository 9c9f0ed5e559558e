// LedgerEvent.data: presented per caller, so a feed shared by many subscribers shows each one only what it may read.
import { type GraphQLResolveInfo, Kind } from "graphql";
import { Ctx, FieldResolver, Info, Resolver, Root } from "type-graphql";
import type { GraphQLContext } from "../context.js";
import { markFeedReveal, noteEventRead } from "../access-log.js";
import { presentEventData } from "../present.js";
import { JSONScalar } from "../scalars.js";
import { LedgerEventType } from "../types/event-types.js";

/** The subscription field a feed's message answers (ledgerEvents, consentChanged): a subscription has one root field. */
function feedName(info: GraphQLResolveInfo): string {
  const root = info.operation.selectionSet.selections[0];
  return root?.kind === Kind.FIELD ? root.name.value : "live";
}

@Resolver(() => LedgerEventType)
export class LedgerEventResolver {
  @FieldResolver(() => JSONScalar, {
    description:
      "The event's content; personal evidence reads {\"erased\":true} after erasure, and {\"redacted\":true} unless the caller is the subject or holds ledger:read.",
  })
  async data(@Root() event: LedgerEventType, @Ctx() ctx: GraphQLContext, @Info() info: GraphQLResolveInfo): Promise<Record<string, unknown>> {
    const data = await presentEventData(ctx.services.ledger, event, ctx.caller);
    // Answers to queries note who read sealed evidence; a live feed's shared execution marks what it
    // opened, and each of its subscribers is noted once per subject (see noteFeedReveals).
    if (info.operation.operation !== "subscription") await noteEventRead(ctx, event.source.subjectId, event.source.data);
    else markFeedReveal(info.rootValue, ctx, event.source.subjectId, event.source.data, `sealed evidence in the ${feedName(info)} feed`);
    return data;
  }
}
