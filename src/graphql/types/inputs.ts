// Input types of the contract; sizes are checked in the domain, shapes here.
import { ArgsType, Field } from "type-graphql";
import { ConsentModeTypeEnum, DataRequestKindEnum, RecipientKindEnum, TransferBasisEnum, TransferDirectionEnum } from "../enums.js";
import { DateTimeScalar } from "../scalars.js";
import { purposeFields } from "./catalog-types.js";
import { flag, id, inputType, int, listOf, nullable, object, oneOf, text, timestamp, withDefault } from "./fields.js";

export const PermissionCheckInput = inputType("PermissionCheckInput", undefined, {
  subjectId: id(),
  purposeId: id(),
  policyId: nullable(id()),
  recipientId: nullable(id("A recipient: permitted only if the subject's consent covers it.")),
});
export type PermissionCheckInput = InstanceType<typeof PermissionCheckInput>;

export const EvidenceInput = inputType("EvidenceInput", "How and where the person acted; sealed with the subject's key, erasable.", {
  channel: nullable(text()),
  formId: nullable(text()),
  locale: nullable(text()),
  ipAddress: nullable(text()),
  userAgent: nullable(text()),
  signal: nullable(text('A browser signal the choice was made on instead of a click, e.g. "GPC" (Global Privacy Control).')),
});
export type EvidenceInput = InstanceType<typeof EvidenceInput>;

export const RecordConsentInput = inputType("RecordConsentInput", undefined, {
  subjectId: nullable(id()),
  policyId: nullable(id()),
  policyVersion: int(),
  acceptPolicy: withDefault(nullable(flag()), false),
  grant: withDefault(nullable(listOf(id())), []),
  withdraw: withDefault(nullable(listOf(id())), []),
  occurredAt: nullable(timestamp()),
  evidence: nullable(object(EvidenceInput)),
  expectedVersion: nullable(int()),
  idempotencyKey: nullable(text()),
});
export type RecordConsentInput = InstanceType<typeof RecordConsentInput>;

export const RecipientInput = inputType("RecipientInput", undefined, {
  id: id(),
  name: text(),
  kind: oneOf(RecipientKindEnum),
  country: nullable(text()),
  privacyPolicyUrl: nullable(text()),
  countryProtectionSystem: nullable(text()),
  measures: nullable(text()),
  recipientPurpose: nullable(text()),
  equivalentMeasures: withDefault(nullable(flag("The recipient keeps a system meeting the PPC's standard (APPI Art. 28(1)).")), false),
});
export type RecipientInput = InstanceType<typeof RecipientInput>;

export const ControllerInput = inputType("ControllerInput", undefined, {
  name: text(),
  address: nullable(text()),
  representative: nullable(text("The representative (代表者).")),
  contact: nullable(text()),
  email: nullable(text()),
  phone: nullable(text()),
  url: nullable(text()),
  requestProcedure: nullable(text()),
});
export type ControllerInput = InstanceType<typeof ControllerInput>;

export const PurposeInput = inputType("PurposeInput", undefined, {
  ...purposeFields,
  recipients: withDefault(nullable(listOf(object(RecipientInput))), []),
  consentTtlDays: nullable(int()),
  consentModeTypes: nullable(listOf(oneOf(ConsentModeTypeEnum), "Google Consent Mode v2 types granted exactly when this purpose is permitted.")),
  gpcApplies: nullable(flag("A Global Privacy Control signal withdraws this purpose (OPT_OUT only).")),
});
export type PurposeInput = InstanceType<typeof PurposeInput>;

export const DataCategoryLabelInput = inputType("DataCategoryLabelInput", undefined, {
  id: text(),
  label: text("What people are shown instead of the id, in plain language."),
});
export type DataCategoryLabelInput = InstanceType<typeof DataCategoryLabelInput>;

export const PublishPolicyVersionInput = inputType("PublishPolicyVersionInput", undefined, {
  policyId: id(),
  title: text(),
  overrides: nullable(id()),
  effectiveAt: timestamp(),
  requiresConsent: flag(),
  documentUrl: nullable(text()),
  documentDigest: text(),
  documentText: nullable(
    text("The policy text (at most 200,000 characters); its SHA-256 must equal documentDigest. Served at GET /policies/<policyId>/<version>."),
  ),
  changeSummary: nullable(text()),
  purposes: listOf(object(PurposeInput)),
  dataCategories: nullable(listOf(object(DataCategoryLabelInput), "Plain-language labels of the data categories the purposes name.")),
  controller: nullable(object(ControllerInput, "Left out: the controller of the previous version stays.")),
});
export type PublishPolicyVersionInput = InstanceType<typeof PublishPolicyVersionInput>;

export const OpenDataRequestInput = inputType("OpenDataRequestInput", undefined, {
  subjectId: nullable(id()),
  kind: oneOf(DataRequestKindEnum),
  note: nullable(text()),
  purposeIds: nullable(listOf(id(), "For a SUSPENSION: only these purposes (the subject stays ACTIVE).")),
});
export type OpenDataRequestInput = InstanceType<typeof OpenDataRequestInput>;

export const ProviderInput = inputType("ProviderInput", "The provider of data received from a third party (APPI Art. 30(1)).", {
  name: text(),
  address: text(),
  representative: nullable(text()),
  acquisition: text("How the provider obtained the data."),
});
export type ProviderInput = InstanceType<typeof ProviderInput>;

export const ThirdPartyTransferInput = inputType("ThirdPartyTransferInput", "A provision to, or receipt from, a third party (APPI Arts. 29, 30).", {
  subjectIds: listOf(id()),
  direction: oneOf(TransferDirectionEnum),
  counterpartyId: id("A recipient id the catalogue names."),
  purposeId: nullable(id()),
  dataCategories: listOf(text()),
  basis: oneOf(TransferBasisEnum),
  occurredAt: nullable(timestamp()),
  note: nullable(text()),
  provider: nullable(object(ProviderInput, "Required for RECEIVED: who provided the data and how they obtained it (APPI Art. 30(1)).")),
});
export type ThirdPartyTransferInput = InstanceType<typeof ThirdPartyTransferInput>;

export const NoticeShownInput = inputType("NoticeShownInput", "A notice (a policy version) shown to a subject.", {
  subjectId: nullable(id()),
  policyId: nullable(id()),
  policyVersion: int(),
  channel: text(),
  locale: text(),
  noticeId: nullable(text()),
});
export type NoticeShownInput = InstanceType<typeof NoticeShownInput>;

/** The arguments of a read as of a moment: valid time `at`, as the ledger knew it at `knownAt` (both now when left out). */
@ArgsType()
export class AsOfArgs {
  @Field(() => DateTimeScalar, { nullable: true }) knownAt?: number | null;
  @Field(() => DateTimeScalar, { nullable: true }) at?: number | null;
}
