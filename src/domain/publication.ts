// publishPolicyVersion: a publication as clients and catalogue files write it, its defaults, its
// checks, and the next version it becomes.
import type { Catalog } from "./catalog.js";
import { checkId, checkList, checkText, checkUrl } from "./checks.js";
import { checkConsentRequiredChange } from "./consent-change.js";
import { LedgerError, badInput } from "./errors.js";
import type { DomainEvent } from "./events.js";
import {
  type Controller,
  CONSENT_MODES,
  CONSENT_MODE_TYPES,
  type ConsentModeType,
  type DataCategoryLabel,
  LEGAL_BASES,
  type PolicyVersionSpec,
  type Purpose,
  RECIPIENT_KINDS,
  type Recipient,
  transferDetailsOf,
} from "./policy-version.js";
import type { Instant } from "./time.js";

export type PublishCommand = Omit<PolicyVersionSpec, "number">;

/** The longest policy text a publication may carry. */
export const DOCUMENT_TEXT_LENGTH = 200_000;

type Loose<T, K extends keyof T> = Omit<T, K> & { [P in K]?: T[P] | null | undefined };

/** A publication as clients and catalogue files write it: optional members may be left out. */
export type PublicationInput = Loose<Omit<PublishCommand, "purposes" | "controller" | "dataCategories">, "overrides" | "documentUrl" | "changeSummary" | "documentText"> & {
  dataCategories?: readonly DataCategoryLabel[] | null | undefined;
  purposes: readonly PurposeInput[];
  controller?: ControllerInput | null | undefined;
};

type RecipientInput = Loose<Recipient, "country" | "privacyPolicyUrl" | "countryProtectionSystem" | "measures" | "recipientPurpose" | "equivalentMeasures">;
type ControllerInput = Loose<Controller, "address" | "representative" | "contact" | "email" | "phone" | "url" | "requestProcedure">;
type PurposeInput = Loose<Omit<Purpose, "recipients" | "consentModeTypes" | "gpcApplies">, "description" | "consentTtlDays"> & {
  consentModeTypes?: readonly ConsentModeType[] | null | undefined;
  gpcApplies?: boolean | null | undefined;
  recipients?: readonly RecipientInput[] | null | undefined;
};

/** Fills a publication's left-out members with their defaults (null, no recipients). */
export function toPublishCommand(i: PublicationInput): PublishCommand {
  return {
    // What the version is, what it overrides and when it applies.
    policyId: i.policyId, title: i.title, overrides: i.overrides ?? null, effectiveAt: i.effectiveAt, requiresConsent: i.requiresConsent,
    // The document it stands for.
    documentUrl: i.documentUrl ?? null, digest: i.digest, changeSummary: i.changeSummary ?? null,
    purposes: i.purposes.map(toPurpose),
    ...(i.dataCategories && i.dataCategories.length > 0 ? { dataCategories: i.dataCategories.map((c) => ({ id: c.id, label: c.label })) } : {}),
    controller: i.controller ? toController(i.controller) : null,
    documentText: i.documentText ?? null,
  };
}

function toPurpose(p: PurposeInput): Purpose {
  return {
    id: p.id,
    title: p.title,
    description: p.description ?? null,
    mode: p.mode,
    basis: p.basis,
    dataCategories: [...p.dataCategories],
    recipients: (p.recipients ?? []).map(toRecipient),
    consentTtlDays: p.consentTtlDays ?? null,
    // Left out when empty, so a publication without them reads (and hashes) as before they existed.
    ...(p.consentModeTypes && p.consentModeTypes.length > 0 ? { consentModeTypes: [...p.consentModeTypes] } : {}),
    ...(p.gpcApplies ? { gpcApplies: true } : {}),
  };
}

const toRecipient = (r: RecipientInput): Recipient => ({
  id: r.id,
  name: r.name,
  kind: r.kind,
  country: r.country ?? null,
  privacyPolicyUrl: r.privacyPolicyUrl ?? null,
  ...transferDetailsOf(r),
  equivalentMeasures: r.equivalentMeasures ?? false,
});

const toController = (c: ControllerInput): Controller => ({
  name: c.name,
  address: c.address ?? null,
  representative: c.representative ?? null,
  contact: c.contact ?? null,
  email: c.email ?? null,
  phone: c.phone ?? null,
  url: c.url ?? null,
  requestProcedure: c.requestProcedure ?? null,
});

