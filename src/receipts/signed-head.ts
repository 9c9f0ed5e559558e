// A signed statement of the chain's head: whoever holds it can later prove nothing before it changed.
import type { ChainHead } from "../storage/event-store.js";
import { GENESIS_HASH } from "../log/canonical.js";
import { encodePosition } from "../log/position.js";
import { toIso } from "../domain/time.js";
import type { ReceiptSigner } from "./signer.js";

export const SIGNED_HEAD_TYP = "ledger-head+jwt";

export interface SignedHead {
  position: string;
  hash: string;
  signedAt: number;
  jws: string;
}

export async function signHead(signer: ReceiptSigner, head: ChainHead | null, now: number): Promise<SignedHead> {
  const position = encodePosition(head?.position ?? 0);
  const hash = head?.hash ?? GENESIS_HASH;
  const jws = await signer.sign({ iss: "consent-ledger", position, hash, signedAt: toIso(now), iat: Math.floor(now / 1000) }, SIGNED_HEAD_TYP);
  return { position, hash, signedAt: now, jws };
}
