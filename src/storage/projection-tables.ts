// The read-model tables both adapters keep in step with the log (and empty for a rebuild).
export const PROJECTION_TABLES = [
  "subjects",
  "consents",
  "standings",
  "data_requests",
  "consent_history",
  "acceptance_history",
  "status_history",
  "expiry_notes",
  "version_effects",
  "transfers",
] as const;
