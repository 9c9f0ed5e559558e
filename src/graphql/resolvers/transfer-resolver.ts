// recordThirdPartyTransfer, thirdPartyTransfers and the token-free externalTransmissions.
import { Arg, Ctx, ID, Mutation, Query, Resolver } from "type-graphql";
import { actorFor, requireScope, subjectFor } from "../../auth/authorize.js";
import { externalTransmissions } from "../../domain/external-transmissions.js";
import type { GraphQLContext } from "../context.js";
import { presentTransfer } from "../present.js";
import { DateTimeScalar } from "../scalars.js";
import { ThirdPartyTransferInput } from "../types/inputs.js";
import { ExternalTransmissionType, ThirdPartyTransferType } from "../types/transfer-types.js";

@Resolver()
export class TransferResolver {
  @Mutation(() => [ThirdPartyTransferType], {
    description: "Records a provision to or receipt from a third party, one record per subject, all or none (transfer:write).",
  })
  async recordThirdPartyTransfer(@Arg("input", () => ThirdPartyTransferInput) input: ThirdPartyTransferInput, @Ctx() ctx: GraphQLContext): Promise<ThirdPartyTransferType[]> {
    const caller = requireScope(ctx.caller, "transfer:write");
    const events = await ctx.services.ledger.recordThirdPartyTransfer(
      {
        subjectIds: input.subjectIds,
        direction: input.direction,
        counterpartyId: input.counterpartyId,
        purposeId: input.purposeId ?? null,
        dataCategories: input.dataCategories,
        basis: input.basis,
        occurredAt: input.occurredAt ?? null,
        note: input.note ?? null,
        provider: input.provider ? { ...input.provider, representative: input.provider.representative ?? null } : null,
      },
      actorFor(caller, null, ["transfer:write"]),
    );
    return events.map(presentTransfer);
  }

  @Query(() => [ThirdPartyTransferType], { description: "A subject's transfer records, oldest first (ledger:read, or oneself); kept through erasure." })
  async thirdPartyTransfers(
    @Arg("subjectId", () => ID) subjectId: string,
    @Ctx() ctx: GraphQLContext,
    @Arg("from", () => DateTimeScalar, { nullable: true }) from?: number | null,
    @Arg("to", () => DateTimeScalar, { nullable: true }) to?: number | null,
  ): Promise<ThirdPartyTransferType[]> {
    const id = subjectFor(ctx.caller, subjectId, ["ledger:read"]);
    return (await ctx.services.ledger.thirdPartyTransfers(id, from ?? null, to ?? null)).map(presentTransfer);
  }

  @Query(() => [ExternalTransmissionType], {
    description: "What the service sends to external modules, to whom, what for, and how to opt out (Telecommunications Business Act Art. 27-12). Needs no token.",
  })
  externalTransmissions(@Ctx() ctx: GraphQLContext, @Arg("policyId", () => ID, { nullable: true }) policyId?: string | null): ExternalTransmissionType[] {
    return externalTransmissions(ctx.services.ledger.catalog, policyId ?? null, ctx.services.ledger.now());
  }
}
