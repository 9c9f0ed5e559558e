// The evidence key vault in SQLite: one AES-256 key per subject, outside the events table, stored
// wrapped under the key-encryption key (evidence/key-wrap.ts); destroying a key (erasure) makes every
// sealed value of that subject unreadable for good.
import type Database from "better-sqlite3";
import type { Personal } from "../../domain/events.js";
import { KEY_BYTES, newEvidenceKey, openWith, sealWith } from "../../evidence/seal.js";
import { WRAPPED_KEY_BYTES, checkKek, keyToStored, storedToKey, wrapKey } from "../../evidence/key-wrap.js";

export class KeyVault {
  private readonly get;
  private readonly put;
  private readonly del;

  /**
   * `kek` null keeps keys as they are stored (plain ones only): in-memory ledgers in tests and tools
   * that never open evidence. With a KEK, keys are wrapped on write and unwrapped on read.
   */
  constructor(
    private readonly db: Database.Database,
    private readonly kek: Uint8Array | null = null,
  ) {
    this.get = db.prepare("SELECT key FROM subject_keys WHERE subject_id = ?").pluck();
    this.put = db.prepare("INSERT INTO subject_keys (subject_id, key) VALUES (?, ?)");
    this.del = db.prepare("DELETE FROM subject_keys WHERE subject_id = ?");
  }

  /** KekMismatchError unless the KEK opens a stored wrapped key (or none is stored yet). */
  checkKek(): void {
    const sample = this.db.prepare("SELECT subject_id, key FROM subject_keys WHERE length(key) = ? LIMIT 1").get(WRAPPED_KEY_BYTES) as
      | { subject_id: string; key: Buffer }
      | undefined;
    checkKek(this.kek, sample && { subjectId: sample.subject_id, stored: sample.key });
  }

  /**
   * Checks the KEK, then wraps every plain key an older build left, in one transaction: the keys
   * themselves do not change, only how they are stored. Returns how many were wrapped.
   */
  wrapStoredKeys(): number {
    const kek = this.kek;
    if (!kek) return 0;
    this.checkKek();
    const plain = this.db.prepare("SELECT subject_id, key FROM subject_keys WHERE length(key) = ?").all(KEY_BYTES) as { subject_id: string; key: Buffer }[];
    if (plain.length === 0) return 0;
    const update = this.db.prepare("UPDATE subject_keys SET key = ? WHERE subject_id = ?");
    this.db
      .transaction(() => {
        for (const r of plain) update.run(wrapKey(kek, r.subject_id, r.key), r.subject_id);
      })
      .immediate();
    return plain.length;
  }

  /** Seals a value for a subject, creating the subject's key on first use (call inside the write transaction). */
  seal<T>(subjectId: string, value: T): Personal<T> {
    return sealWith(this.keyFor(subjectId), subjectId, value);
  }

  /** The subject's key (unwrapped), made and stored on first use (call inside the write transaction). */
  keyFor(subjectId: string): Buffer {
    let key = this.key(subjectId);
    if (!key) {
      key = newEvidenceKey();
      this.put.run(subjectId, keyToStored(this.kek, subjectId, key));
    }
    return key;
  }

  /** The plaintext while the subject's key exists; `{ erased: true }` after erasure. */
  open<T>(subjectId: string, p: Personal<T> | undefined | null): T | { erased: true } | null {
    return openWith(p && "sealed" in p ? this.key(subjectId) : null, subjectId, p);
  }

  /** The subject's key (unwrapped), or null once destroyed (or never made). */
  key(subjectId: string): Buffer | null {
    const stored = this.get.get(subjectId) as Buffer | undefined;
    return stored ? storedToKey(this.kek, subjectId, stored) : null;
  }

  /** The subject's key exactly as the database holds it (wrapped), for checks of what a copy reveals. */
  storedKey(subjectId: string): Buffer | null {
    return (this.get.get(subjectId) as Buffer | undefined) ?? null;
  }

  /** Destroys a subject's key; with secure_delete on, its bytes are overwritten in the file. */
  destroy(subjectId: string): void {
    this.del.run(subjectId);
  }

  hasKey(subjectId: string): boolean {
    return this.get.get(subjectId) !== undefined;
  }
}
