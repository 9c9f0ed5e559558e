// The top-level field names of a Kantara Consent Receipt v1.1, as the specification lists them.
export const KANTARA_CR_FIELDS = [
  "version",
  "jurisdiction",
  "consentTimestamp",
  "collectionMethod",
  "consentReceiptID",
  "language",
  "piiPrincipalId",
  "piiControllers",
  "policyUrl",
  "services",
  "sensitive",
  "spiCat",
] as const;
