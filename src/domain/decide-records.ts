// Commands that only record a fact and change no consent: a notice shown, personal evidence read.
import { type Catalog, versionOf } from "./catalog.js";
import { checkText, requireActive } from "./checks.js";
import { LedgerError, badInput } from "./errors.js";
import type { DomainEvent } from "./events.js";
import type { SubjectState } from "./subject.js";
import type { Instant } from "./time.js";

export interface NoticeShownCommand {
  policyId: string | null;
  policyVersion: number;
  channel: string;
  locale: string;
  noticeId: string | null;
}

/** recordNoticeShown: evidence that a policy version was shown to the subject; changes no consent. */
export function decideNoticeShown(cmd: NoticeShownCommand, state: SubjectState, catalog: Catalog, now: Instant, defaultPolicyId: string | null = null): DomainEvent[] {
  if (state.status === "ERASED" || state.status === "MERGED") requireActive(state);
  for (const [field, v] of [["channel", cmd.channel], ["locale", cmd.locale]] as const) {
    if (v.trim() === "") throw badInput(`${field} must not be empty`, { field });
    checkText(field, v, 64);
  }
  checkText("noticeId", cmd.noticeId, 256);
  const policyId = catalog.resolvePolicyId(cmd.policyId, defaultPolicyId);
  const version = versionOf(catalog.get(policyId)!, cmd.policyVersion);
  if (!version) throw new LedgerError("UNKNOWN_POLICY_VERSION", `policy ${policyId} has no version ${cmd.policyVersion}`);
  const data = { policyId, version: version.number, channel: cmd.channel, locale: cmd.locale, ...(cmd.noticeId ? { noticeId: cmd.noticeId } : {}) };
  return [{ type: "NoticeShown", occurredAt: now, data }];
}

/**
 * Who read a subject's personal evidence (the actor of the event), what was read and why. A subject
 * the ledger holds nothing of has nothing to read: no event, so a read never creates a subject.
 */
export function decidePersonalDataAccessed(state: SubjectState, read: string, reason: string | null, now: Instant): DomainEvent[] {
  checkText("reason", reason, 1_024);
  if (state.version === 0) return [];
  return [{ type: "PersonalDataAccessed", occurredAt: now, data: { read, ...(reason ? { reason } : {}) } }];
}
