// The contract's enums, registered once for type-graphql.
import { registerEnumType } from "type-graphql";
import { CONSENT_MODES, CONSENT_MODE_TYPES, LEGAL_BASES, RECIPIENT_KINDS } from "../domain/catalog.js";
import { ACTOR_KINDS, DATA_REQUEST_KINDS, TRANSFER_BASES, TRANSFER_DIRECTIONS } from "../domain/events.js";
import { CONSENT_STATUSES, DECISION_REASONS } from "../domain/permission.js";
import { DATA_REQUEST_STATUSES, SUBJECT_STATUSES } from "../domain/subject.js";

/** A GraphQL enum named `name` whose values are the domain's own strings, registered with type-graphql. */
function graphqlEnum<T extends string>(name: string, values: readonly T[], description?: string): { [K in T]: K } {
  const members = Object.fromEntries(values.map((v) => [v, v])) as { [K in T]: K };
  registerEnumType(members, { name, description });
  return members;
}

export const ConsentModeEnum = graphqlEnum("ConsentMode", CONSENT_MODES);
export const ConsentModeTypeEnum = graphqlEnum("ConsentModeType", CONSENT_MODE_TYPES, "A Google Consent Mode v2 storage type.");
export const LegalBasisEnum = graphqlEnum("LegalBasis", LEGAL_BASES);
export const RecipientKindEnum = graphqlEnum("RecipientKind", RECIPIENT_KINDS);
export const ConsentStatusEnum = graphqlEnum("ConsentStatus", CONSENT_STATUSES);
export const SubjectStatusEnum = graphqlEnum("SubjectStatus", SUBJECT_STATUSES);
export const DecisionReasonEnum = graphqlEnum("DecisionReason", DECISION_REASONS);
export const ActorKindEnum = graphqlEnum("ActorKind", ACTOR_KINDS);
export const DataRequestKindEnum = graphqlEnum("DataRequestKind", DATA_REQUEST_KINDS);
export const DataRequestStatusEnum = graphqlEnum("DataRequestStatus", DATA_REQUEST_STATUSES);
export const TransferDirectionEnum = graphqlEnum("TransferDirection", TRANSFER_DIRECTIONS);
export const TransferBasisEnum = graphqlEnum("TransferBasis", TRANSFER_BASES);
