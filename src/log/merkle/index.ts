// RFC 9162 Merkle trees: hashing, proof plans and verification, with no storage behind them.
export { EMPTY_ROOT, HASH_BYTES, leafHash, nodeHash } from "./hash.js";
export { type LeafRange, type NodeId, postOrderIndex, rangeNodes } from "./node-id.js";
export { consistencyPlan, inclusionPlan } from "./proof-plan.js";
export { foldRange, planHashes } from "./range-hash.js";
export { type CompletedNode, TreeBuilder } from "./tree-builder.js";
export { ProofError, rootFromInclusionProof, verifyConsistency, verifyInclusion } from "./verify.js";
