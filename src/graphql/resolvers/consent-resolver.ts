// permission, permissions and recordConsent.
import { Arg, Ctx, ID, Mutation, Query, Resolver } from "type-graphql";
import { LedgerError, badInput } from "../../domain/errors.js";
import { issueConsentReceipt } from "../../receipts/issue-receipt.js";
import { actorFor, noticeSubjectFor, requireScope, subjectFor } from "../../auth/authorize.js";
import type { GraphQLContext } from "../context.js";
import { presentDecision, presentEvent, presentEvents, presentSubject } from "../present.js";
import { LedgerEventType } from "../types/event-types.js";
import { DateTimeScalar } from "../scalars.js";
import { PermissionDecisionType } from "../types/consent-types.js";
import { NoticeShownInput, PermissionCheckInput, RecordConsentInput } from "../types/inputs.js";
import { RecordConsentPayloadType } from "../types/subject-types.js";

const MAX_CHECKS = 500;

@Resolver()
export class ConsentResolver {
  @Mutation(() => LedgerEventType, {
    description: "Records that a notice (a policy version) was shown to the subject; changes no consent (consent:self for oneself, consent:write for anyone).",
  })
  async recordNoticeShown(@Arg("input", () => NoticeShownInput) input: NoticeShownInput, @Ctx() ctx: GraphQLContext): Promise<LedgerEventType> {
    const id = noticeSubjectFor(ctx.caller, input.subjectId);
    const e = await ctx.services.ledger.recordNoticeShown(
      id,
      { policyId: input.policyId ?? null, policyVersion: input.policyVersion, channel: input.channel, locale: input.locale, noticeId: input.noticeId ?? null },
      actorFor(ctx.caller!, id),
    );
    return presentEvent(e);
  }

  @Query(() => PermissionDecisionType, { description: "May this subject's data be processed for this purpose, now or at `at`?" })
  async permission(
    @Arg("subjectId", () => ID) subjectId: string,
    @Arg("purposeId", () => ID) purposeId: string,
    @Ctx() ctx: GraphQLContext,
    @Arg("policyId", () => ID, { nullable: true }) policyId?: string | null,
    @Arg("at", () => DateTimeScalar, { nullable: true }) at?: number | null,
    @Arg("recipientId", () => ID, { nullable: true, description: "A recipient: permitted only if the subject's consent covers it (RECIPIENT_NOT_COVERED)." })
    recipientId?: string | null,
  ): Promise<PermissionDecisionType> {
    const id = subjectFor(ctx.caller, subjectId, ["consent:read"]);
    return presentDecision(id, await ctx.services.ledger.permission(id, purposeId, policyId ?? null, at, recipientId ?? null));
  }

  @Query(() => [PermissionDecisionType], { description: `A batch of checks answered from one read (at most ${MAX_CHECKS}).` })
  async permissions(@Arg("checks", () => [PermissionCheckInput]) checks: PermissionCheckInput[], @Ctx() ctx: GraphQLContext): Promise<PermissionDecisionType[]> {
    if (checks.length > MAX_CHECKS) throw badInput(`checks has more than ${MAX_CHECKS} items`);
    const resolved = checks.map((c) => ({
      subjectId: subjectFor(ctx.caller, c.subjectId, ["consent:read"]),
      purposeId: c.purposeId,
      policyId: c.policyId ?? null,
      recipientId: c.recipientId ?? null,
    }));
    return (await ctx.services.ledger.permissions(resolved)).map((d, i) => presentDecision(resolved[i]!.subjectId, d));
  }

  @Mutation(() => RecordConsentPayloadType, { description: "Records a policy acceptance and grants/withdrawals as one atomic call, with a signed receipt." })
  async recordConsent(@Arg("input", () => RecordConsentInput) input: RecordConsentInput, @Ctx() ctx: GraphQLContext): Promise<RecordConsentPayloadType> {
    const subjectId = subjectFor(ctx.caller, input.subjectId, ["consent:write"]);
    const caller = requireScope(ctx.caller, "consent:self", "consent:write");
    if (input.occurredAt != null && !caller.scopes.has("consent:write"))
      throw new LedgerError("FORBIDDEN", "only consent:write may set occurredAt");
    const { ledger, receipts } = ctx.services;
    const evidence = input.evidence ? { ...input.evidence } : null;
    const result = await ledger.recordConsent(
      subjectId,
      {
        policyId: input.policyId ?? null,
        policyVersion: input.policyVersion,
        acceptPolicy: input.acceptPolicy ?? false,
        grant: input.grant ?? [],
        withdraw: input.withdraw ?? [],
        occurredAt: input.occurredAt ?? null,
        evidence,
        expectedVersion: input.expectedVersion ?? null,
      },
      actorFor(caller, subjectId),
      input.idempotencyKey,
    );
    return {
      subject: presentSubject(result.subject),
      // Presented only when the client selects it; the evidence opened only for a caller who may read it.
      get events() {
        return presentEvents(ledger, result.events);
      },
      receipt: await issueConsentReceipt(ledger, receipts, subjectId, result.events, evidence, {
        policyId: ledger.resolvePolicyId(input.policyId ?? null),
        version: input.policyVersion,
      }),
    };
  }
}
