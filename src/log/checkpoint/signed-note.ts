// C2SP signed-note with Ed25519 (https://c2sp.org/signed-note): notes, signature lines and verifier keys.
import { createHash, createPublicKey, verify as verifySignature } from "node:crypto";

/** The signed-note signature type of Ed25519. */
export const ED25519_TYPE = 0x01;

/** Why a note or a verifier key is refused. */
export class NoteError extends Error {
  static readonly code = "NOTE_INVALID";
  readonly code = NoteError.code;
  override readonly name = "NoteError";
}

/** What signs notes: a key name, its Ed25519 public key, and the signing itself. */
export interface NoteSigner {
  readonly name: string;
  /** The 32-byte Ed25519 public key. */
  readonly publicKey: Uint8Array;
  /** An Ed25519 signature (64 bytes) over the message. */
  sign(message: Uint8Array): Uint8Array;
}

export interface VerifierKey {
  name: string;
  keyId: Buffer;
  publicKey: Buffer;
}

/** A key name is non-empty UTF-8 with no spaces, no "+" and no control characters. */
export function checkKeyName(name: string): void {
  if (name === "" || /[\s+\u0000-\u001f\u007f]/u.test(name)) throw new NoteError(`"${name}" is not a valid key name`);
}

/** The first 4 bytes of SHA-256(name || 0x0A || type || public key). */
export function keyIdOf(name: string, publicKey: Uint8Array): Buffer {
  return createHash("sha256").update(name).update(Buffer.of(0x0a, ED25519_TYPE)).update(publicKey).digest().subarray(0, 4);
}

/** `<name>+<8 hex key id>+<base64(0x01 || public key)>`. */
export function formatVerifierKey(name: string, publicKey: Uint8Array): string {
  checkKeyName(name);
  return `${name}+${keyIdOf(name, publicKey).toString("hex")}+${Buffer.concat([Buffer.of(ED25519_TYPE), publicKey]).toString("base64")}`;
}

const STRICT_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Standard base64, refusing anything Buffer.from would quietly skip. */
export function decodeBase64(s: string, what: string): Buffer {
  if (!STRICT_BASE64.test(s)) throw new NoteError(`${what} is not base64`);
  return Buffer.from(s, "base64");
}

/** Reads a verifier key; its key id must be the one its name and key make. */
export function parseVerifierKey(vkey: string): VerifierKey {
  const parts = vkey.trim().split("+");
  // The key (base64) may itself hold "+": the name and key id are the first two fields, the rest is the key.
  if (parts.length < 3) throw new NoteError("a verifier key reads <name>+<key id>+<key>");
  const [name, idHex] = parts as [string, string];
  const key = decodeBase64(parts.slice(2).join("+"), "the verifier key");
  checkKeyName(name);
  if (!/^[0-9a-f]{8}$/.test(idHex)) throw new NoteError("the verifier key's id is not 8 hex digits");
  if (key.length !== 33 || key[0] !== ED25519_TYPE) throw new NoteError("the verifier key is not an Ed25519 key (type 0x01, 32 bytes)");
  const publicKey = key.subarray(1);
  const keyId = keyIdOf(name, publicKey);
  if (keyId.toString("hex") !== idHex) throw new NoteError("the verifier key's id does not match its name and key");
  return { name, keyId, publicKey };
}

function checkText(text: string): void {
  if (!text.endsWith("\n")) throw new NoteError("a note's text ends with a newline");
  if (/[\u0000-\u0009\u000b-\u001f\u007f]/u.test(text)) throw new NoteError("a note's text holds a control character");
}

/** Signs a note's text: the text, a blank line, and one signature line. */
export function signNote(text: string, signer: NoteSigner): string {
  checkText(text);
  checkKeyName(signer.name);
  const signature = signer.sign(Buffer.from(text, "utf8"));
  const blob = Buffer.concat([keyIdOf(signer.name, signer.publicKey), signature]).toString("base64");
  return `${text}\n— ${signer.name} ${blob}\n`;
}

/**
 * The text of a note that carries a valid signature by `key`; a NoteError otherwise. Signatures by
 * other keys are allowed (a note may be co-signed) and ignored.
 */
export function openNote(note: string, key: VerifierKey): string {
  const split = note.lastIndexOf("\n\n");
  if (split < 0) throw new NoteError("a note has a blank line between its text and its signatures");
  const text = note.slice(0, split + 1);
  checkText(text);
  const lines = note.slice(split + 2).split("\n");
  if (lines.at(-1) !== "") throw new NoteError("a note ends with a newline");
  lines.pop();
  if (lines.length === 0) throw new NoteError("the note is not signed");
  const publicKey = createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: key.publicKey.toString("base64url") }, format: "jwk" });
  for (const line of lines) {
    const m = /^— (\S+) (\S+)$/u.exec(line);
    if (!m) throw new NoteError("a signature line reads — <name> <base64 signature>");
    const blob = decodeBase64(m[2]!, "a signature");
    if (m[1] !== key.name || blob.length < 4 || !blob.subarray(0, 4).equals(key.keyId)) continue;
    if (blob.length === 68 && verifySignature(null, Buffer.from(text, "utf8"), publicKey, blob.subarray(4))) return text;
    throw new NoteError(`the signature by ${key.name} does not verify`);
  }
  throw new NoteError(`the note carries no signature by ${key.name}+${key.keyId.toString("hex")}`);
}
