// Which storage backend the in-process test server runs on. The API suites run once per backend:
// vitest's "sqlite" project leaves LEDGER_BACKEND unset, its "postgres" project sets it (see
// vitest.config.ts); a suite about a SQLite-only feature is listed there as such and runs once.
export type Backend = "sqlite" | "postgres";

export const BACKENDS: readonly Backend[] = ["sqlite", "postgres"];

/** The backend of this run: LEDGER_BACKEND=postgres, otherwise SQLite. */
export const backend: Backend = process.env["LEDGER_BACKEND"] === "postgres" ? "postgres" : "sqlite";
