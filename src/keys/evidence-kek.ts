// The key-encryption key (KEK) that wraps every subject's evidence key: 32 random bytes in a file
// of its own, kept apart from the database so that a copy of the database alone opens nothing.
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { readKeyFile, writeKeyFileOnce } from "./key-file.js";

export const KEK_BYTES = 32;

/** Where dev mode keeps a generated KEK when EVIDENCE_KEK_FILE is not set. */
export const devKekPath = (dataDir: string): string => join(dataDir, "keys", "evidence.kek");

/** The KEK in a file (base64 or base64url of 32 bytes, surrounding whitespace ignored); undefined when there is no file. */
export async function readKekFile(path: string): Promise<Buffer | undefined> {
  const text = await readKeyFile(path, "EVIDENCE_KEK_FILE");
  if (text === undefined) return undefined;
  const trimmed = text.trim();
  const key = /^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed) ? Buffer.from(trimmed, trimmed.includes("-") || trimmed.includes("_") ? "base64url" : "base64") : Buffer.alloc(0);
  if (key.length !== KEK_BYTES) throw new Error(`EVIDENCE_KEK_FILE ${path} must hold ${KEK_BYTES} bytes in base64 (e.g. \`openssl rand -base64 32\`)`);
  return key;
}

/**
 * The KEK at `path`, generated there (0600, in a 0700 folder) when the file does not exist yet.
 * Written under a temporary name and linked into place, so two processes starting together agree.
 */
export async function loadOrCreateKek(path: string): Promise<{ key: Buffer; created: boolean }> {
  const existing = await readKekFile(path);
  if (existing) return { key: existing, created: false };
  const created = await writeKeyFileOnce(path, `${randomBytes(KEK_BYTES).toString("base64")}\n`);
  return { key: (await readKekFile(path))!, created };
}
