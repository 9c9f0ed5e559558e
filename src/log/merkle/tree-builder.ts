// An append-only tree in memory as its compact range: the roots of its perfect subtrees, O(log n) hashes.
import { EMPTY_ROOT, nodeHash } from "./hash.js";
import type { NodeId } from "./node-id.js";
import { foldRange } from "./range-hash.js";

/** A perfect subtree completed by an append, with its hash. */
export interface CompletedNode extends NodeId {
  hash: Buffer;
}

export class TreeBuilder {
  /** The perfect subtrees covering [0, size), largest first. */
  private readonly border: { level: number; hash: Buffer }[] = [];
  private leaves = 0;

  /** Continues a tree of `size` leaves from its compact range (the perfect subtrees of [0, size), largest first). */
  static resume(size: number, border: readonly Buffer[]): TreeBuilder {
    const b = new TreeBuilder();
    let rest = size;
    const levels: number[] = [];
    for (let level = 0; rest > 0; level++, rest = Math.floor(rest / 2)) if (rest % 2 === 1) levels.unshift(level);
    if (levels.length !== border.length) throw new RangeError(`a tree of ${size} leaves has ${levels.length} border subtrees, not ${border.length}`);
    levels.forEach((level, i) => b.border.push({ level, hash: Buffer.from(border[i]!) }));
    b.leaves = size;
    return b;
  }

  get size(): number {
    return this.leaves;
  }

  /** Appends a leaf (its leaf hash); returns the nodes at level >= 1 that it completes, lowest first. */
  append(leaf: Buffer): CompletedNode[] {
    const index = this.leaves++;
    const done: CompletedNode[] = [];
    let hash: Buffer = leaf;
    let level = 0;
    let at = index;
    while (at % 2 === 1) {
      const left = this.border.pop()!;
      hash = nodeHash(left.hash, hash);
      level++;
      at = (at - 1) / 2;
      done.push({ level, index: at, hash });
    }
    this.border.push({ level, hash });
    return done;
  }

  /** The compact range: the hashes of the perfect subtrees covering [0, size), largest first (what `resume` takes). */
  compactRange(): Buffer[] {
    return this.border.map((b) => b.hash);
  }

  /** MTH of the leaves appended so far. */
  root(): Buffer {
    return this.border.length === 0 ? Buffer.from(EMPTY_ROOT) : foldRange(this.border.map((b) => b.hash));
  }
}
