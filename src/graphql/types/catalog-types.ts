// Policies, versions, purposes and recipients as the contract shows them.
import type { ConsentModeType } from "../../domain/catalog.js";
import { ConsentModeEnum, LegalBasisEnum, RecipientKindEnum } from "../enums.js";
import { flag, id, int, listOf, nullable, object, objectType, oneOf, optional, text, timestamp } from "./fields.js";

export const RecipientType = objectType("Recipient", "Who receives data for a purpose: a processor, a third party or an external module.", {
  id: id(),
  name: text(),
  kind: oneOf(RecipientKindEnum),
  country: nullable(text("ISO 3166-1 alpha-2 country where the recipient holds the data.")),
  privacyPolicyUrl: nullable(text()),
  countryProtectionSystem: optional(nullable(text("The recipient country's system for protecting personal information (APPI Art. 28(2))."))),
  measures: optional(nullable(text("What the recipient does to protect the data (APPI Art. 28(2))."))),
  recipientPurpose: optional(nullable(text("What the recipient uses the data for."))),
  equivalentMeasures: optional(flag("The recipient keeps a system meeting the PPC's standard (APPI Art. 28(1)).")),
});
export type RecipientType = InstanceType<typeof RecipientType>;

export const ControllerType = objectType("Controller", "The business operator responsible for the data, as the catalogue names it.", {
  name: text(),
  address: nullable(text()),
  representative: nullable(text("The representative (代表者).")),
  contact: nullable(text("The desk that answers enquiries and requests.")),
  email: nullable(text()),
  phone: nullable(text()),
  url: nullable(text()),
  requestProcedure: nullable(text("How to make a disclosure, correction, deletion or suspension request.")),
});
export type ControllerType = InstanceType<typeof ControllerType>;

/** What a purpose is, the same in the catalogue and in a version being published (PurposeInput). */
export const purposeFields = {
  id: id(),
  title: text(),
  description: nullable(text()),
  mode: oneOf(ConsentModeEnum),
  basis: oneOf(LegalBasisEnum),
  dataCategories: listOf(text()),
};

export const PurposeType = objectType("Purpose", "A purpose of use, with how consent to it works.", {
  ...purposeFields,
  recipients: listOf(object(RecipientType)),
  consentTtlDays: nullable(int("Days a grant lasts; none means until withdrawn.")),
});
// consentModeTypes, gpcApplies and dataCategoryLabels are resolved in PurposeResolver (absent members read as none).
export type PurposeType = InstanceType<typeof PurposeType> & { consentModeTypes?: ConsentModeType[]; gpcApplies?: boolean };

export const DataCategoryType = objectType("DataCategory", "A data category and the plain-language label people are shown instead of its id.", {
  id: text(),
  label: text(),
});
export type DataCategoryType = InstanceType<typeof DataCategoryType>;

export const PolicyVersionType = objectType("PolicyVersion", "One published version of a policy.", {
  policyId: id(),
  number: int(),
  title: text("The policy's title as of this version."),
  effectiveAt: timestamp(),
  publishedAt: timestamp("When the ledger recorded the publication."),
  requiresConsent: flag("Whether this version applies to a subject only after they accept it."),
  documentUrl: nullable(text()),
  digest: text("SHA-256 of the policy document, lowercase hex."),
  changeSummary: nullable(text()),
  purposes: listOf(object(PurposeType)),
});
// dataCategories (labelled) is resolved in PolicyVersionResolver.
// controller is resolved in PolicyVersionResolver (a version that names none inherits the previous one's).
export type PolicyVersionType = InstanceType<typeof PolicyVersionType> & { dataCategories?: DataCategoryType[] };

export const AnnouncementType = objectType("Announcement", "How and when a version's change was announced (the seed policy §6).", {
  method: text(),
  at: timestamp(),
});
export type AnnouncementType = InstanceType<typeof AnnouncementType>;

// overrides, currentVersion and versions are resolved in PolicyResolver.
export const PolicyType = objectType("Policy", "A privacy policy and its versions.", { id: id(), title: text() });
export type PolicyType = InstanceType<typeof PolicyType>;
