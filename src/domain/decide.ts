// decide(command, state) -> events: one function per command of the contract, raising its codes.
import {
  type Catalog,
  type Controller,
  supersededAt,
  CONSENT_MODES,
  CONSENT_MODE_TYPES,
  type ConsentModeType,
  type DataCategoryLabel,
  LEGAL_BASES,
  type PolicyVersion,
  type PolicyVersionSpec,
  type Purpose,
  RECIPIENT_KINDS,
  type Recipient,
  versionOf,
} from "./catalog.js";
import { checkConsentRequiredChange } from "./consent-change.js";
import { LedgerError, badInput } from "./errors.js";
import type { DataRequestKind, DomainEvent, Evidence } from "./events.js";
import { type SubjectState, identityLabelOf } from "./subject.js";
import { DAY_MS, type Instant } from "./time.js";

/** How far ahead of the server clock an occurredAt may lie (clock skew of the caller). */
export const MAX_FUTURE_SKEW_MS = 5 * 60_000;
export const LIMITS = {
  idLength: 128,
  textLength: 4_096,
  listLength: 200,
} as const;

const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:@-]*$/;

/** Checks an identifier the caller chose; ids appear in stream names and logs, so keep them tame. */
export function checkId(kind: string, id: string): void {
  // ID_PATTERN needs a first character, so an empty id fails it.
  if (id.length > LIMITS.idLength || !ID_PATTERN.test(id))
    throw badInput(`${kind} must be 1–${LIMITS.idLength} characters of letters, digits and . _ : @ -`, { field: kind });
}

export function checkText(field: string, s: string | null | undefined, max: number = LIMITS.textLength): void {
  if (s != null && s.length > max) throw badInput(`${field} is longer than ${max} characters`, { field });
}

/**
 * A link a page or a receipt shows: an absolute `https:` or `http:` URL of at most 2,048 characters,
 * with no whitespace or control characters. `javascript:`, `data:` and other schemes would run or
 * load something when a reader follows the link.
 */
export function checkUrl(field: string, s: string | null | undefined): void {
  if (s == null) return;
  checkText(field, s, 2_048);
  let url: URL | null = null;
  try {
    url = /[\u0000-\u0020\u007f-\u009f]/.test(s) ? null : new URL(s);
  } catch {
    url = null;
  }
  if (!url || (url.protocol !== "https:" && url.protocol !== "http:") || url.hostname === "")
    throw badInput(`${field} must be an absolute https: or http: URL`, { field });
}

function checkList(field: string, xs: readonly unknown[]): void {
  if (xs.length > LIMITS.listLength) throw badInput(`${field} has more than ${LIMITS.listLength} items`, { field });
}

export interface RecordConsentCommand {
  policyId: string | null;
  policyVersion: number;
  acceptPolicy: boolean;
  grant: readonly string[];
  withdraw: readonly string[];
  occurredAt: Instant;
  evidence: Evidence | null;
  expectedVersion: number | null;
}

const EVIDENCE_FIELDS = ["channel", "formId", "locale", "ipAddress", "userAgent", "signal"] as const;

function checkEvidence(e: Evidence | null): void {
  if (!e) return;
  for (const f of EVIDENCE_FIELDS) checkText(`evidence.${f}`, e[f], f === "userAgent" ? 1_024 : 256);
}

const INACTIVE_WORDS = { LEFT: "left the service", ERASED: "been erased", MERGED: "been merged into another subject" } as const;

/** Refuses commands for a subject that has left, been erased or been merged into another. */
export function requireActive(state: SubjectState): void {
  if (state.status === "LEFT" || state.status === "ERASED" || state.status === "MERGED")
    throw new LedgerError("SUBJECT_INACTIVE", `the subject has ${INACTIVE_WORDS[state.status]}`);
}

export function checkExpectedVersion(state: SubjectState, expected: number | null): void {
  if (expected !== null && expected !== state.version)
    throw new LedgerError("VERSION_CONFLICT", `expected version ${expected}, the subject is at ${state.version}`, {
      expectedVersion: expected,
      actualVersion: state.version,
    });
}

/** Settings that bound what a command may claim; the ledger passes them from the configuration. */
export interface RecordConsentBounds {
  /** No occurredAt before this instant, whatever the version (OCCURRED_AT_FLOOR). */
  occurredAtFloor?: Instant | null;
  /** The policy a call without policyId is about (DEFAULT_POLICY_ID), once published. */
  defaultPolicyId?: string | null;
}

