// What a publication says: consent modes, legal bases, recipients, the controller, purposes and
// the policy version that carries them. The vocabulary the catalogue and the events share.
import type { Instant } from "./time.js";

export const CONSENT_MODES = ["OPT_IN", "OPT_OUT", "REQUIRED"] as const;
export type ConsentMode = (typeof CONSENT_MODES)[number];
export const LEGAL_BASES = ["CONSENT", "CONTRACT", "LEGAL_OBLIGATION", "LEGITIMATE_INTEREST", "VITAL_INTEREST", "PUBLIC_TASK"] as const;
export type LegalBasis = (typeof LEGAL_BASES)[number];
export const RECIPIENT_KINDS = ["PROCESSOR", "THIRD_PARTY", "EXTERNAL_MODULE", "JOINT_USER"] as const;
export type RecipientKind = (typeof RECIPIENT_KINDS)[number];

/** Google Consent Mode v2 storage types a purpose may map to: granted exactly when the purpose is permitted. */
export const CONSENT_MODE_TYPES = ["analytics_storage", "ad_storage", "ad_user_data", "ad_personalization", "functionality_storage", "personalization_storage", "security_storage"] as const;
export type ConsentModeType = (typeof CONSENT_MODE_TYPES)[number];

export interface Recipient {
  id: string;
  name: string;
  kind: RecipientKind;
  country: string | null;
  privacyPolicyUrl: string | null;
  /** The recipient country's system for protecting personal information (APPI Art. 28(2)). */
  countryProtectionSystem?: string | null;
  /** What the recipient does to protect the data (APPI Art. 28(2)). */
  measures?: string | null;
  /** What the recipient uses the data for. */
  recipientPurpose?: string | null;
  /** The recipient keeps a system meeting the PPC's standard (APPI Art. 28(1)); publications that predate it read false. */
  equivalentMeasures?: boolean;
}

/** What a person is told of a recipient's protection of the data (APPI Art. 28(2)), null where the publication says nothing. */
export const transferDetailsOf = (r: Pick<Recipient, "countryProtectionSystem" | "measures" | "recipientPurpose">) => ({
  countryProtectionSystem: r.countryProtectionSystem ?? null,
  measures: r.measures ?? null,
  recipientPurpose: r.recipientPurpose ?? null,
});

/** The business operator responsible for the data (個人情報取扱事業者), as receipts and exports name it. */
export interface Controller {
  name: string;
  address: string | null;
  /** The representative (代表者); versions published before it existed read null. */
  representative?: string | null;
  /** The desk that answers enquiries and requests (e.g. 個人情報お問い合わせ窓口). */
  contact: string | null;
  email: string | null;
  phone: string | null;
  url: string | null;
  /** How to make a disclosure, correction, deletion or suspension request (text or a URL). */
  requestProcedure: string | null;
}

export interface Purpose {
  id: string;
  title: string;
  description: string | null;
  mode: ConsentMode;
  basis: LegalBasis;
  dataCategories: string[];
  recipients: Recipient[];
  consentTtlDays: number | null;
  /** Google Consent Mode v2 types this purpose governs (front ends signal them); absent: none. */
  consentModeTypes?: ConsentModeType[];
  /** A Global Privacy Control signal withdraws this (OPT_OUT) purpose; absent: false. */
  gpcApplies?: boolean;
}

/** A data category's plain-language label, as a version's notice shows it instead of the id. */
export interface DataCategoryLabel {
  id: string;
  label: string;
}

/** What a publication says; the payload of a PolicyVersionPublished event. */
export interface PolicyVersionSpec {
  policyId: string;
  number: number;
  title: string;
  overrides: string | null;
  effectiveAt: Instant;
  requiresConsent: boolean;
  documentUrl: string | null;
  digest: string;
  changeSummary: string | null;
  purposes: Purpose[];
  /** Who is responsible for the data under this version; versions published before it existed hold none. */
  controller?: Controller | null;
  /** Labels for the data categories the purposes name; absent: the ids are shown. */
  dataCategories?: DataCategoryLabel[];
  /** The text the digest stands for, when the publication carried it. */
  documentText?: string | null;
}

export interface PolicyVersion extends PolicyVersionSpec {
  /** Transaction time of the publication. */
  publishedAt: Instant;
}
