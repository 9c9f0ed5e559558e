// The transparency log's reads: the latest checkpoint and proofs against checkpoints.
import { Arg, Ctx, ID, Int, Query, Resolver } from "type-graphql";
import { authorizeEventProof, requireScope } from "../../auth/authorize.js";
import { checkId } from "../../domain/decide.js";
import type { TransparencyLog } from "../../log/transparency-log.js";
import type { GraphQLContext } from "../context.js";
import { CheckpointType, ConsistencyProofType, InclusionProofType } from "../types/transparency-types.js";

/** The running transparency log. */
const transparencyOf = (ctx: GraphQLContext): TransparencyLog => ctx.services.transparency;

@Resolver()
export class TransparencyResolver {
  @Query(() => CheckpointType, { description: "The latest signed checkpoint (ledger:read)." })
  ledgerCheckpoint(@Ctx() ctx: GraphQLContext): Promise<CheckpointType> {
    requireScope(ctx.caller, "ledger:read");
    return transparencyOf(ctx).latestAnywhere();
  }

  @Query(() => InclusionProofType, {
    description: "Proves an event is in the log at treeSize (default: the latest checkpoint) (ledger:read, or consent:self for one's own events).",
  })
  async inclusionProof(
    @Arg("eventId", () => ID) eventId: string,
    @Ctx() ctx: GraphQLContext,
    @Arg("treeSize", () => Int, { nullable: true }) treeSize?: number | null,
  ): Promise<InclusionProofType> {
    requireScope(ctx.caller, "ledger:read", "consent:self");
    checkId("eventId", eventId);
    const transparency = transparencyOf(ctx);
    const leaf = await transparency.findLeaf(eventId);
    authorizeEventProof(ctx.caller, leaf === null ? undefined : leaf.subjectId);
    return transparency.inclusionProof(leaf!.leafIndex, treeSize);
  }

  @Query(() => ConsistencyProofType, { description: "Proves the log of fromSize events is a prefix of the log of toSize (default: the latest checkpoint) (ledger:read)." })
  consistencyProof(
    @Arg("fromSize", () => Int) fromSize: number,
    @Ctx() ctx: GraphQLContext,
    @Arg("toSize", () => Int, { nullable: true }) toSize?: number | null,
  ): Promise<ConsistencyProofType> {
    requireScope(ctx.caller, "ledger:read");
    return transparencyOf(ctx).consistencyProof(fromSize, toSize);
  }
}
