// A subject's evidence key on PostgreSQL: made on first use and stored wrapped under the KEK, in the
// command's transaction. Sealing itself is evidence/seal.ts, the same format on every adapter, so a
// ledger copied between backends opens the same way.
import type pg from "pg";
import { keyToStored, storedToKey } from "../../evidence/key-wrap.js";
import { newEvidenceKey } from "../../evidence/seal.js";

/** The subject's key (unwrapped), made and stored wrapped under `kek` on first use; call with the subject's stream locked. */
export async function evidenceKeyFor(client: Pick<pg.ClientBase, "query">, subjectId: string, kek: Uint8Array | null): Promise<Buffer> {
  const made = await client.query<{ key: Buffer }>(
    `WITH ins AS (INSERT INTO subject_keys (subject_id, key) VALUES ($1, $2) ON CONFLICT (subject_id) DO NOTHING RETURNING key)
     SELECT key FROM ins UNION ALL SELECT key FROM subject_keys WHERE subject_id = $1`,
    [subjectId, keyToStored(kek, subjectId, newEvidenceKey())],
  );
  return storedToKey(kek, subjectId, made.rows[0]!.key);
}
