// The evidence key vault in SQLite: one AES-256 key per subject, outside the events table; destroying
// a key (erasure) makes every sealed value of that subject unreadable for good.
import type Database from "better-sqlite3";
import type { Personal } from "../../domain/events.js";
import { newEvidenceKey, openWith, sealWith } from "../../evidence/seal.js";

export class KeyVault {
  private readonly get;
  private readonly put;
  private readonly del;

  constructor(db: Database.Database) {
    this.get = db.prepare("SELECT key FROM subject_keys WHERE subject_id = ?").pluck();
    this.put = db.prepare("INSERT INTO subject_keys (subject_id, key) VALUES (?, ?)");
    this.del = db.prepare("DELETE FROM subject_keys WHERE subject_id = ?");
  }

  /** Seals a value for a subject, creating the subject's key on first use (call inside the write transaction). */
  seal<T>(subjectId: string, value: T): Personal<T> {
    let key = this.key(subjectId);
    if (!key) {
      key = newEvidenceKey();
      this.put.run(subjectId, key);
    }
    return sealWith(key, subjectId, value);
  }

  /** The plaintext while the subject's key exists; `{ erased: true }` after erasure. */
  open<T>(subjectId: string, p: Personal<T> | undefined | null): T | { erased: true } | null {
    return openWith(p && "sealed" in p ? this.key(subjectId) : null, subjectId, p);
  }

  /** The subject's key, or null once destroyed (or never made). */
  key(subjectId: string): Buffer | null {
    return (this.get.get(subjectId) as Buffer | undefined) ?? null;
  }

  /** Destroys a subject's key; with secure_delete on, its bytes are overwritten in the file. */
  destroy(subjectId: string): void {
    this.del.run(subjectId);
  }

  hasKey(subjectId: string): boolean {
    return this.key(subjectId) !== null;
  }
}
