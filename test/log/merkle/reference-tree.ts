// A plain recursive RFC 9162 §2.1 tree over leaf data (MTH, PATH and PROOF as the RFC writes them): the oracle of the proof tests.
import { createHash } from "node:crypto";

/** RFC 9162 §2.1.1-§2.1.4, recursively, over leaf data; MTH memoised per range so that every pair stays cheap. */
export class ReferenceTree {
  private readonly memo = new Map<string, Buffer>();
  constructor(private readonly data: readonly Buffer[]) {}

  private k(n: number): number {
    let k = 1;
    while (k * 2 < n) k *= 2;
    return k;
  }

  mth(begin: number, end: number): Buffer {
    const key = `${begin}:${end}`;
    let h = this.memo.get(key);
    if (h) return h;
    const n = end - begin;
    if (n === 0) h = createHash("sha256").digest();
    else if (n === 1) h = createHash("sha256").update(Buffer.of(0)).update(this.data[begin]!).digest();
    else {
      const k = this.k(n);
      h = createHash("sha256").update(Buffer.of(1)).update(this.mth(begin, begin + k)).update(this.mth(begin + k, end)).digest();
    }
    this.memo.set(key, h);
    return h;
  }

  path(m: number, begin: number, end: number): Buffer[] {
    const n = end - begin;
    if (n === 1) return [];
    const k = this.k(n);
    return m < k ? [...this.path(m, begin, begin + k), this.mth(begin + k, end)] : [...this.path(m - k, begin + k, end), this.mth(begin, begin + k)];
  }

  proof(m: number, n: number): Buffer[] {
    return this.subproof(m, 0, n, true);
  }

  private subproof(m: number, begin: number, end: number, b: boolean): Buffer[] {
    const n = end - begin;
    if (m === n) return b ? [] : [this.mth(begin, end)];
    const k = this.k(n);
    return m <= k
      ? [...this.subproof(m, begin, begin + k, b), this.mth(begin + k, end)]
      : [...this.subproof(m - k, begin + k, end, false), this.mth(begin, begin + k)];
  }
}

/** `n` distinct leaf data, fixed by `seed`. */
export const leafData = (seed: number, n: number): Buffer[] => Array.from({ length: n }, (_, i) => createHash("sha256").update(`${seed}/${i}`).digest());
