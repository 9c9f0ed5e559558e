// A subject's whole record as one JSON document, shaped as an ISO/IEC TS 27560 consent record: the answer to a disclosure request.
import { PAGE_WEIGHT, nextTurn } from "../turns.js";
import { type PolicyVersion, type Purpose, type RecipientKind, controllerOf } from "../domain/catalog.js";
import { LedgerError } from "../domain/errors.js";
import type { LedgerEvent } from "../domain/events.js";
import type { Decision } from "../domain/permission.js";
import { type DataRequestState, isOverdue } from "../domain/subject.js";
import { toIso, withIsoInstants } from "../domain/time.js";
import { encodePosition } from "../log/position.js";
import { EVENT_LABEL_JA } from "./event-labels.js";
import type { Ledger } from "../ledger.js";

/** Events read, opened and priced per step of an export. */
const EXPORT_PAGE = 100;

/** Names this document's layout; bump it when a member changes meaning. */
export const SUBJECT_EXPORT_SCHEMA = "consent-ledger/subject-export/1 (ISO/IEC TS 27560)";

const iso = (t: number | null): string | null => (t === null ? null : toIso(t));

/** The version of a policy an event names, as the catalogue knows it. */
function versionOf(ledger: Ledger, policyId: string, number: number): PolicyVersion | undefined {
  return ledger.catalog.version(policyId, number);
}

/** The notice the subject saw (27560 "notice"): a policy version with its document's digest and URL. */
function notice(v: PolicyVersion) {
  return {
    policyId: v.policyId,
    version: v.number,
    title: v.title,
    documentUrl: v.documentUrl,
    digest: { algorithm: "SHA-256", value: v.digest },
    effectiveAt: toIso(v.effectiveAt),
    publishedAt: toIso(v.publishedAt),
    requiresConsent: v.requiresConsent,
    changeSummary: v.changeSummary,
  };
}

function processing(policyId: string, d: Decision) {
  const p: Purpose = d.purpose;
  return {
    policyId,
    purposeId: p.id,
    purpose: p.title,
    description: p.description,
    mode: p.mode,
    legalBasis: p.basis,
    dataCategories: p.dataCategories,
    recipients: p.recipients.map((r) => r.id),
    coveredRecipients: d.coveredRecipients.map((r) => r.id),
    consentTtlDays: p.consentTtlDays,
    state: { status: d.status, permitted: d.permitted, reason: d.reason, policyVersion: d.policyVersion, since: iso(d.since), expiresAt: iso(d.expiresAt) },
  };
}

interface RecipientEntry {
  id: string;
  name: string;
  kind: RecipientKind;
  country: string | null;
  privacyPolicyUrl: string | null;
  /** Purposes that send the subject's data to this recipient and are permitted now (granted, or opt-out not objected to). */
  grantedPurposes: { policyId: string; purposeId: string; purpose: string; status: string }[];
  /** Purposes naming this recipient that are not permitted now. */
  otherPurposes: { policyId: string; purposeId: string; purpose: string; status: string; reason: string }[];
}

function recipients(decisions: readonly { policyId: string; d: Decision }[]): RecipientEntry[] {
  const byId = new Map<string, RecipientEntry>();
  for (const { policyId, d } of decisions)
    for (const r of d.purpose.recipients) {
      let entry = byId.get(r.id);
      if (!entry) byId.set(r.id, (entry = { ...r, grantedPurposes: [], otherPurposes: [] }));
      const ref = { policyId, purposeId: d.purposeId, purpose: d.purpose.title, status: d.status };
      // Permitted for the purpose is not enough: the subject's consent must cover this recipient.
      const covered = d.coveredRecipients.some((c) => c.id === r.id);
      if (d.permitted && covered) entry.grantedPurposes.push(ref);
      else entry.otherPurposes.push({ ...ref, reason: d.permitted ? "RECIPIENT_NOT_COVERED" : d.reason });
    }
  return [...byId.values()].sort((a, b) => a.id.localeCompare(b.id));
}

function event(e: LedgerEvent, revealed: Record<string, unknown>) {
  return {
    id: e.id,
    position: encodePosition(e.position),
    type: e.type,
    label: EVENT_LABEL_JA[e.type],
    occurredAt: toIso(e.occurredAt),
    recordedAt: toIso(e.recordedAt),
    actor: e.actor,
    // Sealed members are opened while the subject's key exists; `{ erased: true }` after erasure.
    data: withIsoInstants(revealed),
    prevHash: e.prevHash,
    hash: e.hash,
  };
}

async function dataRequest(ledger: Ledger, r: DataRequestState) {
  const now = ledger.now();
  return {
    id: r.id,
    kind: r.kind,
    status: r.status,
    openedAt: toIso(r.openedAt),
    dueAt: toIso(r.dueAt),
    closedAt: iso(r.closedAt),
    overdue: isOverdue(r, now),
    note: r.closingNote ?? (await ledger.openPersonal(r.subjectId, r.note)),
    purposeIds: r.purposeIds,
    identityCheck: await ledger.identityCheck(r),
  };
}

