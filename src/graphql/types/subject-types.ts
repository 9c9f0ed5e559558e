// Subjects, their data requests, proofs of the ledger, and the change feed's message.
import { Field, ID, Int, ObjectType } from "type-graphql";
import type { DataRequestKind } from "../../domain/events.js";
import type { ConsentStatus } from "../../domain/permission.js";
import type { DataRequestStatus, SubjectStatus } from "../../domain/subject.js";
import { ConsentStatusEnum, DataRequestKindEnum, DataRequestStatusEnum, SubjectStatusEnum } from "../enums.js";
import { DateTimeScalar } from "../scalars.js";
import { ConsentStateType } from "./consent-types.js";
import { LedgerEventType } from "./event-types.js";

@ObjectType("Subject", { description: "A person whose consent the ledger keeps." })
export class SubjectType {
  @Field(() => ID) id!: string;
  @Field(() => SubjectStatusEnum) status!: SubjectStatus;
  @Field(() => Int, { description: "How many events the subject's stream holds; pass it as expectedVersion." }) version!: number;
  // consents, policyStandings, history and dataRequests are resolved in SubjectResolver.
}

@ObjectType("DataRequest", { description: "A disclosure, correction, deletion or suspension request (APPI Arts. 33-35)." })
export class DataRequestType {
  @Field(() => ID) id!: string;
  @Field(() => ID) subjectId!: string;
  @Field(() => DataRequestKindEnum) kind!: DataRequestKind;
  @Field(() => DataRequestStatusEnum) status!: DataRequestStatus;
  @Field(() => DateTimeScalar) openedAt!: number;
  @Field(() => DateTimeScalar) dueAt!: number;
  @Field(() => DateTimeScalar, { nullable: true }) closedAt!: number | null;
  @Field(() => String, { nullable: true }) note!: string | null;
  @Field(() => Boolean, { description: "Still open past its due date." }) overdue!: boolean;
  @Field(() => [ID], { nullable: true, description: "The purposes a SUSPENSION request names; null for all." }) purposeIds!: string[] | null;
  @Field(() => String, {
    nullable: true,
    description: "How identity was checked: the officer's words while the subject's key exists, the kind of check (e.g. document) after erasure.",
  })
  identityCheck!: string | null;
}

@ObjectType("LedgerIntegrity", { description: "The result of walking the whole hash chain and comparing the read tables with a rebuild from it." })
export class LedgerIntegrityType {
  @Field(() => Boolean, { description: "The chain verifies and every read table equals its rebuild from the log." }) ok!: boolean;
  @Field(() => Int) eventCount!: number;
  @Field(() => String, { nullable: true }) headPosition!: string | null;
  @Field(() => String, { nullable: true }) headHash!: string | null;
  @Field(() => String, { nullable: true }) firstInvalidPosition!: string | null;
  @Field(() => Boolean, { description: "Every read table (consents, standings, subjects, data requests, histories) equals its rebuild from the log." })
  readModelsOk!: boolean;
  @Field(() => [String], { description: "The read tables that differ from a rebuild from the log: edited outside the ledger (run `cli rebuild`)." })
  differingReadModels!: string[];
}

@ObjectType("SignedHead", { description: "The chain's head, signed with the receipt key (JWS, verifiable with the JWKS)." })
export class SignedHeadType {
  @Field(() => String) position!: string;
  @Field(() => String) hash!: string;
  @Field(() => DateTimeScalar) signedAt!: number;
  @Field(() => String) jws!: string;
}

@ObjectType("ConsentChange", { description: "A change of one purpose's status or permission for one subject." })
export class ConsentChangeType {
  @Field(() => String) cursor!: string;
  @Field(() => ID) subjectId!: string;
  @Field(() => ID) policyId!: string;
  @Field(() => ID) purposeId!: string;
  @Field(() => ConsentStatusEnum, { nullable: true }) previous!: ConsentStatus | null;
  @Field(() => ConsentStateType) current!: ConsentStateType;
  @Field(() => LedgerEventType) event!: LedgerEventType;
}

@ObjectType("RecordConsentPayload")
export class RecordConsentPayloadType {
  @Field(() => SubjectType) subject!: SubjectType;
  /** Resolved lazily: the events are presented (their evidence opened) only when selected. */
  @Field(() => [LedgerEventType]) events!: LedgerEventType[] | Promise<LedgerEventType[]>;
  @Field(() => String, { description: "A JWS (compact) over a Kantara v1.1 consent receipt; verify it with /.well-known/jwks.json." })
  receipt!: string;
}
