// Commands as plain data, and the one decide step that answers each: what a storage adapter runs
// inside its write transaction (on whichever thread or server holds it), so expectedVersion is exact.
import { type Catalog, versionOf } from "./catalog.js";
import { LedgerError, badInput } from "./errors.js";
import {
  DEFAULT_MAX_OPEN_REQUESTS,
  type OpenDataRequestCommand,
  type PublishCommand,
  type RecordConsentCommand,
  decideCloseDataRequest,
  decideErase,
  decideExtendDataRequest,
  DEFAULT_MAX_EXTENSION_DAYS,
  type NoticeShownCommand,
  decideNoticeShown,
  decidePersonalDataAccessed,
  decideLeave,
  decideOpenDataRequest,
  decidePublish,
  decideRecordConsent,
  decideResume,
  decideSuspend,
  decideVerifyIdentity,
  checkId,
  checkText,
  MAX_FUTURE_SKEW_MS,
} from "./decide.js";
import type { DomainEvent } from "./events.js";
import { checkPseudonymousSubject } from "./identifiers.js";
import type { TransferCommand } from "./transfer.js";
import type { SubjectState } from "./subject.js";
import type { Instant } from "./time.js";

/** A command on one subject's stream. */
export type SubjectCommand =
  | { kind: "recordConsent"; subjectId: string; input: RecordConsentCommand }
  | { kind: "suspendProcessing"; subjectId: string; reason: string | null }
  | { kind: "resumeProcessing"; subjectId: string }
  | { kind: "leaveService"; subjectId: string }
  | { kind: "eraseSubject"; subjectId: string; reason: string | null }
  | { kind: "openDataRequest"; subjectId: string; input: OpenDataRequestCommand }
  | { kind: "verifyDataRequestIdentity"; subjectId: string; requestId: string; method: string }
  | { kind: "closeDataRequest"; subjectId: string; requestId: string; fulfilled: boolean; note: string | null }
  | { kind: "extendDataRequest"; subjectId: string; requestId: string; days: number; reason: string }
  | { kind: "recordNoticeShown"; subjectId: string; input: NoticeShownCommand }
  | { kind: "recordPersonalDataAccessed"; subjectId: string; read: string; reason: string | null };

/** A command on a policy's stream. */
export interface PublishPolicyVersion {
  kind: "publishPolicyVersion";
  input: PublishCommand;
  /**
   * The shipped catalogue at start: a version whose text digest the policy already has is not
   * published again. Decided in the publishing transaction, so replicas starting together publish
   * each version once.
   */
  unlessPublished?: boolean;
}

/** One transfer record per subject, all or none (APPI Arts. 29, 30); `transferIds` pairs with `input.subjectIds`. */
export interface RecordThirdPartyTransfer {
  kind: "recordThirdPartyTransfer";
  input: TransferCommand;
  transferIds: readonly string[];
}

/** `from`'s choices and acceptances carried into `into`; `from` becomes MERGED. Two streams in one transaction. */
export interface MergeSubjects {
  kind: "mergeSubjects";
  from: string;
  into: string;
}

/**
 * The time-driven changes due by `now`, as system events: a ConsentExpired per grant past its
 * expiry, a PolicyVersionEffective per version come into effect; at most `limit` of each.
 */
export interface RecordDueChanges {
  kind: "recordDueChanges";
  limit: number;
}

/** A policy version's change announced (the seed policy §6): appended to the policy's announcement stream. */
export interface RecordPolicyAnnouncement {
  kind: "recordPolicyAnnouncement";
  policyId: string;
  version: number;
  method: string;
  at: Instant | null;
}

export type LedgerCommand = SubjectCommand | PublishPolicyVersion | RecordThirdPartyTransfer | MergeSubjects | RecordDueChanges | RecordPolicyAnnouncement;

/** The stream of a policy's announcements (apart from its publications, whose stream version is the version count). */
export const announcementStream = (policyId: string) => `policy-announcements:${policyId}`;

/** The announcement event: the version must be published; `at` defaults to now and lies no further ahead than clock skew. */
export function decideAnnouncement(cmd: RecordPolicyAnnouncement, catalog: Catalog, now: Instant): DomainEvent {
  checkId("policy id", cmd.policyId);
  if (cmd.method.trim() === "") throw badInput("method must say how the change was announced", { field: "method" });
  checkText("method", cmd.method, 256);
  const at = cmd.at ?? now;
  if (at > now + MAX_FUTURE_SKEW_MS) throw badInput("at lies more than 5 minutes in the future", { field: "at" });
  const policy = catalog.get(cmd.policyId);
  if (!policy) throw new LedgerError("UNKNOWN_POLICY", `policy ${cmd.policyId} is not published`);
  if (!versionOf(policy, cmd.version)) throw new LedgerError("UNKNOWN_POLICY_VERSION", `policy ${cmd.policyId} has no version ${cmd.version}`);
  return { type: "PolicyAnnounced", occurredAt: at, data: { policyId: cmd.policyId, version: cmd.version, method: cmd.method, at } };
}

