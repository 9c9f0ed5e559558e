// buildConsentReceipt: the Kantara CR v1.1 field names and the ledger's extensions.
import { createLocalJWKSet, jwtVerify } from "jose";
import { describe, expect, it } from "vitest";
import type { PolicyVersion, Purpose } from "../../src/domain/catalog.js";
import { buildConsentReceipt, CONSENT_RECEIPT_TYP, type ConsentReceiptInput } from "../../src/receipts/consent-receipt.js";
import { ReceiptSigner } from "../../src/receipts/signer.js";
import { KANTARA_CR_FIELDS } from "../support/kantara.js";
import { makeTempDir } from "../support/common.js";

const purpose = (over: Partial<Purpose> & Pick<Purpose, "id" | "mode">): Purpose => ({
  title: `Title of ${over.id}`,
  description: null,
  basis: "CONSENT",
  dataCategories: ["email"],
  recipients: [],
  consentTtlDays: null,
  ...over,
});

const service = purpose({ id: "service", mode: "REQUIRED", basis: "CONTRACT" });
const newsletter = purpose({ id: "newsletter", mode: "OPT_IN", consentTtlDays: 365, dataCategories: ["email", "name"] });
const ads = purpose({
  id: "ads",
  mode: "OPT_OUT",
  basis: "LEGITIMATE_INTEREST",
  recipients: [
    { id: "cdn", name: "CDN Inc", kind: "PROCESSOR", country: null, privacyPolicyUrl: null },
    { id: "adnet", name: "AdNet", kind: "THIRD_PARTY", country: "US", privacyPolicyUrl: null },
    { id: "tag", name: "Tag Module", kind: "EXTERNAL_MODULE", country: null, privacyPolicyUrl: null },
  ],
});

const version: PolicyVersion = {
  policyId: "main",
  number: 2,
  title: "Example service privacy policy",
  overrides: null,
  effectiveAt: 1_700_000_000_000,
  requiresConsent: true,
  documentUrl: "https://example.test/privacy",
  digest: "sha256:abc",
  changeSummary: null,
  purposes: [service, newsletter, ads],
  publishedAt: 1_699_000_000_000,
};

const input = (over: Partial<ConsentReceiptInput> = {}): ConsentReceiptInput => ({
  receiptId: "rcpt-1",
  subjectId: "alice",
  issuedAt: 1_700_000_123_456,
  language: "ja",
  jurisdiction: "JP",
  collectionMethod: "web form",
  controller: {
    name: "Example K.K.",
    contact: "Privacy Office",
    address: "1-1 Chiyoda, Tokyo",
    email: "privacy@example.test",
    phone: "+81-3-0000-0000",
    url: "https://example.test",
  },
  policyVersion: version,
  accepted: true,
  granted: [newsletter],
  withdrawn: [ads],
  ledger: {
    positions: ["10", "11"],
    eventIds: ["e10", "e11"],
    headPosition: "11",
    headHash: "f".repeat(64),
    events: [
      { id: "e10", hash: "e".repeat(64) },
      { id: "e11", hash: "f".repeat(64) },
    ],
  },
  ...over,
});

