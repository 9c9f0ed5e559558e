// Subject keys at rest: each wrapped (AES-256-GCM) under a key-encryption key (KEK) kept outside the
// database, bound to its subject's id. Every adapter stores this format, so a database file, its WAL,
// a dump or a backup alone opens no evidence, and a ledger copied between backends opens the same way.
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { KEY_BYTES } from "./seal.js";

const IV_BYTES = 12;
const TAG_BYTES = 16;
const WRAP_VERSION = 1;
/** A wrapped subject key: version byte, IV, tag, wrapped key. A plain key (an older build's) is 32 bytes. */
export const WRAPPED_KEY_BYTES = 1 + IV_BYTES + TAG_BYTES + KEY_BYTES;

/** The KEK in use cannot open the stored subject keys: a wrong or replaced EVIDENCE_KEK_FILE. */
export class KekMismatchError extends Error {
  static readonly code = "KEK_MISMATCH";
  readonly code = KekMismatchError.code;
  override readonly name = "KekMismatchError";
  constructor() {
    super("the evidence key-encryption key (EVIDENCE_KEK_FILE) does not open this database's subject keys: restore the key file the database was sealed with");
  }
}

/** A wrapped key found where no KEK was given. */
export class KekMissingError extends Error {
  static readonly code = "KEK_MISSING";
  readonly code = KekMissingError.code;
  override readonly name = "KekMissingError";
  constructor() {
    super("subject keys are wrapped under a key-encryption key: give EVIDENCE_KEK_FILE (or --kek) to open evidence");
  }
}

/** Binds a wrapped key to its subject, so swapping rows between subjects opens nothing. */
const wrapAad = (subjectId: string): Buffer => Buffer.from(`consent-ledger subject key v${WRAP_VERSION}\u0000${subjectId}`, "utf8");

export function wrapKey(kek: Uint8Array, subjectId: string, key: Uint8Array): Buffer {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv("aes-256-gcm", kek, iv);
  cipher.setAAD(wrapAad(subjectId));
  const ct = Buffer.concat([cipher.update(key), cipher.final()]);
  return Buffer.concat([Buffer.from([WRAP_VERSION]), iv, cipher.getAuthTag(), ct]);
}

/** The subject key inside a wrapped blob; throws when the KEK or the subject does not match. */
export function unwrapKey(kek: Uint8Array, subjectId: string, wrapped: Uint8Array): Buffer {
  const w = Buffer.from(wrapped.buffer, wrapped.byteOffset, wrapped.byteLength);
  if (!isWrapped(w)) throw new Error("not a wrapped subject key");
  const decipher = createDecipheriv("aes-256-gcm", kek, w.subarray(1, 1 + IV_BYTES));
  decipher.setAAD(wrapAad(subjectId));
  decipher.setAuthTag(w.subarray(1 + IV_BYTES, 1 + IV_BYTES + TAG_BYTES));
  return Buffer.concat([decipher.update(w.subarray(1 + IV_BYTES + TAG_BYTES)), decipher.final()]);
}

export const isWrapped = (stored: Uint8Array): boolean => stored.length === WRAPPED_KEY_BYTES && stored[0] === WRAP_VERSION;

/**
 * The subject key as stored, made usable: a wrapped key unwrapped with `kek`; a plain key (an older
 * build's, not yet wrapped) as it is. KekMissingError for a wrapped key without a KEK.
 */
export function storedToKey(kek: Uint8Array | null, subjectId: string, stored: Uint8Array): Buffer {
  if (!isWrapped(stored)) return Buffer.from(stored);
  if (!kek) throw new KekMissingError();
  return unwrapKey(kek, subjectId, stored);
}

/** How a new subject key is stored: wrapped under `kek`, or as it is without one (tests, tools that never seal). */
export const keyToStored = (kek: Uint8Array | null, subjectId: string, key: Uint8Array): Buffer => (kek ? wrapKey(kek, subjectId, key) : Buffer.from(key));

/** KekMismatchError unless `kek` opens `sample` (one stored wrapped key, with its subject), or there is none. */
export function checkKek(kek: Uint8Array | null, sample: { subjectId: string; stored: Uint8Array } | undefined): void {
  if (!kek || !sample) return;
  try {
    unwrapKey(kek, sample.subjectId, sample.stored);
  } catch {
    throw new KekMismatchError();
  }
}
