// The Ed25519 key that signs checkpoints: its own key, never the receipt key, named by the log's origin.
import { createPrivateKey, createPublicKey, sign, verify } from "node:crypto";
import { join } from "node:path";
import { loadSigningJwk } from "../keys/jwk-file.js";
import type { NoteSigner } from "../log/checkpoint/signed-note.js";
import { checkKeyName } from "../log/checkpoint/signed-note.js";

export interface CheckpointKeyOptions {
  /** CHECKPOINT_KEY_FILE: an Ed25519 private JWK; null to use a generated key. */
  keyFile: string | null;
  dataDir: string;
  /** The key name in signatures and in the verifier key: the log's origin. */
  name: string;
}

/** Where the generated checkpoint key lives under the data folder. */
export const checkpointKeyPath = (dataDir: string): string => join(dataDir, "keys", "checkpoint.jwk.json");

/**
 * The signer for CHECKPOINT_KEY_FILE when given; otherwise an Ed25519 key generated once under
 * `<dataDir>/keys/checkpoint.jwk.json` (0600), as for the receipt key. C2SP signed notes name
 * Ed25519 (type 0x01), so no other kind of key is accepted.
 */
export async function loadCheckpointKey(opts: CheckpointKeyOptions): Promise<NoteSigner> {
  checkKeyName(opts.name);
  const { jwk, source } = await loadSigningJwk({ keyFile: opts.keyFile, setting: "CHECKPOINT_KEY_FILE", generatedPath: checkpointKeyPath(opts.dataDir), label: "checkpoint key file" });
  if (jwk.kty !== "OKP" || jwk.crv !== "Ed25519" || typeof jwk.d !== "string" || typeof jwk.x !== "string")
    throw new Error(`${source} must hold an OKP Ed25519 private JWK (with "d")`);
  let privateKey;
  try {
    privateKey = createPrivateKey({ key: { kty: "OKP", crv: "Ed25519", x: jwk.x, d: jwk.d }, format: "jwk" });
  } catch (e) {
    throw new Error(`${source} holds a key that cannot be imported: ${(e as Error).message}`);
  }
  const publicKey = Buffer.from(jwk.x, "base64url");
  // A private part that does not match its public part would sign checkpoints nobody can verify.
  const probe = Buffer.from("probe");
  const publicKeyObject = createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: jwk.x }, format: "jwk" });
  if (publicKey.length !== 32 || !verify(null, probe, publicKeyObject, sign(null, probe, privateKey)))
    throw new Error(`${source}: the private key does not match its public key`);
  return { name: opts.name, publicKey, sign: (message) => sign(null, message, privateKey) };
}
