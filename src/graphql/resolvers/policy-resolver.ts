// policies, policy, publishPolicyVersion, and the Policy type's fields.
import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from "type-graphql";
import {
  type ConsentModeType,
  type Controller,
  type DataCategoryLabel,
  type Policy,
  type PolicyVersion,
  type Purpose,
  controllerOf,
  dataCategoriesOf,
  dataCategoryLabelsOf,
  effectiveVersions,
} from "../../domain/catalog.js";
import { ConsentModeTypeEnum } from "../enums.js";
import { DateTimeScalar } from "../scalars.js";
import { authenticated } from "../../auth/authorize.js";
import type { GraphQLContext } from "../context.js";
import { toPublishCommand } from "../../domain/decide.js";
import { scopedChange } from "./scoped-change.js";
import { PublishPolicyVersionInput } from "../types/inputs.js";
import { AnnouncementType, ControllerType, DataCategoryType, PolicyType, PolicyVersionType, PurposeType } from "../types/catalog-types.js";

@Resolver(() => PolicyType)
export class PolicyResolver {
  @Query(() => [PolicyType], { description: "Every published policy." })
  policies(@Ctx() ctx: GraphQLContext): Policy[] {
    authenticated(ctx.caller);
    return ctx.services.ledger.catalog.policies();
  }

  @Query(() => PolicyType, { nullable: true })
  policy(@Arg("id", () => ID) id: string, @Ctx() ctx: GraphQLContext): Policy | null {
    authenticated(ctx.caller);
    return ctx.services.ledger.catalog.get(id) ?? null;
  }

  @FieldResolver(() => PolicyType, { nullable: true, description: "The policy this one takes precedence over." })
  overrides(@Root() p: Policy, @Ctx() ctx: GraphQLContext): Policy | null {
    return p.overrides === null ? null : (ctx.services.ledger.catalog.get(p.overrides) ?? null);
  }

  @FieldResolver(() => PolicyVersionType, { nullable: true, description: "The latest version in effect now." })
  currentVersion(@Root() p: Policy, @Ctx() ctx: GraphQLContext) {
    return effectiveVersions(p, ctx.services.ledger.asOf()).at(-1) ?? null;
  }

  @FieldResolver(() => [PolicyVersionType])
  versions(@Root() p: Policy) {
    return p.versions;
  }

  @Mutation(() => PolicyVersionType, { description: "Publishes the next version of a policy (policy:write)." })
  async publishPolicyVersion(@Arg("input", () => PublishPolicyVersionInput) input: PublishPolicyVersionInput, @Ctx() ctx: GraphQLContext) {
    return scopedChange(ctx, "policy:write", null, (ledger, actor) => ledger.publishPolicyVersion(toPublishCommand({ ...input, digest: input.documentDigest }), actor));
  }

  @Mutation(() => PolicyVersionType, { description: "Records how and when a version's change was announced (policy:write)." })
  async recordPolicyAnnouncement(
    @Arg("policyId", () => ID) policyId: string,
    @Arg("version", () => Int) version: number,
    @Arg("method", () => String) method: string,
    @Ctx() ctx: GraphQLContext,
    @Arg("at", () => DateTimeScalar, { nullable: true, description: "When it was announced; now when left out." }) at?: number | null,
  ) {
    return scopedChange(ctx, "policy:write", null, (ledger, actor) => ledger.recordPolicyAnnouncement(policyId, version, method, at ?? null, actor));
  }
}

@Resolver(() => PurposeType)
export class PurposeResolver {
  @FieldResolver(() => [ConsentModeTypeEnum], { description: "Google Consent Mode v2 types granted exactly when this purpose is permitted." })
  consentModeTypes(@Root() p: Purpose): ConsentModeType[] {
    return p.consentModeTypes ?? [];
  }

  @FieldResolver(() => Boolean, { description: "Whether a Global Privacy Control signal withdraws this purpose." })
  gpcApplies(@Root() p: Purpose): boolean {
    return p.gpcApplies ?? false;
  }

  @FieldResolver(() => [String], { description: "The plain-language label of each of dataCategories, in the same order." })
  dataCategoryLabels(@Root() p: Purpose): string[] {
    return dataCategoryLabelsOf(p);
  }
}

@Resolver(() => PolicyVersionType)
export class PolicyVersionResolver {
  @FieldResolver(() => [DataCategoryType], { description: "Every data category the purposes name, with its label (the id where the version gives none)." })
  dataCategories(@Root() v: PolicyVersion): DataCategoryLabel[] {
    return dataCategoriesOf(v);
  }

  @FieldResolver(() => ControllerType, { nullable: true, description: "The controller this version names, or the latest earlier version's." })
  controller(@Root() v: PolicyVersion, @Ctx() ctx: GraphQLContext): Controller | null {
    const policy = ctx.services.ledger.catalog.get(v.policyId);
    return policy ? controllerOf(policy, v.number) : (v.controller ?? null);
  }

  @FieldResolver(() => [AnnouncementType], { description: "How and when this version's change was announced, oldest first." })
  async announcements(@Root() v: PolicyVersion, @Ctx() ctx: GraphQLContext): Promise<AnnouncementType[]> {
    return (await ctx.services.ledger.announcements(v.policyId)).filter((a) => a.version === v.number).map(({ method, at }) => ({ method, at }));
  }
}
