// The external-transmission notice (Telecommunications Business Act Art. 27-12), generated from the catalogue.
import { type Catalog, type Recipient, dataCategoryLabelsOf, effectiveVersions } from "./catalog.js";
import type { Instant } from "./time.js";

export interface ExternalTransmission {
  purposeId: string;
  policyId: string;
  purposeTitle: string;
  recipient: Recipient;
  dataCategories: string[];
  /** The plain-language label of each of dataCategories, in order. */
  dataCategoryLabels: string[];
  recipientPurpose: string;
  /** The purpose whose withdrawal stops the transmission. */
  optOutPurposeId: string;
}

/**
 * Every EXTERNAL_MODULE recipient of the versions in effect now (of one policy, or of every policy),
 * with what is sent and how to stop it. A recipient without its own purpose falls back to the purpose's description.
 */
export function externalTransmissions(catalog: Catalog, policyId: string | null, now: Instant): ExternalTransmission[] {
  const policies = policyId === null ? catalog.policies() : [catalog.get(policyId)].filter((p) => p !== undefined);
  const out: ExternalTransmission[] = [];
  for (const policy of policies) {
    const current = effectiveVersions(policy, { at: now, knownAt: now }).at(-1) ?? policy.versions.at(-1);
    if (!current) continue;
    for (const p of current.purposes)
      for (const r of p.recipients)
        if (r.kind === "EXTERNAL_MODULE")
          out.push({
            purposeId: p.id,
            policyId: policy.id,
            purposeTitle: p.title,
            recipient: r,
            dataCategories: [...p.dataCategories],
            dataCategoryLabels: [...dataCategoryLabelsOf(p)],
            recipientPurpose: r.recipientPurpose ?? p.description ?? p.title,
            optOutPurposeId: p.id,
          });
  }
  return out;
}
