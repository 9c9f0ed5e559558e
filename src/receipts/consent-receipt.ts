// The payload of a consent receipt: Kantara Consent Receipt v1.1 fields plus the ledger's own.
import type { Purpose, PolicyVersion } from "../domain/catalog.js";
import { transferDetailsOf } from "../domain/policy-version.js";

export const KANTARA_VERSION = "KI-CR-v1.1.0";

/** The JWS `typ` header of a signed consent receipt. */
export const CONSENT_RECEIPT_TYP = "consent-receipt+jwt";

export interface ConsentReceiptInput {
  receiptId: string;
  subjectId: string;
  /** Epoch ms. */
  issuedAt: number;
  language: string;
  jurisdiction: string;
  collectionMethod: string;
  controller: { name: string; contact: string; address: string; representative?: string; email: string; phone: string; url: string; requestProcedure?: string };
  policyVersion: PolicyVersion;
  accepted: boolean;
  /** The purposes accepting the version made permitted without a grant (REQUIRED ones, OPT_OUT defaults). */
  permittedByAcceptance?: Purpose[];
  granted: Purpose[];
  withdrawn: Purpose[];
  ledger: { positions: string[]; eventIds: string[]; headPosition: string; headHash: string; events: { id: string; hash: string }[] };
}

/**
 * A Kantara CR v1.1 payload for one recordConsent call. The Kantara fields keep their names and
 * types; the ledger adds `policy`, `ledger`, `grants`, `permittedByAcceptance` (the REQUIRED and OPT_OUT
 * purposes accepting the version permitted, listed among the purposes too), `withdrawals`, `acceptedPolicyVersion` (only
 * when the call accepted the version) and, on each purpose, `purposeId` and `withdrawn` (true for
 * a purpose withdrawn in this call: Kantara has no field for withdrawal, so such purposes are listed
 * with that marker rather than left out). `ledger.events` names each event's id and hash, so that the
 * holder can ask for its inclusion proof and check it against a signed checkpoint. `publicKey` is omitted: the JWS header's `kid` names the key.
 */
export function buildConsentReceipt(input: ConsentReceiptInput): Record<string, unknown> {
  const v = input.policyVersion;
  const receipt: Record<string, unknown> = {
    version: KANTARA_VERSION,
    jurisdiction: input.jurisdiction,
    consentTimestamp: Math.floor(input.issuedAt / 1000),
    collectionMethod: input.collectionMethod,
    consentReceiptID: input.receiptId,
    language: input.language,
    piiPrincipalId: input.subjectId,
    piiControllers: [
      {
        piiController: input.controller.name,
        contact: input.controller.contact,
        address: input.controller.address,
        ...(input.controller.representative ? { representative: input.controller.representative } : {}),
        email: input.controller.email,
        phone: input.controller.phone,
        piiControllerUrl: input.controller.url,
        ...(input.controller.requestProcedure ? { requestProcedure: input.controller.requestProcedure } : {}),
      },
    ],
    // Kantara requires a string; a version published without a document URL yields "".
    policyUrl: v.documentUrl ?? "",
    services: [
      {
        service: v.title,
        purposes: [
          ...(input.permittedByAcceptance ?? []).map((p) => kantaraPurpose(p, false)),
          ...input.granted.map((p) => kantaraPurpose(p, false)),
          ...input.withdrawn.map((p) => kantaraPurpose(p, true)),
        ],
      },
    ],
    sensitive: false,
    spiCat: [],
    policy: { policyId: v.policyId, version: v.number, digest: v.digest },
    grants: input.granted.map((p) => p.id),
    permittedByAcceptance: (input.permittedByAcceptance ?? []).map((p) => p.id),
    withdrawals: input.withdrawn.map((p) => p.id),
    ledger: {
      positions: [...input.ledger.positions],
      headPosition: input.ledger.headPosition,
      headHash: input.ledger.headHash,
      eventIds: [...input.ledger.eventIds],
      events: input.ledger.events.map((e) => ({ id: e.id, hash: e.hash })),
    },
  };
  if (input.accepted) receipt["acceptedPolicyVersion"] = v.number;
  return receipt;
}

const CONSENT_TYPE: Record<Purpose["mode"], string> = {
  OPT_IN: "EXPLICIT",
  OPT_OUT: "IMPLIED",
  REQUIRED: "NOT_APPLICABLE",
};

function kantaraPurpose(p: Purpose, withdrawn: boolean): Record<string, unknown> {
  const thirdParties = p.recipients.filter((r) => r.kind === "THIRD_PARTY" || r.kind === "EXTERNAL_MODULE");
  const out: Record<string, unknown> = {
    purpose: p.title,
    purposeId: p.id,
    purposeCategory: [p.id, p.basis],
    consentType: CONSENT_TYPE[p.mode],
    piiCategory: [...p.dataCategories],
    // A REQUIRED purpose is the service itself; the optional ones are secondary to it.
    primaryPurpose: p.mode === "REQUIRED",
    termination: terminationOf(p),
    thirdPartyDisclosure: thirdParties.length > 0,
    withdrawn,
    // The recipients a grant under this version covers, with what APPI Art. 28(2) says the person is told.
    recipients: p.recipients.map((r) => ({ id: r.id, name: r.name, kind: r.kind, country: r.country, ...transferDetailsOf(r), privacyPolicyUrl: r.privacyPolicyUrl })),
  };
  if (thirdParties.length > 0) out["thirdPartyName"] = thirdParties.map((r) => r.name).join(", ");
  return out;
}

function terminationOf(p: Purpose): string {
  if (p.mode === "REQUIRED") return "on leaving the service";
  if (p.consentTtlDays !== null) return `consent expires after ${p.consentTtlDays} days or on withdrawal`;
  return "on withdrawal";
}
