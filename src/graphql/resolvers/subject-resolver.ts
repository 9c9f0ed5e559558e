// me, subject, and the Subject type's fields: consents, standings, history, data requests.
import { Arg, Args, Ctx, FieldResolver, ID, Int, Query, Resolver, Root } from "type-graphql";
import type { Scope } from "../../auth/scopes.js";
import { versionOf } from "../../domain/catalog.js";
import { subjectFor } from "../../auth/authorize.js";
import { LedgerError } from "../../domain/errors.js";
import { consentCallOf, issueConsentReceipt } from "../../receipts/issue-receipt.js";
import type { GraphQLContext } from "../context.js";
import { decodeCursor } from "../../log/position.js";
import { pageSize, typeFilter } from "../paging.js";
import { presentDataRequestFor, setAccessReason } from "../access-log.js";
import { presentConsent, presentPage, presentSubject } from "../present.js";
import { ConsentStateType, PolicyStandingType } from "../types/consent-types.js";
import { EventConnectionType } from "../types/event-types.js";
import { AsOfArgs } from "../types/inputs.js";
import { DataRequestType, SubjectType } from "../types/subject-types.js";

const READ_CONSENT: Scope[] = ["consent:read", "ledger:read"];
const READ_SUBJECT: Scope[] = ["consent:read", "ledger:read", "subject:admin"];

@Resolver(() => SubjectType)
export class SubjectResolver {
  @Query(() => SubjectType, { description: "The caller as a subject (consent:self)." })
  async me(@Ctx() ctx: GraphQLContext): Promise<SubjectType> {
    const id = subjectFor(ctx.caller, null, []);
    return presentSubject(await ctx.services.ledger.subject(id));
  }

  @Query(() => SubjectType, { description: "Any subject (consent:read, ledger:read or subject:admin), or oneself. An unknown id reads as a subject with no history." })
  async subject(@Arg("id", () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<SubjectType> {
    return presentSubject(await ctx.services.ledger.subject(subjectFor(ctx.caller, id, READ_SUBJECT)));
  }

  @FieldResolver(() => [ConsentStateType], { description: "Each purpose's state under a policy (default: the base policy), at valid time `at` as known at `knownAt`." })
  async consents(
    @Root() s: SubjectType,
    @Ctx() ctx: GraphQLContext,
    @Arg("policyId", () => ID, { nullable: true }) policyId: string | null | undefined,
    @Args(() => AsOfArgs) { at, knownAt }: AsOfArgs,
  ): Promise<ConsentStateType[]> {
    const id = subjectFor(ctx.caller, s.id, READ_CONSENT);
    const { ledger } = ctx.services;
    return (await ledger.consents(id, policyId ?? null, ledger.asOf(at, knownAt))).map(presentConsent);
  }

  @FieldResolver(() => [PolicyStandingType], { description: "Where the subject stands with every policy." })
  async policyStandings(
    @Root() s: SubjectType,
    @Ctx() ctx: GraphQLContext,
    @Args(() => AsOfArgs) { at, knownAt }: AsOfArgs,
  ): Promise<PolicyStandingType[]> {
    const id = subjectFor(ctx.caller, s.id, READ_CONSENT);
    const { ledger } = ctx.services;
    return (await ledger.standings(id, ledger.asOf(at, knownAt))).map((st) => ({
      policy: st.policy,
      acceptedVersion: versionOf(st.policy, st.acceptedVersion) ?? null,
      acceptedAt: st.acceptedAt,
      applicableVersion: st.applicable,
      pendingVersion: st.pending,
      needsReconsent: st.reconsentVersion !== null,
    }));
  }

  @FieldResolver(() => EventConnectionType, { description: "The subject's events, oldest first (ledger:read, or oneself)." })
  async history(
    @Root() s: SubjectType,
    @Ctx() ctx: GraphQLContext,
    @Arg("first", () => Int, { nullable: true, defaultValue: 50 }) first: number | null,
    @Arg("after", () => String, { nullable: true }) after?: string | null,
    @Arg("types", () => [String], { nullable: true }) types?: string[] | null,
    @Arg("reason", () => String, { nullable: true, description: "Why personal evidence is read; kept in the PersonalDataAccessed event." }) reason?: string | null,
  ): Promise<EventConnectionType> {
    const id = subjectFor(ctx.caller, s.id, ["ledger:read"]);
    setAccessReason(ctx, reason);
    const n = pageSize(first, 50);
    const { ledger } = ctx.services;
    return presentPage(ledger, await ledger.history(id, decodeCursor(after), n + 1, typeFilter(types)), n);
  }

  @FieldResolver(() => String, {
    description:
      "The signed consent receipt of an earlier recordConsent call, named by the id of any event it wrote (the receipt's consentReceiptID is its first): " +
      "rebuilt from the call's stored events and signed again now, so it carries the same receipt id and content as the one the call answered; " +
      "verify it with /.well-known/jwks.json. After erasure the language and collection method the person's client sent are gone with the subject's key " +
      "(the receipt names the defaults), the consent facts stay. NOT_FOUND when this subject's record holds no such call (consent:read, or oneself).",
  })
  async receipt(@Root() s: SubjectType, @Arg("eventId", () => ID) eventId: string, @Ctx() ctx: GraphQLContext): Promise<string> {
    const id = subjectFor(ctx.caller, s.id, ["consent:read"]);
    const { ledger, receipts } = ctx.services;
    const call = await consentCallOf(ledger, id, eventId);
    // The same answer for an unknown id and another subject's event: the record searched is this subject's alone.
    if (!call) throw new LedgerError("NOT_FOUND", "this subject's record holds no consent choice with this event id");
    const first = call.events.find((e) => "policyId" in e.data)!.data as { policyId: string; version: number };
    return issueConsentReceipt(ledger, receipts, id, call.events, call.evidence, { policyId: first.policyId, version: first.version });
  }

  @FieldResolver(() => [DataRequestType], { description: "The subject's data requests (subject:admin, ledger:read, or oneself)." })
  async dataRequests(@Root() s: SubjectType, @Ctx() ctx: GraphQLContext): Promise<DataRequestType[]> {
    const id = subjectFor(ctx.caller, s.id, ["subject:admin", "ledger:read"]);
    const { ledger } = ctx.services;
    return Promise.all([...(await ledger.subject(id)).dataRequests.values()].map((r) => presentDataRequestFor(ctx, r)));
  }
}
