// The contract's enums, registered once for type-graphql.
import { registerEnumType } from "type-graphql";
import { CONSENT_MODES, CONSENT_MODE_TYPES, LEGAL_BASES, RECIPIENT_KINDS } from "../domain/catalog.js";
import { ACTOR_KINDS, DATA_REQUEST_KINDS, TRANSFER_BASES, TRANSFER_DIRECTIONS } from "../domain/events.js";
import { CONSENT_STATUSES, DECISION_REASONS } from "../domain/permission.js";
import { DATA_REQUEST_STATUSES, SUBJECT_STATUSES } from "../domain/subject.js";

const asEnum = <T extends string>(values: readonly T[]) => Object.fromEntries(values.map((v) => [v, v])) as { [K in T]: K };

export const ConsentModeEnum = asEnum(CONSENT_MODES);
export const ConsentModeTypeEnum = asEnum(CONSENT_MODE_TYPES);
export const LegalBasisEnum = asEnum(LEGAL_BASES);
export const RecipientKindEnum = asEnum(RECIPIENT_KINDS);
export const ConsentStatusEnum = asEnum(CONSENT_STATUSES);
export const SubjectStatusEnum = asEnum(SUBJECT_STATUSES);
export const DecisionReasonEnum = asEnum(DECISION_REASONS);
export const ActorKindEnum = asEnum(ACTOR_KINDS);
export const DataRequestKindEnum = asEnum(DATA_REQUEST_KINDS);
export const DataRequestStatusEnum = asEnum(DATA_REQUEST_STATUSES);
export const TransferDirectionEnum = asEnum(TRANSFER_DIRECTIONS);
export const TransferBasisEnum = asEnum(TRANSFER_BASES);

registerEnumType(ConsentModeEnum, { name: "ConsentMode" });
registerEnumType(ConsentModeTypeEnum, { name: "ConsentModeType", description: "A Google Consent Mode v2 storage type." });
registerEnumType(LegalBasisEnum, { name: "LegalBasis" });
registerEnumType(RecipientKindEnum, { name: "RecipientKind" });
registerEnumType(ConsentStatusEnum, { name: "ConsentStatus" });
registerEnumType(SubjectStatusEnum, { name: "SubjectStatus" });
registerEnumType(DecisionReasonEnum, { name: "DecisionReason" });
registerEnumType(ActorKindEnum, { name: "ActorKind" });
registerEnumType(DataRequestKindEnum, { name: "DataRequestKind" });
registerEnumType(DataRequestStatusEnum, { name: "DataRequestStatus" });
registerEnumType(TransferDirectionEnum, { name: "TransferDirection" });
registerEnumType(TransferBasisEnum, { name: "TransferBasis" });