/** recordConsent: a policy acceptance and per-purpose grants and withdrawals, as one call. */
export function decideRecordConsent(cmd: RecordConsentCommand, state: SubjectState, catalog: Catalog, now: Instant, bounds: RecordConsentBounds = {}): DomainEvent[] {
  checkList("grant", cmd.grant);
  checkList("withdraw", cmd.withdraw);
  for (const id of [...cmd.grant, ...cmd.withdraw]) checkId("purpose id", id);
  checkEvidence(cmd.evidence);
  if (!cmd.acceptPolicy && cmd.grant.length === 0 && cmd.withdraw.length === 0)
    throw badInput("nothing to record: accept the policy, grant or withdraw at least one purpose");
  const both = cmd.grant.filter((p) => cmd.withdraw.includes(p));
  if (both.length > 0) throw badInput("a purpose cannot be granted and withdrawn in one call", { purposeIds: both });
  if (new Set(cmd.grant).size !== cmd.grant.length || new Set(cmd.withdraw).size !== cmd.withdraw.length)
    throw badInput("a purpose is named twice");
  if (!Number.isInteger(cmd.policyVersion) || cmd.policyVersion < 1) throw badInput("policyVersion must be a positive integer");
  if (cmd.occurredAt > now + MAX_FUTURE_SKEW_MS) throw badInput("occurredAt lies more than 5 minutes in the future");

  const policyId = catalog.resolvePolicyId(cmd.policyId, bounds.defaultPolicyId ?? null);
  const policy = catalog.get(policyId)!;
  const version = versionOf(policy, cmd.policyVersion);
  if (!version) throw new LedgerError("UNKNOWN_POLICY_VERSION", `policy ${policyId} has no version ${cmd.policyVersion}`);
  checkOccurredAtPast(cmd.occurredAt, version, bounds.occurredAtFloor ?? null);
  const purposes = new Map(version.purposes.map((p) => [p.id, p]));
  const unknown = [...cmd.grant, ...cmd.withdraw].filter((id) => !purposes.has(id));
  if (unknown.length > 0)
    throw new LedgerError("UNKNOWN_PURPOSE", `not a purpose of ${policyId} version ${version.number}: ${unknown.join(", ")}`, {
      purposeIds: unknown,
    });

  // A subject who left comes back by accepting the policy again; nothing else reopens the account.
  const returning = state.status === "LEFT" && cmd.acceptPolicy;
  if (!returning) requireActive(state);
  // Coming back is recorded as it happens: the leaving it undoes was recorded at its own time, so a
  // return dated before it (or ahead of the clock) would reorder the subject's lifecycle.
  if (returning && cmd.occurredAt !== now) throw badInput("a subject who left comes back now: leave occurredAt out when accepting again", { field: "occurredAt" });
  checkExpectedVersion(state, cmd.expectedVersion);

  const required = cmd.withdraw.filter((id) => purposes.get(id)!.mode === "REQUIRED");
  if (required.length > 0)
    throw new LedgerError("REQUIRED_PURPOSE", `required purposes cannot be withdrawn (leaving the service is the way): ${required.join(", ")}`, {
      purposeIds: required,
    });
  const requiredGrants = cmd.grant.filter((id) => purposes.get(id)!.mode === "REQUIRED");
  if (requiredGrants.length > 0)
    throw badInput(`required purposes are not granted one by one: accepting the policy gives them: ${requiredGrants.join(", ")}`, { purposeIds: requiredGrants });
  if (cmd.acceptPolicy) {
    const later = supersededAt(policy, version.number, cmd.occurredAt);
    if (later)
      throw new LedgerError("POLICY_VERSION_SUPERSEDED", `version ${version.number} of ${policyId} was superseded by version ${later.number} at that time: accept the current version`, {
        currentVersion: later.number,
      });
  }
  const accepted = state.acceptances.get(policyId)?.version ?? 0;
  if (cmd.grant.length > 0 && version.requiresConsent && !cmd.acceptPolicy && accepted < version.number)
    throw new LedgerError("POLICY_NOT_ACCEPTED", `version ${version.number} of ${policyId} requires consent: accept it first or in this call`);

  const base = { policyId, version: version.number };
  const evidence = cmd.evidence ? { evidence: { plain: cmd.evidence } } : {};
  const events: DomainEvent[] = [];
  if (returning) events.push({ type: "SubjectReturned", occurredAt: cmd.occurredAt, data: {} });
  // Accepting the version already accepted again records nothing (a banner may send it every time).
  if (cmd.acceptPolicy && (returning || accepted < version.number))
    events.push({ type: "PolicyAccepted", occurredAt: cmd.occurredAt, data: { ...base, ...evidence } });
  for (const purposeId of cmd.grant) {
    const ttl = purposes.get(purposeId)!.consentTtlDays;
    events.push({
      type: "ConsentGranted",
      occurredAt: cmd.occurredAt,
      data: { ...base, purposeId, expiresAt: ttl === null ? null : cmd.occurredAt + ttl * DAY_MS, ...evidence },
    });
  }
  for (const purposeId of cmd.withdraw)
    events.push({ type: "ConsentWithdrawn", occurredAt: cmd.occurredAt, data: { ...base, purposeId, ...evidence } });
  return events;
}

