// The receipt of one recordConsent call: built from its events alone, so a replay signs the same bytes.
import { randomUUID } from "node:crypto";
import { type Controller, type PolicyVersion, type Purpose, controllerOf, findPurpose } from "../domain/catalog.js";
import type { Evidence, LedgerEvent } from "../domain/events.js";
import { encodePosition } from "../log/position.js";
import type { Ledger } from "../ledger.js";
import { CONSENT_RECEIPT_TYP, type ConsentReceiptInput, buildConsentReceipt } from "./consent-receipt.js";
import type { ReceiptSigner } from "./signer.js";

/** The controller as a Kantara receipt names it: strings throughout, "" for what the catalogue leaves out. */
export function receiptController(c: Controller | null): ConsentReceiptInput["controller"] {
  return {
    name: c?.name ?? "",
    contact: c?.contact ?? "",
    address: c?.address ?? "",
    ...(c?.representative ? { representative: c.representative } : {}),
    email: c?.email ?? "",
    phone: c?.phone ?? "",
    url: c?.url ?? "",
    ...(c?.requestProcedure ? { requestProcedure: c.requestProcedure } : {}),
  };
}

/** The purposes accepting `version` makes permitted without a grant: the REQUIRED ones and the OPT_OUT defaults. */
export const acceptancePermits = (version: PolicyVersion): Purpose[] => version.purposes.filter((p) => p.mode === "REQUIRED" || p.mode === "OPT_OUT");

/** Where an event may stand in one recordConsent call: decide writes a return, then the acceptance, the grants, the withdrawals. */
const CALL_ORDER: Partial<Record<LedgerEvent["type"], number>> = { SubjectReturned: 0, PolicyAccepted: 1, ConsentGranted: 2, ConsentWithdrawn: 3 };

/**
 * The events of the recordConsent call that wrote `eventId`, read from the subject's own history, with
 * the evidence the call carried; null when no call of this subject wrote it (an unknown id, another
 * subject's event, or one that is not a consent choice). One call's events follow one another in the
 * subject's stream, recorded at the same instant by the same actor, under one policy version, with the
 * same evidence, in the order the call writes them, naming each purpose at most once; events carried
 * over by a merge belong to no call.
 */
export async function consentCallOf(ledger: Ledger, subjectId: string, eventId: string): Promise<{ events: LedgerEvent[]; evidence: Evidence | null } | null> {
  const history = await ledger.history(subjectId, 0, Number.MAX_SAFE_INTEGER);
  const at = history.findIndex((e) => e.id === eventId);
  if (at < 0) return null;
  // One call's events share their instant: only those recorded at the named event's are opened.
  const instant = history[at]!.recordedAt;
  let lo = at;
  while (lo > 0 && history[lo - 1]!.recordedAt === instant) lo--;
  let hi = at + 1;
  while (hi < history.length && history[hi]!.recordedAt === instant) hi++;
  const opened = await ledger.revealAll(history.slice(lo, hi));
  const revealed = (i: number) => opened[i - lo]!;
  const evidenceAt = (i: number) => JSON.stringify(revealed(i)["evidence"] ?? null);
  const policyAt = (i: number) => {
    const d = revealed(i);
    return "policyId" in d ? `${String(d["policyId"])}@${String(d["version"])}` : null;
  };
  const inCall = (i: number) => CALL_ORDER[history[i]!.type] !== undefined && !(history[i]!.data as { mergedFrom?: string }).mergedFrom;
  /** Whether event i continues the call that event i - 1 belongs to. */
  const continues = (i: number) => {
    if (i <= 0 || !inCall(i) || !inCall(i - 1)) return false;
    const [prev, e] = [history[i - 1]!, history[i]!];
    const [rp, re] = [CALL_ORDER[prev.type]!, CALL_ORDER[e.type]!];
    if (!(re > rp || (re === rp && re >= 2))) return false;
    if (e.streamVersion !== prev.streamVersion + 1 || e.recordedAt !== prev.recordedAt || e.occurredAt !== prev.occurredAt) return false;
    if (e.actor.kind !== prev.actor.kind || e.actor.id !== prev.actor.id) return false;
    if (prev.type === "SubjectReturned") return e.type === "PolicyAccepted";
    return policyAt(i) === policyAt(i - 1) && evidenceAt(i) === evidenceAt(i - 1);
  };
  if (!inCall(at)) return null;
  // From the first event that surely starts a call, split the run into calls: one call never names a purpose twice.
  let runStart = at;
  while (continues(runStart)) runStart--;
  let [start, end] = [runStart, runStart];
  let named = new Set<string>();
  for (let i = runStart; i < history.length; i++) {
    const purposeId = (history[i]!.data as { purposeId?: string }).purposeId;
    if (i > runStart && (!continues(i) || (purposeId !== undefined && named.has(purposeId)))) {
      if (i > at) break;
      [start, named] = [i, new Set()];
    }
    if (purposeId !== undefined) named.add(purposeId);
    end = i + 1;
  }
  const events = history.slice(start, end);
  // A return is recorded only with the acceptance that brings the subject back.
  if (events.every((e) => e.type === "SubjectReturned")) return null;
  const carried = revealed(events[0]!.type === "SubjectReturned" ? start + 1 : start)["evidence"];
  const evidence = carried && typeof carried === "object" && !("erased" in carried) ? (carried as Evidence) : null;
  return { events, evidence };
}

