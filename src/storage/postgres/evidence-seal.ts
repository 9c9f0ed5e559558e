// Sealing personal values with a subject's evidence key (AES-256-GCM, the subject id as associated
// data): the same format as every adapter, so a ledger copied between backends opens the same way.
import { createCipheriv, randomBytes } from "node:crypto";
import type pg from "pg";
import type { DomainEvent, Personal } from "../../domain/events.js";
import { keyToStored, storedToKey } from "../../evidence/key-wrap.js";
import { newEvidenceKey } from "../../evidence/seal.js";

const IV_BYTES = 12;

export function sealWithKey<T>(key: Uint8Array, subjectId: string, value: T): Personal<T> {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  cipher.setAAD(Buffer.from(subjectId));
  const ct = Buffer.concat([cipher.update(JSON.stringify(value), "utf8"), cipher.final()]);
  return { sealed: Buffer.concat([iv, cipher.getAuthTag(), ct]).toString("base64url") };
}

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

/** Seals every `{ plain }` member of an event's data. */
export function sealEvent(e: DomainEvent, seal: (value: unknown) => Personal<unknown>): DomainEvent {
  const data: Record<string, unknown> = { ...(e.data as Record<string, unknown>) };
  for (const [k, v] of Object.entries(data)) if (v && typeof v === "object" && "plain" in v) data[k] = seal((v as { plain: unknown }).plain);
  return { ...e, data } as DomainEvent;
}
