// Third-party transfer records (APPI Arts. 29, 30): what may be recorded, and how long it is kept.
import type { Catalog, Recipient } from "./catalog.js";
import { LedgerError, badInput } from "./errors.js";
import { type DomainEvent, TRANSFER_BASES, TRANSFER_DIRECTIONS, type TransferBasis, type TransferDirection } from "./events.js";
import { checkId, checkText, MAX_FUTURE_SKEW_MS, LIMITS } from "./decide.js";
import { type Decision, forRecipient } from "./permission.js";
import { DAY_MS, type Instant } from "./time.js";

/** Records of provision and receipt are kept three years (APPI Enforcement Rules Arts. 21, 25). */
export const TRANSFER_RETENTION_YEARS = 3;

/** `occurredAt` plus three calendar years, in UTC. */
export function retainUntil(occurredAt: Instant): Instant {
  const d = new Date(occurredAt);
  d.setUTCFullYear(d.getUTCFullYear() + TRANSFER_RETENTION_YEARS);
  return d.getTime();
}

export interface TransferCommand {
  subjectIds: readonly string[];
  direction: TransferDirection;
  counterpartyId: string;
  purposeId: string | null;
  dataCategories: readonly string[];
  basis: TransferBasis;
  occurredAt: Instant;
  note: string | null;
}

/** The counterparty as the catalogue names it: the latest published description of that recipient id. */
export function findRecipient(catalog: Catalog, recipientId: string): Recipient | undefined {
  let found: Recipient | undefined;
  for (const p of catalog.policies()) for (const v of p.versions) for (const x of v.purposes) for (const r of x.recipients) if (r.id === recipientId) found = r;
  return found;
}

/** Checks a transfer command's shape and returns the counterparty it names. */
export function checkTransfer(cmd: TransferCommand, catalog: Catalog, now: Instant): Recipient {
  if (cmd.subjectIds.length === 0) throw badInput("subjectIds must name at least one subject");
  if (cmd.subjectIds.length > LIMITS.listLength) throw badInput(`subjectIds has more than ${LIMITS.listLength} items`);
  for (const id of cmd.subjectIds) checkId("subjectId", id);
  if (new Set(cmd.subjectIds).size !== cmd.subjectIds.length) throw badInput("a subject is named twice");
  if (!TRANSFER_DIRECTIONS.includes(cmd.direction)) throw badInput("unknown direction");
  if (!TRANSFER_BASES.includes(cmd.basis)) throw badInput("unknown basis");
  checkId("counterpartyId", cmd.counterpartyId);
  if (cmd.purposeId !== null) checkId("purposeId", cmd.purposeId);
  if (cmd.dataCategories.length === 0) throw badInput("dataCategories must name what was transferred");
  if (cmd.dataCategories.length > LIMITS.listLength) throw badInput(`dataCategories has more than ${LIMITS.listLength} items`);
  for (const c of cmd.dataCategories) checkId("data category", c);
  checkText("note", cmd.note);
  if (cmd.occurredAt > now + MAX_FUTURE_SKEW_MS) throw badInput("occurredAt lies more than 5 minutes in the future");
  if (now - cmd.occurredAt > TRANSFER_RETENTION_YEARS * 366 * DAY_MS) throw badInput("occurredAt lies further back than the records are kept");
  if (cmd.basis === "CONSENT" && cmd.purposeId === null) throw badInput("a transfer on the basis of consent must name the purpose consented to");
  const counterparty = findRecipient(catalog, cmd.counterpartyId);
  if (!counterparty) throw new LedgerError("NOT_FOUND", `no published policy names the recipient ${cmd.counterpartyId}`);
  return counterparty;
}

/**
 * One subject's record. A provision on the basis of consent needs the subject's permission for that
 * purpose and that counterparty at occurredAt (`decision`), else TRANSFER_NOT_PERMITTED.
 */
export function decideTransfer(cmd: TransferCommand, counterparty: Recipient, transferId: string, decision: Decision | null): DomainEvent {
  if (cmd.basis === "CONSENT" && cmd.direction === "PROVIDED") {
    const d = decision ? forRecipient(decision, counterparty.id) : null;
    if (!d || !d.permitted)
      throw new LedgerError("TRANSFER_NOT_PERMITTED", `a subject's consent does not cover providing data to ${counterparty.id} for ${cmd.purposeId} at that time`, {
        reason: d?.reason ?? "NOT_GRANTED",
      });
  }
  return {
    type: "ThirdPartyTransferRecorded",
    occurredAt: cmd.occurredAt,
    data: {
      transferId,
      direction: cmd.direction,
      counterparty,
      purposeId: cmd.purposeId,
      dataCategories: [...cmd.dataCategories],
      basis: cmd.basis,
      retainUntil: retainUntil(cmd.occurredAt),
      ...(cmd.note ? { note: { plain: cmd.note } } : {}),
    },
  };
}