/**
 * Signs the receipt of one recordConsent call. `evidence` is the call's own input (the same on an
 * idempotent replay), so the receipt needs no decryption and a replay signs the same payload.
 * A call that recorded nothing (accepting the version already accepted) gets a receipt that says so,
 * naming `subject` as the version it stands on.
 */
export async function issueConsentReceipt(
  ledger: Ledger,
  signer: ReceiptSigner,
  subjectId: string,
  events: readonly LedgerEvent[],
  evidence: Evidence | null,
  asked: { policyId: string; version: number },
): Promise<string> {
  const first = events.find((e) => e.type === "PolicyAccepted" || e.type === "ConsentGranted" || e.type === "ConsentWithdrawn");
  const ref = first && "policyId" in first.data && "version" in first.data ? first.data : asked;
  const policy = ledger.catalog.get(ref.policyId)!;
  const version: PolicyVersion = policy.versions[ref.version - 1]!;
  const purposesOf = (type: "ConsentGranted" | "ConsentWithdrawn") =>
    events.flatMap((e) => ((e.type === "ConsentGranted" || e.type === "ConsentWithdrawn") && e.type === type ? [findPurpose(version, e.data.purposeId)!] : []));
  const accepted = events.some((e) => e.type === "PolicyAccepted");
  const withdrawn = purposesOf("ConsentWithdrawn");
  // Accepting a version permits its REQUIRED purposes and its OPT_OUT defaults: the receipt lists them with the grants (APPI Art. 32).
  const granted = purposesOf("ConsentGranted");
  const byAcceptance = accepted ? acceptancePermits(version).filter((p) => !granted.includes(p) && !withdrawn.includes(p)) : [];
  const last = events.at(-1);
  const controller = controllerOf(policy, version.number);
  // A call that recorded nothing (re-accepting the accepted version) names the log's head as it stood.
  const head = last ? { position: last.position, hash: last.hash } : ((await ledger.head()) ?? { position: 0, hash: "" });
  const payload = buildConsentReceipt({
    receiptId: events[0]?.id ?? randomUUID(),
    subjectId,
    issuedAt: events[0]?.recordedAt ?? ledger.now(),
    language: evidence && "locale" in evidence && evidence.locale ? evidence.locale : "ja",
    jurisdiction: "JP",
    collectionMethod: evidence && "channel" in evidence && evidence.channel ? evidence.channel : events[0]?.actor.kind === "SUBJECT" ? "self-service" : "recorded by service",
    controller: receiptController(controller),
    policyVersion: { ...version, documentUrl: version.documentUrl ?? controller?.url ?? null },
    accepted: accepted || events.length === 0,
    permittedByAcceptance: byAcceptance,
    granted,
    withdrawn,
    ledger: {
      positions: events.map((e) => encodePosition(e.position)),
      eventIds: events.map((e) => e.id),
      headPosition: encodePosition(head.position),
      headHash: head.hash,
      events: events.map((e) => ({ id: e.id, hash: e.hash })),
    },
  });
  return signer.sign(payload, CONSENT_RECEIPT_TYP);
}
