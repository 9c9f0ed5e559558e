// Sealing personal values with a subject's evidence key on PostgreSQL: the seal itself is the one of
// every adapter (src/evidence/seal.ts), so a ledger copied between backends opens the same way; what
// is PostgreSQL's own is where the subject's key lives.
import type pg from "pg";
import type { DomainEvent } from "../../domain/events.js";
import { keyToStored, storedToKey } from "../../evidence/key-wrap.js";
import { newEvidenceKey } from "../../evidence/seal.js";

export { sealWith as sealWithKey, sealEvent } from "../../evidence/seal.js";

/** The subject's key (unwrapped), made and stored wrapped under `kek` on first use; call with the subject's stream locked. */
export async function evidenceKeyFor(client: Pick<pg.ClientBase, "query">, subjectId: string, kek: Uint8Array | null): Promise<Buffer> {
  const made = await client.query<{ key: Buffer }>(
    `WITH ins AS (INSERT INTO subject_keys (subject_id, key) VALUES ($1, $2) ON CONFLICT (subject_id) DO NOTHING RETURNING key)
     SELECT key FROM ins UNION ALL SELECT key FROM subject_keys WHERE subject_id = $1`,
    [subjectId, keyToStored(kek, subjectId, newEvidenceKey())],
  );
  return storedToKey(kek, subjectId, made.rows[0]!.key);
}

/** Whether an event carries a personal value still in plaintext (to be sealed before appending). */
export const hasPlain = (e: DomainEvent): boolean =>
  Object.values(e.data as Record<string, unknown>).some((v) => v !== null && typeof v === "object" && "plain" in v);