/**
 * A choice under a version cannot predate that version: nobody was shown it yet. The bound is the
 * earlier of its effectiveAt and its publication, so an import of choices made under a version that
 * was in force long before it was published into this ledger keeps its real dates, and a version
 * accepted ahead of taking effect may be dated from its publication. A configured floor bounds
 * every back-dated value on top (a typo such as year 0001 is refused either way).
 */
function checkOccurredAtPast(occurredAt: Instant, version: PolicyVersion, floor: Instant | null): void {
  const shown = Math.min(version.effectiveAt, version.publishedAt);
  if (occurredAt < shown)
    throw badInput(`occurredAt lies before version ${version.number} of ${version.policyId} was published or took effect (${new Date(shown).toISOString()})`, {
      field: "occurredAt",
    });
  if (floor !== null && occurredAt < floor)
    throw badInput(`occurredAt lies before the earliest instant this ledger accepts (${new Date(floor).toISOString()})`, { field: "occurredAt" });
}

export type PublishCommand = Omit<PolicyVersionSpec, "number">;

/** The longest policy text a publication may carry. */
export const DOCUMENT_TEXT_LENGTH = 200_000;

type Loose<T, K extends keyof T> = Omit<T, K> & { [P in K]?: T[P] | null | undefined };

/** A publication as clients and catalogue files write it: optional members may be left out. */
export type PublicationInput = Loose<Omit<PublishCommand, "purposes" | "controller" | "dataCategories">, "overrides" | "documentUrl" | "changeSummary" | "documentText"> & {
  dataCategories?: readonly DataCategoryLabel[] | null | undefined;
  purposes: readonly (Loose<Omit<Purpose, "recipients" | "consentModeTypes" | "gpcApplies">, "description" | "consentTtlDays"> & {
    consentModeTypes?: readonly ConsentModeType[] | null | undefined;
    gpcApplies?: boolean | null | undefined;
    recipients?: readonly Loose<Recipient, "country" | "privacyPolicyUrl" | "countryProtectionSystem" | "measures" | "recipientPurpose" | "equivalentMeasures">[] | null | undefined;
  })[];
  controller?: Loose<Controller, "address" | "representative" | "contact" | "email" | "phone" | "url" | "requestProcedure"> | null | undefined;
};

/** Fills a publication's left-out members with their defaults (null, no recipients). */
export function toPublishCommand(i: PublicationInput): PublishCommand {
  return {
    policyId: i.policyId,
    title: i.title,
    overrides: i.overrides ?? null,
    effectiveAt: i.effectiveAt,
    requiresConsent: i.requiresConsent,
    documentUrl: i.documentUrl ?? null,
    digest: i.digest,
    changeSummary: i.changeSummary ?? null,
    purposes: i.purposes.map((p) => ({
      id: p.id,
      title: p.title,
      description: p.description ?? null,
      mode: p.mode,
      basis: p.basis,
      dataCategories: [...p.dataCategories],
      recipients: (p.recipients ?? []).map((r) => ({
        id: r.id,
        name: r.name,
        kind: r.kind,
        country: r.country ?? null,
        privacyPolicyUrl: r.privacyPolicyUrl ?? null,
        countryProtectionSystem: r.countryProtectionSystem ?? null,
        measures: r.measures ?? null,
        recipientPurpose: r.recipientPurpose ?? null,
        equivalentMeasures: r.equivalentMeasures ?? false,
      })),
      consentTtlDays: p.consentTtlDays ?? null,
      // Left out when empty, so a publication without them reads (and hashes) as before they existed.
      ...(p.consentModeTypes && p.consentModeTypes.length > 0 ? { consentModeTypes: [...p.consentModeTypes] } : {}),
      ...(p.gpcApplies ? { gpcApplies: true } : {}),
    })),
    ...(i.dataCategories && i.dataCategories.length > 0 ? { dataCategories: i.dataCategories.map((c) => ({ id: c.id, label: c.label })) } : {}),
    controller: i.controller
      ? {
          name: i.controller.name,
          address: i.controller.address ?? null,
          representative: i.controller.representative ?? null,
          contact: i.controller.contact ?? null,
          email: i.controller.email ?? null,
          phone: i.controller.phone ?? null,
          url: i.controller.url ?? null,
          requestProcedure: i.controller.requestProcedure ?? null,
        }
      : null,
    documentText: i.documentText ?? null,
  };
}

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

