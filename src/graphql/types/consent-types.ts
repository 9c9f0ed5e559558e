// Consent states, policy standings and permission decisions.
import { ConsentStatusEnum, DecisionReasonEnum } from "../enums.js";
import { PolicyType, PolicyVersionType, PurposeType, RecipientType } from "./catalog-types.js";
import { flag, id, int, listOf, nullable, object, objectType, oneOf, text, timestamp } from "./fields.js";

export const ConsentStateType = objectType("ConsentState", "Where a subject stands with one purpose, and whether processing is permitted.", {
  policyId: id(),
  purpose: object(PurposeType),
  status: oneOf(ConsentStatusEnum),
  permitted: flag(),
  reason: oneOf(DecisionReasonEnum),
  since: nullable(timestamp("When the subject's current choice was made.")),
  expiresAt: nullable(timestamp()),
  policyVersion: nullable(int("The applicable version the decision was made under.")),
  eventId: nullable(id("The event that recorded the current choice.")),
  coveredRecipients: listOf(
    object(RecipientType),
    "The recipients this consent covers: those the purpose listed in the version the grant was made under (APPI Arts. 27, 28).",
  ),
  coveredDataCategories: listOf(text(), "The data categories this consent covers: those the purpose listed in the version the grant was made under."),
});
export type ConsentStateType = InstanceType<typeof ConsentStateType>;

export const PolicyStandingType = objectType("PolicyStanding", "Which version of a policy applies to a subject, and whether they must re-consent.", {
  policy: object(PolicyType),
  acceptedVersion: nullable(object(PolicyVersionType)),
  acceptedAt: nullable(timestamp()),
  applicableVersion: nullable(object(PolicyVersionType)),
  pendingVersion: nullable(object(PolicyVersionType)),
  needsReconsent: flag(),
});
export type PolicyStandingType = InstanceType<typeof PolicyStandingType>;

/** Which subject and which purpose (of which policy) a decision or a change is about. */
export const subjectPurposeFields = { subjectId: id(), policyId: id(), purposeId: id() };

export const PermissionDecisionType = objectType("PermissionDecision", "May this subject's data be processed for this purpose?", {
  ...subjectPurposeFields,
  permitted: flag(),
  status: oneOf(ConsentStatusEnum),
  reason: oneOf(DecisionReasonEnum),
  policyVersion: nullable(int()),
  since: nullable(timestamp()),
  expiresAt: nullable(timestamp()),
});
export type PermissionDecisionType = InstanceType<typeof PermissionDecisionType>;
