// Policies, versions, purposes and recipients as the contract shows them.
import { Field, ID, Int, ObjectType } from "type-graphql";
import type { ConsentMode, ConsentModeType, LegalBasis, RecipientKind } from "../../domain/catalog.js";
import { ConsentModeEnum, ConsentModeTypeEnum, LegalBasisEnum, RecipientKindEnum } from "../enums.js";
import { DateTimeScalar } from "../scalars.js";

@ObjectType("Recipient", { description: "Who receives data for a purpose: a processor, a third party or an external module." })
export class RecipientType {
  @Field(() => ID) id!: string;
  @Field(() => String) name!: string;
  @Field(() => RecipientKindEnum) kind!: RecipientKind;
  @Field(() => String, { nullable: true, description: "ISO 3166-1 alpha-2 country where the recipient holds the data." })
  country!: string | null;
  @Field(() => String, { nullable: true }) privacyPolicyUrl!: string | null;
  @Field(() => String, { nullable: true, description: "The recipient country's system for protecting personal information (APPI Art. 28(2))." })
  countryProtectionSystem?: string | null;
  @Field(() => String, { nullable: true, description: "What the recipient does to protect the data (APPI Art. 28(2))." })
  measures?: string | null;
  @Field(() => String, { nullable: true, description: "What the recipient uses the data for." })
  recipientPurpose?: string | null;
  @Field(() => Boolean, { description: "The recipient keeps a system meeting the PPC's standard (APPI Art. 28(1))." })
  equivalentMeasures?: boolean;
}

@ObjectType("Controller", { description: "The business operator responsible for the data, as the catalogue names it." })
export class ControllerType {
  @Field(() => String) name!: string;
  @Field(() => String, { nullable: true }) address!: string | null;
  @Field(() => String, { nullable: true, description: "The representative (代表者)." }) representative!: string | null;
  @Field(() => String, { nullable: true, description: "The desk that answers enquiries and requests." }) contact!: string | null;
  @Field(() => String, { nullable: true }) email!: string | null;
  @Field(() => String, { nullable: true }) phone!: string | null;
  @Field(() => String, { nullable: true }) url!: string | null;
  @Field(() => String, { nullable: true, description: "How to make a disclosure, correction, deletion or suspension request." })
  requestProcedure!: string | null;
}

@ObjectType("Purpose", { description: "A purpose of use, with how consent to it works." })
export class PurposeType {
  @Field(() => ID) id!: string;
  @Field(() => String) title!: string;
  @Field(() => String, { nullable: true }) description!: string | null;
  @Field(() => ConsentModeEnum) mode!: ConsentMode;
  @Field(() => LegalBasisEnum) basis!: LegalBasis;
  @Field(() => [String]) dataCategories!: string[];
  @Field(() => [RecipientType]) recipients!: RecipientType[];
  @Field(() => Int, { nullable: true, description: "Days a grant lasts; none means until withdrawn." })
  consentTtlDays!: number | null;
  consentModeTypes?: ConsentModeType[];
  gpcApplies?: boolean;
  // consentModeTypes, gpcApplies and dataCategoryLabels are resolved in PurposeResolver (absent members read as none).
}


@ObjectType("DataCategory", { description: "A data category and the plain-language label people are shown instead of its id." })
export class DataCategoryType {
  @Field(() => String) id!: string;
  @Field(() => String) label!: string;
}

@ObjectType("PolicyVersion", { description: "One published version of a policy." })
export class PolicyVersionType {
  @Field(() => ID) policyId!: string;
  @Field(() => Int) number!: number;
  @Field(() => String, { description: "The policy's title as of this version." }) title!: string;
  @Field(() => DateTimeScalar) effectiveAt!: number;
  @Field(() => DateTimeScalar, { description: "When the ledger recorded the publication." }) publishedAt!: number;
  @Field(() => Boolean, { description: "Whether this version applies to a subject only after they accept it." })
  requiresConsent!: boolean;
  @Field(() => String, { nullable: true }) documentUrl!: string | null;
  @Field(() => String, { description: "SHA-256 of the policy document, lowercase hex." }) digest!: string;
  @Field(() => String, { nullable: true }) changeSummary!: string | null;
  @Field(() => [PurposeType]) purposes!: PurposeType[];
  dataCategories?: DataCategoryType[];
  // dataCategories (labelled) is resolved in PolicyVersionResolver.
  // controller is resolved in PolicyVersionResolver (a version that names none inherits the previous one's).
}

@ObjectType("Announcement", { description: "How and when a version's change was announced (the seed policy §6)." })
export class AnnouncementType {
  @Field(() => String) method!: string;
  @Field(() => DateTimeScalar) at!: number;
}

@ObjectType("Policy", { description: "A privacy policy and its versions." })
export class PolicyType {
  @Field(() => ID) id!: string;
  @Field(() => String) title!: string;
  // overrides, currentVersion and versions are resolved in PolicyResolver.
}
