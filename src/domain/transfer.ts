// Third-party transfer records (APPI Arts. 29, 30): what may be recorded, and how long it is kept.
import type { Catalog, Recipient } from "./catalog.js";
import { LedgerError, badInput } from "./errors.js";
import { type DomainEvent, type Provider, TRANSFER_BASES, TRANSFER_DIRECTIONS, type TransferBasis, type TransferDirection } from "./events.js";
import { LIMITS, MAX_FUTURE_SKEW_MS, checkId, checkText } from "./checks.js";
import { type SubjectView, decidePermission, forRecipient } from "./permission.js";
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
  /** Required for a receipt (RECEIVED), refused for a provision. */
  provider?: Provider | null;
}

/**
 * Countries outside Japan whose system the PPC recognises as equivalent (APPI Art. 28(1)): the EEA
 * states and the United Kingdom. ADEQUATE_COUNTRIES replaces the list.
 */
export const DEFAULT_ADEQUATE_COUNTRIES: readonly string[] = [
  "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT", "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE",
  "IS", "LI", "NO",
  "GB",
];

/** Bases on which data goes to a recipient abroad only with equivalent measures or to an adequate country (APPI Art. 28(1)). */
const NEEDS_EQUIVALENCE_ABROAD: ReadonlySet<TransferBasis> = new Set(["OUTSOURCING", "JOINT_USE", "BUSINESS_SUCCESSION"]);
/** Bases a suspension of use does not stop: provisions the law itself asks for (APPI Art. 27(1)). */
const OVERRIDES_SUSPENSION: ReadonlySet<TransferBasis> = new Set(["LAW", "VITAL_INTEREST", "PUBLIC_HEALTH", "GOVERNMENT"]);

/** The recipient as a version in effect at `at` (published by `knownAt`) names it: the latest such description. */
export function recipientInEffect(catalog: Catalog, recipientId: string, at: Instant, knownAt: Instant): Recipient | undefined {
  let found: Recipient | undefined;
  for (const p of catalog.policies()) {
    let inEffect = null;
    for (const v of p.versions) if (v.effectiveAt <= at && v.publishedAt <= knownAt) inEffect = v;
    for (const x of inEffect?.purposes ?? []) for (const r of x.recipients) if (r.id === recipientId) found = r;
  }
  return found;
}

function checkProvider(p: Provider): void {
  for (const [field, v] of [["provider.name", p.name], ["provider.address", p.address], ["provider.acquisition", p.acquisition]] as const)
    if (v.trim() === "") throw badInput(`${field} must not be empty`, { field });
  checkText("provider.name", p.name, 512);
  checkText("provider.address", p.address, 1_024);
  checkText("provider.representative", p.representative, 512);
  checkText("provider.acquisition", p.acquisition);
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
  // A record of receipt names who provided the data and how they got it (APPI Art. 30(1)).
  if (cmd.direction === "RECEIVED") {
    if (!cmd.provider) throw badInput("a receipt (RECEIVED) needs provider: name, address, representative and acquisition", { field: "provider" });
    checkProvider(cmd.provider);
  } else if (cmd.provider) throw badInput("provider is recorded for a receipt (RECEIVED) only", { field: "provider" });
  const counterparty = findRecipient(catalog, cmd.counterpartyId);
  if (!counterparty) throw new LedgerError("NOT_FOUND", `no published policy names the recipient ${cmd.counterpartyId}`);
  return counterparty;
}

/** What a provision is checked against: the catalogue, the subject as of occurredAt, the operator's settings. */
export interface TransferContext {
  catalog: Catalog;
  /** The subject as of occurredAt (as known now); needed for a provision. */
  view: SubjectView | null;
  now: Instant;
  adequateCountries?: readonly string[];
  /** DEFAULT_POLICY_ID: the policy a consent-based provision is checked under; null for the one base policy. */
  defaultPolicyId?: string | null;
}

const refuse = (reason: string, message: string) => new LedgerError("TRANSFER_NOT_PERMITTED", message, { reason });

/**
 * Checks a provision (APPI Arts. 27, 28): the recipient is in the version in effect at occurredAt;
 * joint use goes to a JOINT_USER; outsourcing, joint use and business succession abroad need the
 * recipient's equivalent measures or an adequate country; a suspension stops every provision the
 * law does not ask for; consent covers the recipient and every data category.
 */
export function checkProvision(cmd: TransferCommand, ctx: TransferContext): void {
  const { catalog, view } = ctx;
  const recipient = recipientInEffect(catalog, cmd.counterpartyId, cmd.occurredAt, ctx.now);
  if (!recipient) throw refuse("RECIPIENT_NOT_IN_EFFECT", `no version in effect at that time names the recipient ${cmd.counterpartyId}`);
  if (cmd.basis === "JOINT_USE" && recipient.kind !== "JOINT_USER") throw refuse("NOT_A_JOINT_USER", `${cmd.counterpartyId} is not declared a joint user (JOINT_USER)`);
  // A recipient that names no country is taken to be in Japan (the notice shows it so).
  const country = recipient.country ?? "JP";
  const adequate = (ctx.adequateCountries ?? DEFAULT_ADEQUATE_COUNTRIES).includes(country);
  if (country !== "JP" && NEEDS_EQUIVALENCE_ABROAD.has(cmd.basis) && recipient.equivalentMeasures !== true && !adequate)
    throw refuse("NO_EQUIVALENT_MEASURES", `${cmd.counterpartyId} is outside Japan with neither equivalent measures nor an adequate country: ${cmd.basis} needs consent instead`);
  const suspended = view !== null && (view.status === "SUSPENDED" || (cmd.purposeId !== null && view.suspendedPurposes.has(cmd.purposeId)));
  if (suspended && !OVERRIDES_SUSPENSION.has(cmd.basis)) throw refuse("SUBJECT_SUSPENDED", "a subject's processing was suspended at that time");
  if (cmd.basis !== "CONSENT") return;
  const asOf = { at: cmd.occurredAt, knownAt: ctx.now };
  const decision = view ? forRecipient(decidePermission(catalog, view, catalog.resolvePolicyId(null, ctx.defaultPolicyId ?? null), cmd.purposeId!, asOf), cmd.counterpartyId) : null;
  if (!decision || !decision.permitted)
    throw refuse(decision?.reason ?? "NOT_GRANTED", `a subject's consent does not cover providing data to ${cmd.counterpartyId} for ${cmd.purposeId} at that time`);
  const uncovered = cmd.dataCategories.filter((c) => !decision.coveredDataCategories.includes(c));
  if (uncovered.length > 0)
    throw new LedgerError("TRANSFER_NOT_PERMITTED", `a subject's consent does not cover the data categories ${uncovered.join(", ")}`, { reason: "CATEGORY_NOT_COVERED", dataCategories: uncovered });
}

/** One subject's record; a provision is checked first (checkProvision). */
export function decideTransfer(cmd: TransferCommand, counterparty: Recipient, transferId: string, ctx: TransferContext): DomainEvent {
  if (cmd.direction === "PROVIDED") checkProvision(cmd, ctx);
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
      ...(cmd.provider ? { provider: { ...cmd.provider } } : {}),
    },
  };
}
