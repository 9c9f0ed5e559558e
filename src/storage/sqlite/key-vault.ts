// Personal evidence sealed with a per-subject AES-256-GCM key that lives outside the events table;
// destroying the key (erasure) makes every sealed value of that subject unreadable for good.
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import type Database from "better-sqlite3";
import type { Personal } from "../../domain/events.js";

const IV_BYTES = 12;
const TAG_BYTES = 16;

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
    let key = this.get.get(subjectId) as Buffer | undefined;
    if (!key) {
      key = randomBytes(32);
      this.put.run(subjectId, key);
    }
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv("aes-256-gcm", key, iv);
    cipher.setAAD(Buffer.from(subjectId));
    const ct = Buffer.concat([cipher.update(JSON.stringify(value), "utf8"), cipher.final()]);
    return { sealed: Buffer.concat([iv, cipher.getAuthTag(), ct]).toString("base64url") };
  }

  /** The plaintext while the subject's key exists; `{ erased: true }` after erasure. */
  open<T>(subjectId: string, p: Personal<T> | undefined | null): T | { erased: true } | null {
    if (!p) return null;
    if ("plain" in p) return p.plain;
    if ("erased" in p) return p;
    const key = this.get.get(subjectId) as Buffer | undefined;
    if (!key) return { erased: true };
    const raw = Buffer.from(p.sealed, "base64url");
    const decipher = createDecipheriv("aes-256-gcm", key, raw.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(subjectId));
    decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    const pt = Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]);
    return JSON.parse(pt.toString("utf8")) as T;
  }

  /** Destroys a subject's key; with secure_delete on, its bytes are overwritten in the file. */
  destroy(subjectId: string): void {
    this.del.run(subjectId);
  }

  hasKey(subjectId: string): boolean {
    return this.get.get(subjectId) !== undefined;
  }
}
