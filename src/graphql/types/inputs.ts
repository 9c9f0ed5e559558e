// Input types of the contract; sizes are checked in the domain, shapes here.
import { Field, ID, InputType, Int } from "type-graphql";
import type { ConsentMode, ConsentModeType, LegalBasis, RecipientKind } from "../../domain/catalog.js";
import type { DataRequestKind, TransferBasis, TransferDirection } from "../../domain/events.js";
import { ConsentModeEnum, ConsentModeTypeEnum, DataRequestKindEnum, LegalBasisEnum, RecipientKindEnum, TransferBasisEnum, TransferDirectionEnum } from "../enums.js";
import { DateTimeScalar } from "../scalars.js";

@InputType("PermissionCheckInput")
export class PermissionCheckInput {
  @Field(() => ID) subjectId!: string;
  @Field(() => ID) purposeId!: string;
  @Field(() => ID, { nullable: true }) policyId?: string | null;
  @Field(() => ID, { nullable: true, description: "A recipient: permitted only if the subject's consent covers it." }) recipientId?: string | null;
}

@InputType("EvidenceInput", { description: "How and where the person acted; sealed with the subject's key, erasable." })
export class EvidenceInput {
  @Field(() => String, { nullable: true }) channel?: string | null;
  @Field(() => String, { nullable: true }) formId?: string | null;
  @Field(() => String, { nullable: true }) locale?: string | null;
  @Field(() => String, { nullable: true }) ipAddress?: string | null;
  @Field(() => String, { nullable: true }) userAgent?: string | null;
  @Field(() => String, { nullable: true, description: 'A browser signal the choice was made on instead of a click, e.g. "GPC" (Global Privacy Control).' })
  signal?: string | null;
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
  @Field(() => String, { nullable: true }) countryProtectionSystem?: string | null;
  @Field(() => String, { nullable: true }) measures?: string | null;
  @Field(() => String, { nullable: true }) recipientPurpose?: string | null;
  @Field(() => Boolean, {
    nullable: true,
    defaultValue: false,
    description: "The recipient keeps a system meeting the PPC's standard (APPI Art. 28(1)).",
  })
  equivalentMeasures?: boolean | null;
}

@InputType("ControllerInput")
export class ControllerInput {
  @Field(() => String) name!: string;
  @Field(() => String, { nullable: true }) address?: string | null;
  @Field(() => String, { nullable: true, description: "The representative (代表者)." }) representative?: string | null;
  @Field(() => String, { nullable: true }) contact?: string | null;
  @Field(() => String, { nullable: true }) email?: string | null;
  @Field(() => String, { nullable: true }) phone?: string | null;
  @Field(() => String, { nullable: true }) url?: string | null;
  @Field(() => String, { nullable: true }) requestProcedure?: string | null;
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
  @Field(() => [ConsentModeTypeEnum], { nullable: true, description: "Google Consent Mode v2 types granted exactly when this purpose is permitted." })
  consentModeTypes?: ConsentModeType[] | null;
  @Field(() => Boolean, { nullable: true, description: "A Global Privacy Control signal withdraws this purpose (OPT_OUT only)." })
  gpcApplies?: boolean | null;
}

@InputType("DataCategoryLabelInput")
export class DataCategoryLabelInput {
  @Field(() => String) id!: string;
  @Field(() => String, { description: "What people are shown instead of the id, in plain language." }) label!: string;
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
  @Field(() => String, { nullable: true, description: "The policy text (at most 200,000 characters); its SHA-256 must equal documentDigest. Served at GET /policies/<policyId>/<version>." })
  documentText?: string | null;
  @Field(() => String, { nullable: true }) changeSummary?: string | null;
  @Field(() => [PurposeInput]) purposes!: PurposeInput[];
  @Field(() => [DataCategoryLabelInput], { nullable: true, description: "Plain-language labels of the data categories the purposes name." })
  dataCategories?: DataCategoryLabelInput[] | null;
  @Field(() => ControllerInput, { nullable: true, description: "Left out: the controller of the previous version stays." }) controller?: ControllerInput | null;
}

@InputType("OpenDataRequestInput")
export class OpenDataRequestInput {
  @Field(() => ID, { nullable: true }) subjectId?: string | null;
  @Field(() => DataRequestKindEnum) kind!: DataRequestKind;
  @Field(() => String, { nullable: true }) note?: string | null;
  @Field(() => [ID], { nullable: true, description: "For a SUSPENSION: only these purposes (the subject stays ACTIVE)." }) purposeIds?: string[] | null;
}

@InputType("ProviderInput", { description: "The provider of data received from a third party (APPI Art. 30(1))." })
export class ProviderInput {
  @Field(() => String) name!: string;
  @Field(() => String) address!: string;
  @Field(() => String, { nullable: true }) representative?: string | null;
  @Field(() => String, { description: "How the provider obtained the data." }) acquisition!: string;
}

@InputType("ThirdPartyTransferInput", { description: "A provision to, or receipt from, a third party (APPI Arts. 29, 30)." })
export class ThirdPartyTransferInput {
  @Field(() => [ID]) subjectIds!: string[];
  @Field(() => TransferDirectionEnum) direction!: TransferDirection;
  @Field(() => ID, { description: "A recipient id the catalogue names." }) counterpartyId!: string;
  @Field(() => ID, { nullable: true }) purposeId?: string | null;
  @Field(() => [String]) dataCategories!: string[];
  @Field(() => TransferBasisEnum) basis!: TransferBasis;
  @Field(() => DateTimeScalar, { nullable: true }) occurredAt?: number | null;
  @Field(() => String, { nullable: true }) note?: string | null;
  @Field(() => ProviderInput, { nullable: true, description: "Required for RECEIVED: who provided the data and how they obtained it (APPI Art. 30(1))." })
  provider?: ProviderInput | null;
}

@InputType("NoticeShownInput", { description: "A notice (a policy version) shown to a subject." })
export class NoticeShownInput {
  @Field(() => ID, { nullable: true }) subjectId?: string | null;
  @Field(() => ID, { nullable: true }) policyId?: string | null;
  @Field(() => Int) policyVersion!: number;
  @Field(() => String) channel!: string;
  @Field(() => String) locale!: string;
  @Field(() => String, { nullable: true }) noticeId?: string | null;
}
