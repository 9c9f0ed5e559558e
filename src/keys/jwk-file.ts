// A private JWK kept in a 0600 file: created once, atomically, and read back on every later start.
import { type JWK, exportJWK, generateKeyPair } from "jose";
import { readKeyFile, writeKeyFileOnce } from "./key-file.js";

/**
 * The JWK stored at `path`, or the one `generate` makes, written there first (see writeKeyFileOnce:
 * two processes starting together end up using the same one).
 */
export async function loadOrCreateJwkFile(path: string, generate: () => Promise<JWK>): Promise<JWK> {
  const existing = await readJwkFile(path);
  if (existing) return existing;
  const jwk = await generate();
  if (await writeKeyFileOnce(path, `${JSON.stringify(jwk, null, 2)}\n`)) return jwk;
  const winner = await readJwkFile(path);
  if (!winner) throw new Error(`key file ${path} vanished while it was being created`);
  return winner;
}

/** The JWK in a file; undefined when the file does not exist; an Error naming the file when it is not a JWK. */
export async function readJwkFile(path: string): Promise<JWK | undefined> {
  const text = await readKeyFile(path, "key file");
  if (text === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error(`key file ${path} is not JSON`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed) || typeof (parsed as JWK).kty !== "string") {
    throw new Error(`key file ${path} does not hold a JWK`);
  }
  return parsed as JWK;
}

/**
 * The private JWK a signing key is configured with: read from `keyFile` (named by `setting` in
 * errors) when given, else an Ed25519 key generated once at `generatedPath`. `source` names where it
 * came from, for the caller's own checks.
 */
export async function loadSigningJwk(opts: { keyFile: string | null; setting: string; generatedPath: string; label: string }): Promise<{ jwk: JWK; source: string }> {
  if (opts.keyFile) {
    const source = `${opts.setting} ${opts.keyFile}`;
    let read: JWK | undefined;
    try {
      read = await readJwkFile(opts.keyFile);
    } catch (e) {
      throw new Error(`${source}: ${(e as Error).message}`);
    }
    if (!read) throw new Error(`${source} does not exist`);
    return { jwk: read, source };
  }
  const jwk = await loadOrCreateJwkFile(opts.generatedPath, async () => exportJWK((await generateKeyPair("EdDSA", { crv: "Ed25519", extractable: true })).privateKey));
  return { jwk, source: `${opts.label} ${opts.generatedPath}` };
}
