// Input types of the contract; sizes are checked in the domain, shapes here.
import { Field, ID, InputType, Int } from "type-graphql";
import type { ConsentMode, LegalBasis, RecipientKind } from "../../domain/catalog.js";
import type { DataRequestKind } from "../../domain/events.js";
import { ConsentModeEnum, DataRequestKindEnum, LegalBasisEnum, RecipientKindEnum } from "../enums.js";
import { DateTimeScalar } from "../scalars.js";

@InputType("PermissionCheckInput")
export class PermissionCheckInput {
  @Field(() => ID) subjectId!: string;
  @Field(() => ID) purposeId!: string;
  @Field(() => ID, { nullable: true }) policyId?: string | null;
}

@InputType("EvidenceInput", { description: "How and where the person acted; sealed with the subject's key, erasable." })
export class EvidenceInput {
  @Field(() => String, { nullable: true }) channel?: string | null;
  @Field(() => String, { nullable: true }) formId?: string | null;
  @Field(() => String, { nullable: true }) locale?: string | null;
  @Field(() => String, { nullable: true }) ipAddress?: string | null;
  @Field(() => String, { nullable: true }) userAgent?: string | null;
}

@InputType("RecordConsentInput")
export class RecordConsentInput {
  @Field(() => ID, { nullable: true }) subjectId?: string | null;
  @Field(() => ID, { nullable: true }) policyId?: string | null;
  @Field(() => Int) policyVersion!: number;
  @Field(() => Boolean, { nullable: true, defaultValue: false }) acceptPolicy?: boolean | null;
  @Field(() => [ID], { nullable: true, defaultValue: [] }) grant?: string[] | null;
  @Field(() => [ID], { nullable: true, defaultValue: [] }) withdraw?: string[] | null;
  @Field(() => DateTimeScalar, { nullable: true }) occurredAt?: number | null;
  @Field(() => EvidenceInput, { nullable: true }) evidence?: EvidenceInput | null;
  @Field(() => Int, { nullable: true }) expectedVersion?: number | null;
  @Field(() => String, { nullable: true }) idempotencyKey?: string | null;
}

@InputType("RecipientInput")
export class RecipientInput {
  @Field(() => ID) id!: string;
  @Field(() => String) name!: string;
  @Field(() => RecipientKindEnum) kind!: RecipientKind;
  @Field(() => String, { nullable: true }) country?: string | null;
  @Field(() => String, { nullable: true }) privacyPolicyUrl?: string | null;
}

@InputType("PurposeInput")
export class PurposeInput {
  @Field(() => ID) id!: string;
  @Field(() => String) title!: string;
  @Field(() => String, { nullable: true }) description?: string | null;
  @Field(() => ConsentModeEnum) mode!: ConsentMode;
  @Field(() => LegalBasisEnum) basis!: LegalBasis;
  @Field(() => [String]) dataCategories!: string[];
  @Field(() => [RecipientInput], { nullable: true, defaultValue: [] }) recipients?: RecipientInput[] | null;
  @Field(() => Int, { nullable: true }) consentTtlDays?: number | null;
}

@InputType("PublishPolicyVersionInput")
export class PublishPolicyVersionInput {
  @Field(() => ID) policyId!: string;
  @Field(() => String) title!: string;
  @Field(() => ID, { nullable: true }) overrides?: string | null;
  @Field(() => DateTimeScalar) effectiveAt!: number;
  @Field(() => Boolean) requiresConsent!: boolean;
  @Field(() => String, { nullable: true }) documentUrl?: string | null;
  @Field(() => String) documentDigest!: string;
  @Field(() => String, { nullable: true }) changeSummary?: string | null;
  @Field(() => [PurposeInput]) purposes!: PurposeInput[];
}

@InputType("OpenDataRequestInput")
export class OpenDataRequestInput {
  @Field(() => ID, { nullable: true }) subjectId?: string | null;
  @Field(() => DataRequestKindEnum) kind!: DataRequestKind;
  @Field(() => String, { nullable: true }) note?: string | null;
}