describe("buildConsentReceipt", () => {
  const receipt = buildConsentReceipt(input());

  it("has every Kantara CR v1.1 field", () => {
    for (const field of KANTARA_CR_FIELDS) {
      expect(receipt).toHaveProperty(field);
    }
    expect(receipt).not.toHaveProperty("publicKey");
    expect(receipt).toMatchObject({
      version: "KI-CR-v1.1.0",
      jurisdiction: "JP",
      consentTimestamp: 1_700_000_123,
      collectionMethod: "web form",
      consentReceiptID: "rcpt-1",
      language: "ja",
      piiPrincipalId: "alice",
      policyUrl: "https://example.test/privacy",
      sensitive: false,
      spiCat: [],
    });
    expect(receipt["piiControllers"]).toEqual([
      {
        piiController: "Example K.K.",
        contact: "Privacy Office",
        address: "1-1 Chiyoda, Tokyo",
        email: "privacy@example.test",
        phone: "+81-3-0000-0000",
        piiControllerUrl: "https://example.test",
      },
    ]);
  });

  it("lists granted and withdrawn purposes with Kantara purpose fields", () => {
    const services = receipt["services"] as { service: string; purposes: Record<string, unknown>[] }[];
    expect(services).toHaveLength(1);
    expect(services[0]!.service).toBe("Example service privacy policy");
    const [granted, withdrawn] = services[0]!.purposes;
    for (const p of [granted!, withdrawn!]) {
      for (const f of ["purpose", "purposeCategory", "consentType", "piiCategory", "primaryPurpose", "termination", "thirdPartyDisclosure"]) {
        expect(p).toHaveProperty(f);
      }
    }
    expect(granted).toEqual({
      purpose: "Title of newsletter",
      purposeId: "newsletter",
      purposeCategory: ["newsletter", "CONSENT"],
      consentType: "EXPLICIT",
      piiCategory: ["email", "name"],
      primaryPurpose: false,
      termination: "consent expires after 365 days or on withdrawal",
      thirdPartyDisclosure: false,
      withdrawn: false,
      recipients: [],
    });
    expect(withdrawn).toMatchObject({
      purposeId: "ads",
      consentType: "IMPLIED",
      termination: "on withdrawal",
      thirdPartyDisclosure: true,
      thirdPartyName: "AdNet, Tag Module",
      withdrawn: true,
    });
    // Each purpose lists the recipients a grant under this version covers, with what Art. 28(2) says the person is told.
    expect((withdrawn as { recipients: { id: string; country: string | null }[] }).recipients.map((r) => [r.id, r.country])).toEqual([
      ["cdn", null],
      ["adnet", "US"],
      ["tag", null],
    ]);
  });

  it("marks REQUIRED purposes as NOT_APPLICABLE, primary, ending on leaving the service", () => {
    const r = buildConsentReceipt(input({ granted: [service], withdrawn: [] }));
    const p = (r["services"] as { purposes: Record<string, unknown>[] }[])[0]!.purposes[0]!;
    expect(p).toMatchObject({ consentType: "NOT_APPLICABLE", primaryPurpose: true, termination: "on leaving the service" });
    expect(p).not.toHaveProperty("thirdPartyName");
  });

  it("carries the ledger fields, grants, withdrawals and the accepted version", () => {
    expect(receipt).toMatchObject({
      ledger: {
        positions: ["10", "11"],
        headPosition: "11",
        headHash: "f".repeat(64),
        eventIds: ["e10", "e11"],
        events: [
          { id: "e10", hash: "e".repeat(64) },
          { id: "e11", hash: "f".repeat(64) },
        ],
      },
      grants: ["newsletter"],
      withdrawals: ["ads"],
      acceptedPolicyVersion: 2,
      policy: { policyId: "main", version: 2, digest: "sha256:abc" },
    });
  });

  it("leaves acceptedPolicyVersion out when the call accepted nothing", () => {
    expect(buildConsentReceipt(input({ accepted: false }))).not.toHaveProperty("acceptedPolicyVersion");
  });

  it("uses an empty policyUrl when the version has no document URL", () => {
    expect(buildConsentReceipt(input({ policyVersion: { ...version, documentUrl: null } }))["policyUrl"]).toBe("");
  });

  it("signs into a receipt a client can verify with the JWKS", async () => {
    const signer = await ReceiptSigner.load({ keyFile: null, dataDir: makeTempDir("cr-") });
    const jws = await signer.sign(receipt, CONSENT_RECEIPT_TYP);
    const { payload, protectedHeader } = await jwtVerify(jws, createLocalJWKSet(signer.jwks()));
    expect(protectedHeader.typ).toBe(CONSENT_RECEIPT_TYP);
    expect(payload).toEqual(receipt);
  });
});
