// Shared pieces of the compliance tests: publishing a version that names recipients, and reading receipts.
import { decodeJwt } from "jose";
import type { PublishCommand } from "../../src/domain/decide.js";
import type { Recipient } from "../../src/domain/catalog.js";
import type { TestServer } from "../support/harness.js";

export const PARTNER_SG: Recipient = {
  id: "partner-sg",
  name: "Partner Pte. Ltd.",
  kind: "THIRD_PARTY",
  country: "SG",
  privacyPolicyUrl: "https://partner.example/privacy",
  countryProtectionSystem: "シンガポール: Personal Data Protection Act 2012",
  measures: "ISO/IEC 27001 認証、委託契約による安全管理措置",
  recipientPurpose: "共同キャンペーンの案内",
};
export const ADTECH_US: Recipient = {
  id: "adtech-us",
  name: "AdTech Inc.",
  kind: "THIRD_PARTY",
  country: "US",
  privacyPolicyUrl: null,
  countryProtectionSystem: "米国: 包括的な連邦法はなく州法による",
  measures: "契約による安全管理措置",
  recipientPurpose: "広告配信",
};

/**
 * Publishes the next version of the seed policy through the API (policy:write), with
 * third-party-provision naming `recipients`; effective `effectiveInMs` from now.
 */
export async function publishWithRecipients(srv: TestServer, recipients: Recipient[], opts: { effectiveInMs?: number; requiresConsent?: boolean; drop?: string[]; digestChar?: string } = {}) {
  const { ledger } = srv.app.services;
  const policy = ledger.catalog.get("clavis-privacy")!;
  const last = policy.versions.at(-1)!;
  const input = {
    policyId: "clavis-privacy",
    title: last.title,
    effectiveAt: new Date(ledger.now() + (opts.effectiveInMs ?? -1)).toISOString(),
    requiresConsent: opts.requiresConsent ?? false,
    documentDigest: (opts.digestChar ?? String(policy.versions.length + 1)).repeat(64),
    changeSummary: "names recipients",
    purposes: last.purposes
      .filter((p) => !(opts.drop ?? []).includes(p.id))
      .map((p) => ({
        id: p.id,
        title: p.title,
        description: p.description,
        mode: p.mode,
        basis: p.basis,
        dataCategories: p.dataCategories,
        consentTtlDays: p.consentTtlDays,
        recipients: (p.id === "third-party-provision" ? recipients : p.recipients).map((r) => ({ ...r })),
      })),
  };
  const r = await srv.gql<{ publishPolicyVersion: { number: number } }>(
    `mutation($input: PublishPolicyVersionInput!) { publishPolicyVersion(input: $input) { number } }`,
    { input },
    await srv.token("dpo", "policy:write"),
  );
  if (r.errors) throw new Error(JSON.stringify(r.errors));
  return r.data!.publishPolicyVersion.number;
}

/** A receipt's payload (its signature is checked by the receipt tests). */
export const receiptPayload = (jws: string) => decodeJwt(jws) as Record<string, unknown> & { services: { purposes: Record<string, unknown>[] }[]; piiControllers: Record<string, unknown>[] };

export type PublishInput = PublishCommand;
