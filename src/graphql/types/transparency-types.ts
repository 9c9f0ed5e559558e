// The transparency log as clients see it: checkpoints and proofs, hashes in standard base64.
import { int, listOf, object, objectType, text } from "./fields.js";

export const CheckpointType = objectType("Checkpoint", "A C2SP tlog-checkpoint: the log's origin, size and root, signed as a C2SP signed note.", {
  origin: text(),
  treeSize: int(),
  rootHash: text("RFC 9162 root hash of the first treeSize events, base64."),
  note: text("The signed note; verify it with /.well-known/ledger-checkpoint-key."),
});
export type CheckpointType = InstanceType<typeof CheckpointType>;

export const InclusionProofType = objectType("InclusionProof", "RFC 9162 inclusion proof of one event (leaf leafIndex = position - 1).", {
  leafIndex: int(),
  treeSize: int(),
  leafHash: text("SHA-256(0x00 || the event's 32-byte hash), base64."),
  hashes: listOf(text(), "The audit path, leaf first, base64."),
  checkpoint: object(CheckpointType, "The signed checkpoint of treeSize."),
});
export type InclusionProofType = InstanceType<typeof InclusionProofType>;

export const ConsistencyProofType = objectType("ConsistencyProof", "RFC 9162 proof that the tree of fromSize events is a prefix of the tree of toSize events.", {
  fromSize: int(),
  toSize: int(),
  hashes: listOf(text(), "base64."),
  checkpoint: object(CheckpointType, "The signed checkpoint of toSize."),
});
export type ConsistencyProofType = InstanceType<typeof ConsistencyProofType>;
