// Consent states, policy standings and permission decisions.
import { Field, ID, Int, ObjectType } from "type-graphql";
import type { ConsentStatus, DecisionReason } from "../../domain/permission.js";
import { ConsentStatusEnum, DecisionReasonEnum } from "../enums.js";
import { DateTimeScalar } from "../scalars.js";
import { PolicyType, PolicyVersionType, PurposeType, RecipientType } from "./catalog-types.js";

@ObjectType("ConsentState", { description: "Where a subject stands with one purpose, and whether processing is permitted." })
export class ConsentStateType {
  @Field(() => ID) policyId!: string;
  @Field(() => PurposeType) purpose!: PurposeType;
  @Field(() => ConsentStatusEnum) status!: ConsentStatus;
  @Field(() => Boolean) permitted!: boolean;
  @Field(() => DecisionReasonEnum) reason!: DecisionReason;
  @Field(() => DateTimeScalar, { nullable: true, description: "When the subject's current choice was made." }) since!: number | null;
  @Field(() => DateTimeScalar, { nullable: true }) expiresAt!: number | null;
  @Field(() => Int, { nullable: true, description: "The applicable version the decision was made under." }) policyVersion!: number | null;
  @Field(() => ID, { nullable: true, description: "The event that recorded the current choice." }) eventId!: string | null;
  @Field(() => [RecipientType], {
    description: "The recipients this consent covers: those the purpose listed in the version the grant was made under (APPI Arts. 27, 28).",
  })
  coveredRecipients!: RecipientType[];
  @Field(() => [String], { description: "The data categories this consent covers: those the purpose listed in the version the grant was made under." })
  coveredDataCategories!: string[];
}

@ObjectType("PolicyStanding", { description: "Which version of a policy applies to a subject, and whether they must re-consent." })
export class PolicyStandingType {
  @Field(() => PolicyType) policy!: PolicyType;
  @Field(() => PolicyVersionType, { nullable: true }) acceptedVersion!: PolicyVersionType | null;
  @Field(() => DateTimeScalar, { nullable: true }) acceptedAt!: number | null;
  @Field(() => PolicyVersionType, { nullable: true }) applicableVersion!: PolicyVersionType | null;
  @Field(() => PolicyVersionType, { nullable: true }) pendingVersion!: PolicyVersionType | null;
  @Field(() => Boolean) needsReconsent!: boolean;
}

@ObjectType("PermissionDecision", { description: "May this subject's data be processed for this purpose?" })
export class PermissionDecisionType {
  @Field(() => ID) subjectId!: string;
  @Field(() => ID) policyId!: string;
  @Field(() => ID) purposeId!: string;
  @Field(() => Boolean) permitted!: boolean;
  @Field(() => ConsentStatusEnum) status!: ConsentStatus;
  @Field(() => DecisionReasonEnum) reason!: DecisionReason;
  @Field(() => Int, { nullable: true }) policyVersion!: number | null;
  @Field(() => DateTimeScalar, { nullable: true }) since!: number | null;
  @Field(() => DateTimeScalar, { nullable: true }) expiresAt!: number | null;
}
