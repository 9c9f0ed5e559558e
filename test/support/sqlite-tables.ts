// Reads the SQLite adapter's projection tables, for tests that compare them against a fold or a rebuild.
import type Database from "better-sqlite3";
import type { Ledger } from "../../src/ledger.js";
import { PROJECTION_TABLES } from "../../src/storage/sqlite/schema.js";
import { sqlite } from "./ledger-commands.js";

/** Every projection row in `db`, table by table, in a stable order. */
export function tableRows(db: Database.Database): Record<string, unknown[]> {
  const out: Record<string, unknown[]> = {};
  for (const t of PROJECTION_TABLES) out[t] = db.prepare(`SELECT * FROM ${t} ORDER BY 1, 2, 3`).all();
  return out;
}

/** Every projection row of a ledger on the SQLite adapter. */
export const projectionRows = (ledger: Ledger): Record<string, unknown[]> => tableRows(sqlite(ledger).store.db);