function checkPurpose(p: Purpose): void {
  checkId("purpose id", p.id);
  if (p.title.trim() === "") throw badInput(`purpose ${p.id} needs a title`);
  checkText(`purpose ${p.id} title`, p.title, 512);
  checkText(`purpose ${p.id} description`, p.description);
  if (!CONSENT_MODES.includes(p.mode)) throw badInput(`purpose ${p.id}: unknown mode`);
  if (!LEGAL_BASES.includes(p.basis)) throw badInput(`purpose ${p.id}: unknown basis`);
  checkList(`purpose ${p.id} dataCategories`, p.dataCategories);
  for (const c of p.dataCategories) checkId("data category", c);
  checkList(`purpose ${p.id} recipients`, p.recipients);
  const rids = new Set<string>();
  for (const r of p.recipients) {
    checkId("recipient id", r.id);
    if (rids.has(r.id)) throw badInput(`purpose ${p.id} names recipient ${r.id} twice`);
    rids.add(r.id);
    if (!RECIPIENT_KINDS.includes(r.kind)) throw badInput(`recipient ${r.id}: unknown kind`);
    checkText(`recipient ${r.id} name`, r.name, 512);
    if (r.country !== null && !/^[A-Z]{2}$/.test(r.country)) throw badInput(`recipient ${r.id}: country must be an ISO 3166-1 alpha-2 code`);
    checkUrl(`recipient ${r.id} privacyPolicyUrl`, r.privacyPolicyUrl);
    checkText(`recipient ${r.id} countryProtectionSystem`, r.countryProtectionSystem);
    checkText(`recipient ${r.id} measures`, r.measures);
    checkText(`recipient ${r.id} recipientPurpose`, r.recipientPurpose);
  }
  if (p.consentTtlDays !== null && (!Number.isInteger(p.consentTtlDays) || p.consentTtlDays < 1 || p.consentTtlDays > 36_500))
    throw badInput(`purpose ${p.id}: consentTtlDays must be a whole number of days from 1 to 36500`);
  const types = p.consentModeTypes ?? [];
  const unknownType = types.find((t) => !CONSENT_MODE_TYPES.includes(t));
  if (unknownType !== undefined) throw badInput(`purpose ${p.id}: unknown consentModeType ${String(unknownType).slice(0, 64)} (known: ${CONSENT_MODE_TYPES.join(", ")})`);
  if (new Set(types).size !== types.length) throw badInput(`purpose ${p.id} names a consentModeType twice`);
  // A browser's "do not sell or share" signal can only withdraw what a person may withdraw by themselves.
  if (p.gpcApplies && p.mode !== "OPT_OUT") throw badInput(`purpose ${p.id}: gpcApplies needs mode OPT_OUT`);
}

/** Each label names a category some purpose lists, once, in at most 256 characters. */
function checkDataCategoryLabels(labels: readonly DataCategoryLabel[] | undefined, purposes: readonly Purpose[]): void {
  if (!labels) return;
  checkList("dataCategories", labels);
  const named = new Set(purposes.flatMap((p) => p.dataCategories));
  const seen = new Set<string>();
  for (const l of labels) {
    checkId("data category", l.id);
    if (!named.has(l.id)) throw badInput(`dataCategories labels ${l.id}, which no purpose lists`);
    if (seen.has(l.id)) throw badInput(`data category ${l.id} is labelled twice`);
    seen.add(l.id);
    if (l.label.trim() === "") throw badInput(`data category ${l.id} needs a label`);
    checkText(`data category ${l.id} label`, l.label, 256);
  }
}

/** publishPolicyVersion: the next version of a policy, numbered in publication order. */
export function decidePublish(cmd: PublishCommand, catalog: Catalog, now: Instant): DomainEvent {
  checkId("policy id", cmd.policyId);
  if (cmd.title.trim() === "") throw badInput("a policy version needs a title");
  checkText("title", cmd.title, 512);
  checkText("changeSummary", cmd.changeSummary);
  checkUrl("documentUrl", cmd.documentUrl);
  checkText("documentText", cmd.documentText, DOCUMENT_TEXT_LENGTH);
  if (!/^[0-9a-f]{64}$/.test(cmd.digest)) throw badInput("documentDigest must be the SHA-256 of the document, as 64 lowercase hex digits");
  if (cmd.purposes.length === 0) throw badInput("a policy version needs at least one purpose");
  if (cmd.controller) {
    if (cmd.controller.name.trim() === "") throw badInput("the controller needs a name");
    for (const [k, v] of Object.entries(cmd.controller)) checkText(`controller.${k}`, v as string | null, 2_048);
    checkUrl("controller.url", cmd.controller.url);
  }
  checkList("purposes", cmd.purposes);
  const ids = new Set<string>();
  for (const p of cmd.purposes) {
    checkPurpose(p);
    if (ids.has(p.id)) throw badInput(`purpose ${p.id} is named twice`);
    ids.add(p.id);
  }
  checkDataCategoryLabels(cmd.dataCategories, cmd.purposes);
  if (cmd.overrides !== null) {
    if (cmd.overrides === cmd.policyId) throw badInput("a policy cannot override itself");
    if (!catalog.get(cmd.overrides)) throw new LedgerError("UNKNOWN_POLICY", `policy ${cmd.overrides} is not published`);
    if (catalog.chain(cmd.overrides).some((p) => p.id === cmd.policyId)) throw badInput("overrides would form a cycle");
  }
  const existing = catalog.get(cmd.policyId);
  if (existing && existing.overrides !== cmd.overrides)
    throw badInput(`policy ${cmd.policyId} ${existing.overrides ? `overrides ${existing.overrides}` : "overrides nothing"}; a later version cannot change that`);
  checkConsentRequiredChange(existing, cmd);
  return { type: "PolicyVersionPublished", occurredAt: now, data: { ...cmd, number: catalog.nextNumber(cmd.policyId) } };
}