/** The stream of the ledger's own time-driven facts that belong to no subject (versions coming into effect). */
export const CLOCK_STREAM = "system:clock";
/** The actor of time-driven facts. */
export const SYSTEM_CLOCK = { kind: "SYSTEM", id: "clock" } as const;

/**
 * The operator's bounds on what a command may do (from the configuration); each left out takes
 * its default: no floor, 5 open requests, no identifying subject ids.
 */
export interface CommandBounds {
  /** OCCURRED_AT_FLOOR: no back-dated occurredAt before this instant. */
  occurredAtFloor?: Instant | null;
  /** MAX_OPEN_DATA_REQUESTS: data requests one subject may have open at once. */
  maxOpenDataRequests?: number;
  /** ALLOW_IDENTIFYING_SUBJECT_IDS: new subject ids may look like an email address or phone number. */
  allowIdentifyingSubjectIds?: boolean;
  /** DEFAULT_POLICY_ID: the policy a command that names none is about, once published; null for the one base policy. */
  defaultPolicyId?: string | null;
  /** DATA_REQUEST_MAX_EXTENSION_DAYS: how many days in total a request's due date may be moved. */
  maxExtensionDays?: number;
  /** ADEQUATE_COUNTRIES: countries outside Japan with a system the PPC recognises as equivalent (APPI Art. 28(1)). */
  adequateCountries?: readonly string[];
}

/** The events a subject command decides, given the subject's state and the catalogue as the log holds them. */
export function decideSubjectCommand(cmd: SubjectCommand, state: SubjectState, catalog: Catalog, now: Instant, bounds: CommandBounds = {}): DomainEvent[] {
  // Noting a read creates no subject (see decidePersonalDataAccessed), so it asks nothing of a new id.
  if (cmd.kind === "recordPersonalDataAccessed") return decidePersonalDataAccessed(state, cmd.read, cmd.reason, now);
  // A subject's record starts under a pseudonymous id; one already in the log keeps working (it can still leave or be erased).
  checkPseudonymousSubject(cmd.subjectId, state.version === 0, bounds.allowIdentifyingSubjectIds ?? false);
  switch (cmd.kind) {
    case "recordConsent":
      return decideRecordConsent(cmd.input, state, catalog, now, { occurredAtFloor: bounds.occurredAtFloor ?? null, defaultPolicyId: bounds.defaultPolicyId ?? null });
    case "suspendProcessing":
      return decideSuspend(state, cmd.reason, now);
    case "resumeProcessing":
      return decideResume(state, now);
    case "leaveService":
      return decideLeave(state, now);
    case "eraseSubject":
      return decideErase(state, cmd.reason, now);
    case "openDataRequest":
      return decideOpenDataRequest(cmd.input, state, now, bounds.maxOpenDataRequests ?? DEFAULT_MAX_OPEN_REQUESTS, catalog);
    case "verifyDataRequestIdentity":
      return decideVerifyIdentity(state, cmd.requestId, cmd.method, now);
    case "closeDataRequest":
      return decideCloseDataRequest(state, cmd.requestId, cmd.fulfilled, cmd.note, now);
    case "extendDataRequest":
      return decideExtendDataRequest(state, cmd.requestId, cmd.days, cmd.reason, now, bounds.maxExtensionDays ?? DEFAULT_MAX_EXTENSION_DAYS);
    case "recordNoticeShown":
      return decideNoticeShown(cmd.input, state, catalog, now, bounds.defaultPolicyId ?? null);
  }
}

/** The publication a publish command decides against the catalogue as the log holds it. */
/** The publication's event; null when `unlessPublished` and the policy already has a version with this text. */
export function decidePublication(cmd: PublishPolicyVersion, catalog: Catalog, now: Instant): DomainEvent | null {
  if (cmd.unlessPublished && catalog.get(cmd.input.policyId)?.versions.some((v) => v.digest === cmd.input.digest)) return null;
  return decidePublish(cmd.input, catalog, now);
}

/**
 * Whether the events a command appended destroy the subject's evidence (crypto-shredding): an
 * erasure, whether asked for directly or as a fulfilled DELETION request. The key and the
 * idempotency digests go in the same transaction as the events.
 */
export const shredsEvidence = (events: readonly DomainEvent[]): boolean => events.some((e) => e.type === "SubjectErased");
