// Subjects, their data requests, proofs of the ledger, and the change feed's message.
import { ConsentStatusEnum, DataRequestKindEnum, DataRequestStatusEnum, SubjectStatusEnum } from "../enums.js";
import { ConsentStateType, subjectPurposeFields } from "./consent-types.js";
import { LedgerEventType } from "./event-types.js";
import { flag, id, int, listOf, nullable, object, objectType, oneOf, text, timestamp } from "./fields.js";

// consents, policyStandings, history and dataRequests are resolved in SubjectResolver.
export const SubjectType = objectType("Subject", "A person whose consent the ledger keeps.", {
  id: id(),
  status: oneOf(SubjectStatusEnum),
  version: int("How many events the subject's stream holds; pass it as expectedVersion."),
});
export type SubjectType = InstanceType<typeof SubjectType>;

export const DataRequestType = objectType("DataRequest", "A disclosure, correction, deletion or suspension request (APPI Arts. 33-35).", {
  id: id(),
  subjectId: id(),
  kind: oneOf(DataRequestKindEnum),
  status: oneOf(DataRequestStatusEnum),
  openedAt: timestamp(),
  dueAt: timestamp(),
  closedAt: nullable(timestamp()),
  note: nullable(text()),
  overdue: flag("Still open past its due date."),
  purposeIds: nullable(listOf(id(), "The purposes a SUSPENSION request names; null for all.")),
  identityCheck: nullable(
    text("How identity was checked: the officer's words while the subject's key exists, the kind of check (e.g. document) after erasure."),
  ),
});
export type DataRequestType = InstanceType<typeof DataRequestType>;

export const LedgerIntegrityType = objectType("LedgerIntegrity", "The result of walking the whole hash chain and comparing the read tables with a rebuild from it.", {
  ok: flag("The chain verifies and every read table equals its rebuild from the log."),
  eventCount: int(),
  headPosition: nullable(text()),
  headHash: nullable(text()),
  firstInvalidPosition: nullable(text()),
  readModelsOk: flag("Every read table (consents, standings, subjects, data requests, histories) equals its rebuild from the log."),
  differingReadModels: listOf(text(), "The read tables that differ from a rebuild from the log: edited outside the ledger (run `cli rebuild`)."),
});
export type LedgerIntegrityType = InstanceType<typeof LedgerIntegrityType>;

export const SignedHeadType = objectType("SignedHead", "The chain's head, signed with the receipt key (JWS, verifiable with the JWKS).", {
  position: text(),
  hash: text(),
  signedAt: timestamp(),
  jws: text(),
});
export type SignedHeadType = InstanceType<typeof SignedHeadType>;

export const ConsentChangeType = objectType("ConsentChange", "A change of one purpose's status or permission for one subject.", {
  cursor: text(),
  ...subjectPurposeFields,
  previous: nullable(oneOf(ConsentStatusEnum)),
  current: object(ConsentStateType),
  event: object(LedgerEventType),
});
export type ConsentChangeType = InstanceType<typeof ConsentChangeType>;

export const RecordConsentPayloadType = objectType("RecordConsentPayload", undefined, {
  subject: object(SubjectType),
  events: listOf(object(LedgerEventType)),
  receipt: text("A JWS (compact) over a Kantara v1.1 consent receipt; verify it with /.well-known/jwks.json."),
});
/** `events` is resolved lazily: the events are presented (their evidence opened) only when selected. */
export type RecordConsentPayloadType = Omit<InstanceType<typeof RecordConsentPayloadType>, "events"> & {
  events: LedgerEventType[] | Promise<LedgerEventType[]>;
};