/** A transfer record (APPI Arts. 29, 30) as the export lists it: kept through erasure, until retainUntil. */
function transfer(e: LedgerEvent) {
  if (e.type !== "ThirdPartyTransferRecorded") return null;
  return {
    id: e.data.transferId,
    direction: e.data.direction,
    counterparty: e.data.counterparty,
    purposeId: e.data.purposeId,
    dataCategories: e.data.dataCategories,
    basis: e.data.basis,
    occurredAt: toIso(e.occurredAt),
    recordedAt: toIso(e.recordedAt),
    retainUntil: toIso(e.data.retainUntil),
    // The provider of data received (APPI Art. 30(1)): the provider's record, kept through erasure.
    ...(e.data.provider ? { provider: e.data.provider } : {}),
  };
}

/**
 * The subject's record: header (who, when, which ledger head), the notices (policy versions) the
 * subject saw, processing (every purpose with its current state), parties (the subject and every
 * recipient with the purposes granted to it), every event with its evidence, and the data requests.
 */
export async function buildSubjectExport(ledger: Ledger, subjectId: string, opts: { maxBytes?: number } = {}): Promise<Record<string, unknown>> {
  const asOf = ledger.asOf();
  const head = await ledger.head();
  const state = await ledger.subject(subjectId);
  // The subject's events up to the head named in the header, so the record is one consistent cut;
  // read a page at a time and refused as soon as they outgrow the answer's byte budget.
  const maxBytes = opts.maxBytes ?? Number.POSITIVE_INFINITY;
  const events: LedgerEvent[] = [];
  const entries: ReturnType<typeof event>[] = [];
  let bytes = 0;
  for (let after = 0; ; ) {
    const page = (await ledger.history(subjectId, after, EXPORT_PAGE)).filter((e) => e.position <= (head?.position ?? 0));
    const revealed = await ledger.revealAll(page);
    for (const [i, e] of page.entries()) {
      const entry = event(e, revealed[i]!);
      bytes += JSON.stringify(entry).length;
      if (bytes > maxBytes)
        throw new LedgerError(
          "RESPONSE_TOO_LARGE",
          `this subject's record is larger than the ${maxBytes} bytes one answer may hold (MAX_RESPONSE_BYTES); ask the operator for an export of it`,
          { limit: maxBytes },
        );
      events.push(e);
      entries.push(entry);
    }
    if (page.length < EXPORT_PAGE) break;
    after = page.at(-1)!.position;
    // Other requests are served between pages.
    await nextTurn(PAGE_WEIGHT);
  }

  // Policy versions the subject saw: those its events name, and the ones applicable or pending now.
  const seen = new Map<string, PolicyVersion>();
  const see = (v: PolicyVersion | null | undefined) => {
    if (v) seen.set(`${v.policyId}\u0000${String(v.number).padStart(9, "0")}`, v);
  };
  for (const e of events)
    if (e.type === "PolicyAccepted") see(versionOf(ledger, e.data.policyId, e.data.version));
    else if (e.type === "ConsentGranted" || e.type === "ConsentWithdrawn") see(versionOf(ledger, e.data.policyId, e.data.version));
  const standings = await ledger.standings(subjectId, asOf);
  for (const s of standings) {
    see(s.applicable);
    see(s.pending);
  }

  // Each policy's view includes the purposes it inherits; keep each (governing policy, purpose) once.
  const decided = new Map<string, { policyId: string; d: Decision }>();
  for (const p of ledger.catalog.policies())
    for (const d of await ledger.consents(subjectId, p.id, asOf)) decided.set(`${d.policyId}\u0000${d.purposeId}`, { policyId: d.policyId, d });
  const decisions = [...decided.values()];

  const base = ledger.defaultPolicy() ?? ledger.catalog.policies().find((p) => p.overrides === null);
  return {
    header: {
      schema: SUBJECT_EXPORT_SCHEMA,
      recordId: `${subjectId}@${encodePosition(head?.position ?? 0)}`,
      piiPrincipalId: subjectId,
      generatedAt: toIso(asOf.at),
      subjectStatus: state.status,
      subjectVersion: state.version,
      ledgerHead: head ? { position: encodePosition(head.position), hash: head.hash } : null,
    },
    notices: [...seen.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, v]) => notice(v)),
    standings: standings.map((s) => ({
      policyId: s.policy.id,
      acceptedVersion: s.acceptedVersion || null,
      acceptedAt: iso(s.acceptedAt),
      applicableVersion: s.applicable?.number ?? null,
      pendingVersion: s.pending?.number ?? null,
      needsReconsent: s.reconsentVersion !== null,
    })),
    processing: decisions.map(({ policyId, d }) => processing(policyId, d)),
    parties: {
      piiPrincipal: { id: subjectId, status: state.status },
      // The controller as the catalogue names it (27560 "PII controller"); nothing is assumed beyond it.
      piiController: base ? controllerOf(base, base.versions.length) : null,
      recipients: recipients(decisions),
    },
    thirdPartyTransfers: (await ledger.thirdPartyTransfers(subjectId, null, null)).map(transfer),
    events: entries,
    dataRequests: await Promise.all([...state.dataRequests.values()].map((r) => dataRequest(ledger, r))),
  };
}
