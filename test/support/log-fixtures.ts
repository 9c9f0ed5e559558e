// What the transparency-log tests share: a checkpoint signer with a key made for the run, and the
// smallest event a store appends (one subject's PolicyAccepted).
import { generateKeyPairSync, sign } from "node:crypto";
import type { NoteSigner } from "../../src/log/checkpoint/signed-note.js";
import type { NewEvent } from "../../src/storage/event-store.js";

/** An Ed25519 note signer named `name`, with a fresh key. */
export function testSigner(name: string): NoteSigner {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  return { name, publicKey: Buffer.from(publicKey.export({ format: "jwk" }).x!, "base64url"), sign: (m) => sign(null, m, privateKey) };
}

/** `subjectId` accepting version 1 of policy "p". */
export const accepted = (subjectId: string): NewEvent => ({
  type: "PolicyAccepted",
  occurredAt: 1_000,
  data: { policyId: "p", version: 1 },
  actor: { kind: "SUBJECT", id: subjectId },
  subjectId,
});