/** Suspends every purpose, or with `purposeIds` only those (the subject then stays ACTIVE). */
export function decideSuspend(state: SubjectState, reason: string | null, now: Instant, dataRequestId?: string, purposeIds?: readonly string[] | null): DomainEvent[] {
  requireActive(state);
  checkText("reason", reason);
  if (state.status === "SUSPENDED") return [];
  const scoped = purposeIds && purposeIds.length > 0 ? purposeIds.filter((p) => !state.suspendedPurposes.has(p)) : null;
  if (scoped && scoped.length === 0) return [];
  return [
    {
      type: "ProcessingSuspended",
      occurredAt: now,
      data: { ...(reason ? { reason: { plain: reason } } : {}), ...(dataRequestId ? { dataRequestId } : {}), ...(scoped ? { purposeIds: [...scoped] } : {}) },
    },
  ];
}

export function decideResume(state: SubjectState, now: Instant): DomainEvent[] {
  requireActive(state);
  return state.status === "SUSPENDED" || state.suspendedPurposes.size > 0 ? [{ type: "ProcessingResumed", occurredAt: now, data: {} }] : [];
}

export function decideLeave(state: SubjectState, now: Instant): DomainEvent[] {
  if (state.status === "ERASED" || state.status === "MERGED") requireActive(state);
  return state.status === "LEFT" ? [] : [{ type: "SubjectLeft", occurredAt: now, data: {} }];
}

export function decideErase(state: SubjectState, reason: string | null, now: Instant, dataRequestId?: string): DomainEvent[] {
  checkText("reason", reason);
  if (state.status === "ERASED") return [];
  return [{ type: "SubjectErased", occurredAt: now, data: { ...(reason ? { reason: { plain: reason } } : {}), ...(dataRequestId ? { dataRequestId } : {}) } }];
}

export interface OpenDataRequestCommand {
  requestId: string;
  kind: DataRequestKind;
  note: string | null;
  dueDays: number;
  /** For a SUSPENSION: only these purposes; null or empty for all. */
  purposeIds?: readonly string[] | null;
  /** Opened by an officer (subject:admin): a DISCLOSURE may then be opened for an erased subject (APPI Art. 33(5)). */
  byOfficer?: boolean;
}

export const DEFAULT_MAX_OPEN_REQUESTS = 5;

/** The longest note a requester may attach; an officer's closing note may be longer. */
export const REQUEST_NOTE_LENGTH = 1_000;

/**
 * `maxOpen`: requests the subject may have open at once (MAX_OPEN_DATA_REQUESTS); `catalog`: the
 * purposes a scoped SUSPENSION may name.
 */
export function decideOpenDataRequest(
  cmd: OpenDataRequestCommand,
  state: SubjectState,
  now: Instant,
  maxOpen: number = DEFAULT_MAX_OPEN_REQUESTS,
  catalog?: Catalog,
): DomainEvent[] {
  // What is kept of an erased subject (transfer records) is still disclosed, on an officer's request.
  if (state.status === "ERASED" && !(cmd.kind === "DISCLOSURE" && cmd.byOfficer === true))
    throw new LedgerError("SUBJECT_INACTIVE", "the subject has been erased");
  checkText("note", cmd.note, REQUEST_NOTE_LENGTH);
  const scoped = cmd.purposeIds && cmd.purposeIds.length > 0 ? [...cmd.purposeIds] : null;
  if (scoped) {
    if (cmd.kind !== "SUSPENSION") throw badInput("purposeIds may name purposes only for a SUSPENSION request");
    checkList("purposeIds", scoped);
    for (const id of scoped) checkId("purpose id", id);
    if (new Set(scoped).size !== scoped.length) throw badInput("a purpose is named twice");
    const known = catalog ? new Set(catalog.policies().flatMap((p) => p.versions.flatMap((v) => v.purposes.map((x) => x.id)))) : null;
    const unknown = known ? scoped.filter((id) => !known.has(id)) : [];
    if (unknown.length > 0) throw new LedgerError("UNKNOWN_PURPOSE", `not a purpose of any published policy: ${unknown.join(", ")}`, { purposeIds: unknown });
  }
  // Each open request is work for an officer and a deadline: one requester cannot flood the queue.
  const open = [...state.dataRequests.values()].filter((r) => r.status === "OPEN" || r.status === "IDENTITY_VERIFIED").length;
  if (open >= maxOpen)
    throw new LedgerError("TOO_MANY_OPEN_REQUESTS", `${open} data requests are still open; at most ${maxOpen} may be open at once`, { limit: maxOpen });
  return [
    {
      type: "DataRequestOpened",
      occurredAt: now,
      data: {
        requestId: cmd.requestId,
        kind: cmd.kind,
        dueAt: now + cmd.dueDays * DAY_MS,
        ...(cmd.note ? { note: { plain: cmd.note } } : {}),
        ...(scoped ? { purposeIds: scoped } : {}),
      },
    },
  ];
}

