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
