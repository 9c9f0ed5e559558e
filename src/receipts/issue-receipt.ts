// The receipt of one recordConsent call: built from its events alone, so a replay signs the same bytes.
import { type PolicyVersion, findPurpose } from "../domain/catalog.js";
import type { Evidence, LedgerEvent } from "../domain/events.js";
import { encodePosition } from "../log/position.js";
import type { Ledger } from "../ledger.js";
import { CONSENT_RECEIPT_TYP, buildConsentReceipt } from "./consent-receipt.js";
import type { ReceiptSigner } from "./signer.js";

/** The controller named on receipts: the company whose privacy policy the ledger serves. */
export const CONTROLLER = {
  name: "中電クラビス株式会社",
  contact: "個人情報保護管理者 (personal information protection manager)",
  address: "Japan",
  email: "",
  phone: "",
  url: "",
};

/**
 * Signs the receipt of one recordConsent call. `evidence` is the call's own input (the same on an
 * idempotent replay), so the receipt needs no decryption and a replay signs the same payload.
 */
export async function issueConsentReceipt(
  ledger: Ledger,
  signer: ReceiptSigner,
  subjectId: string,
  events: readonly LedgerEvent[],
  evidence: Evidence | null,
): Promise<string> {
  const first = events[0]!;
  const last = events.at(-1)!;
  const ref = first.type === "PolicyAccepted" || first.type === "ConsentGranted" || first.type === "ConsentWithdrawn" ? first.data : null;
  if (!ref) throw new Error("a consent receipt needs consent events");
  const version: PolicyVersion = ledger.catalog.version(ref.policyId, ref.version)!;
  const purposesOf = (type: LedgerEvent["type"]) =>
    events.flatMap((e) => (e.type === type && "purposeId" in e.data ? [findPurpose(version, e.data.purposeId)!] : []));
  const payload = buildConsentReceipt({
    receiptId: first.id,
    subjectId,
    issuedAt: first.recordedAt,
    language: evidence && "locale" in evidence && evidence.locale ? evidence.locale : "ja",
    jurisdiction: "JP",
    collectionMethod: evidence && "channel" in evidence && evidence.channel ? evidence.channel : first.actor.kind === "SUBJECT" ? "self-service" : "recorded by service",
    controller: CONTROLLER,
    policyVersion: version,
    accepted: events.some((e) => e.type === "PolicyAccepted"),
    granted: purposesOf("ConsentGranted"),
    withdrawn: purposesOf("ConsentWithdrawn"),
    ledger: {
      positions: events.map((e) => encodePosition(e.position)),
      eventIds: events.map((e) => e.id),
      headPosition: encodePosition(last.position),
      headHash: last.hash,
      events: events.map((e) => ({ id: e.id, hash: e.hash })),
    },
  });
  return signer.sign(payload, CONSENT_RECEIPT_TYP);
}
