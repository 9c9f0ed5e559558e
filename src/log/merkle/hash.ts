// RFC 9162 §2.1.1 hashing: leaves and interior nodes are SHA-256 with distinct one-byte prefixes.
import { createHash } from "node:crypto";

export const HASH_BYTES = 32;

const LEAF_PREFIX = Buffer.of(0x00);
const NODE_PREFIX = Buffer.of(0x01);

/** SHA-256(0x00 || data): the hash of one leaf. */
export function leafHash(data: Uint8Array): Buffer {
  return createHash("sha256").update(LEAF_PREFIX).update(data).digest();
}

/** SHA-256(0x01 || left || right): the hash of an interior node. */
export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  return createHash("sha256").update(NODE_PREFIX).update(left).update(right).digest();
}

/** MTH({}) = SHA-256() : the root of the empty tree. */
// Stryker disable next-line StringLiteral: createHash("") throws while the module loads, failing every test file's import, which the vitest runner reports as survived.
export const EMPTY_ROOT: Buffer = createHash("sha256").digest();