/** DATA_REQUEST_MAX_EXTENSION_DAYS: how many days in total a request's due date may be moved. */
export const DEFAULT_MAX_EXTENSION_DAYS = 60;

/**
 * Moves a request's due date later by `days`, with the reason recorded (APPI allows an extension
 * when explained), at most `maxDays` in total: what earlier extensions added is the request's state,
 * so the cap is decided in the transaction that appends the extension.
 */
export function decideExtendDataRequest(
  state: SubjectState,
  requestId: string,
  days: number,
  reason: string,
  now: Instant,
  maxDays = DEFAULT_MAX_EXTENSION_DAYS,
): DomainEvent[] {
  const r = openRequest(state, requestId);
  const { extendedDays } = r;
  if (!Number.isInteger(days) || days < 1 || days > 365) throw badInput("days must be a whole number from 1 to 365");
  if (extendedDays + days > maxDays)
    throw badInput(`a request may be extended by at most ${maxDays} days in total; it was extended by ${extendedDays} already`, { field: "days", maxDays, extendedDays });
  if (reason.trim() === "") throw badInput("an extension needs a reason");
  checkText("reason", reason, 1_024);
  return [{ type: "DataRequestExtended", occurredAt: now, data: { requestId, days, dueAt: r.dueAt + days * DAY_MS, reason } }];
}

function openRequest(state: SubjectState, requestId: string) {
  const r = state.dataRequests.get(requestId);
  if (!r) throw new LedgerError("NOT_FOUND", `no data request ${requestId}`);
  if (r.status === "FULFILLED" || r.status === "REJECTED") throw new LedgerError("INVALID_STATE", `data request ${requestId} is already closed`);
  return r;
}

export function decideVerifyIdentity(state: SubjectState, requestId: string, method: string, now: Instant): DomainEvent[] {
  const r = openRequest(state, requestId);
  if (method.trim() === "") throw badInput("method must say how identity was verified");
  checkText("method", method, 256);
  if (r.status === "IDENTITY_VERIFIED") throw new LedgerError("INVALID_STATE", `identity for data request ${requestId} is already verified`);
  // How identity was checked is free text that may name documents or numbers: personal, so sealed.
  // The kind of check is kept apart as a non-personal label, so proof that identity was checked outlives erasure.
  return [{ type: "DataRequestIdentityVerified", occurredAt: now, data: { requestId, method: { plain: method }, label: identityLabelOf(method) } }];
}

/** Closing a request; fulfilling DELETION erases the subject and SUSPENSION suspends processing. */
export function decideCloseDataRequest(state: SubjectState, requestId: string, fulfilled: boolean, note: string | null, now: Instant): DomainEvent[] {
  const r = openRequest(state, requestId);
  checkText("note", note);
  // Refusing a request is explained to the person (APPI Arts. 33(3), 34(3), 35(7)).
  if (!fulfilled && (note === null || note.trim() === "")) throw badInput("rejecting a request needs a note: the reason told to the person", { field: "note" });
  if (fulfilled && r.status !== "IDENTITY_VERIFIED")
    throw new LedgerError("IDENTITY_NOT_VERIFIED", `data request ${requestId} cannot be fulfilled before the requester's identity is verified`);
  // The officer's note is the officer's record of the work, not the subject's data: it is kept through erasure.
  const closed: DomainEvent = { type: "DataRequestClosed", occurredAt: now, data: { requestId, fulfilled, ...(note ? { officerNote: note } : {}) } };
  if (!fulfilled) return [closed];
  if (r.kind === "DELETION") return [closed, ...decideErase(state, null, now, requestId)];
  if (r.kind === "SUSPENSION") {
    // A SUSPENDED subject has every purpose stopped already; one who left, was merged or erased is not suspended.
    if (state.status !== "ACTIVE") return [closed];
    return [closed, ...decideSuspend(state, null, now, requestId, r.purposeIds)];
  }
  return [closed];
}

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
