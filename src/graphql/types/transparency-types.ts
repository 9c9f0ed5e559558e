// The transparency log as clients see it: checkpoints and proofs, hashes in standard base64.
import { Field, Int, ObjectType } from "type-graphql";

@ObjectType("Checkpoint", { description: "A C2SP tlog-checkpoint: the log's origin, size and root, signed as a C2SP signed note." })
export class CheckpointType {
  @Field(() => String) origin!: string;
  @Field(() => Int) treeSize!: number;
  @Field(() => String, { description: "RFC 9162 root hash of the first treeSize events, base64." }) rootHash!: string;
  @Field(() => String, { description: "The signed note; verify it with /.well-known/ledger-checkpoint-key." }) note!: string;
}

@ObjectType("InclusionProof", { description: "RFC 9162 inclusion proof of one event (leaf leafIndex = position - 1)." })
export class InclusionProofType {
  @Field(() => Int) leafIndex!: number;
  @Field(() => Int) treeSize!: number;
  @Field(() => String, { description: "SHA-256(0x00 || the event's 32-byte hash), base64." }) leafHash!: string;
  @Field(() => [String], { description: "The audit path, leaf first, base64." }) hashes!: string[];
  @Field(() => CheckpointType, { description: "The signed checkpoint of treeSize." }) checkpoint!: CheckpointType;
}

@ObjectType("ConsistencyProof", { description: "RFC 9162 proof that the tree of fromSize events is a prefix of the tree of toSize events." })
export class ConsistencyProofType {
  @Field(() => Int) fromSize!: number;
  @Field(() => Int) toSize!: number;
  @Field(() => [String], { description: "base64." }) hashes!: string[];
  @Field(() => CheckpointType, { description: "The signed checkpoint of toSize." }) checkpoint!: CheckpointType;
}
