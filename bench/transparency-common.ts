// What both backends' transparency benches share: a throwaway checkpoint signer, the raw SHA-256
// baseline over the leaves, the proof latencies against a point read, and the checkpoint-lag
// measurement under 32 writers.
import { createHash, generateKeyPairSync, sign } from "node:crypto";
import type { NoteSigner } from "../src/log/checkpoint/signed-note.js";
import type { TransparencyLog } from "../src/log/transparency-log.js";
import { CONCURRENCY } from "./store-append.js";
import { median, percentile, since } from "./util.js";

/** An Ed25519 note signer with a key made for the run. */
export function benchSigner(name: string): NoteSigner {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  return { name, publicKey: Buffer.from(publicKey.export({ format: "jwk" }).x!, "base64url"), sign: (m) => sign(null, m, privateKey) };
}

/** The baseline: RFC 9162 leaf hashes (SHA-256 of 0x00 ‖ data) over the same leaves, nothing stored; leaves/s. */
export function rawLeafHashing(hashes: readonly Buffer[]): number {
  const start = performance.now();
  let last: Buffer | null = null;
  for (const h of hashes) last = createHash("sha256").update(Buffer.of(0)).update(h).digest();
  if (last?.length !== 32) throw new Error("no hash");
  return (hashes.length / since(start)) * 1000;
}

export type ProofLatencies = { inclusionP99: number; consistencyP99: number; inclusionP50: number; readP99: number };

/**
 * Per run, `samples` inclusion proofs and consistency proofs for random leaves and sizes of a tree of
 * `size` leaves, interleaved with as many `readEvent` calls (one indexed event read, the baseline) at
 * random positions; each figure's per-run percentile, median over `runs` runs (ms).
 */
export async function proofLatencies(log: TransparencyLog, readEvent: (position: number) => unknown, size: number, samples: number, runs: number): Promise<ProofLatencies> {
  const rand = (n: number) => 1 + Math.floor(Math.random() * n);
  const time = async (f: () => unknown) => {
    const s = performance.now();
    await f();
    return since(s);
  };
  const perRun: ProofLatencies[] = [];
  for (let r = 0; r < runs; r++) {
    const inclusion: number[] = [];
    const consistency: number[] = [];
    const reads: number[] = [];
    for (let i = 0; i < samples; i++) {
      inclusion.push(await time(() => log.inclusionProof(rand(size) - 1)));
      consistency.push(await time(() => log.consistencyProof(rand(size - 1), size)));
      reads.push(await time(() => readEvent(rand(size))));
    }
    perRun.push({ inclusionP99: percentile(inclusion, 99), consistencyP99: percentile(consistency, 99), inclusionP50: percentile(inclusion, 50), readP99: percentile(reads, 99) });
  }
  const m = (f: (l: ProofLatencies) => number) => median(perRun.map(f));
  return { inclusionP99: m((l) => l.inclusionP99), consistencyP99: m((l) => l.consistencyP99), inclusionP50: m((l) => l.inclusionP50), readP99: m((l) => l.readP99) };
}

export type CheckpointLag = { lagP99: number; lagP50: number; commitP99: number; events: number };

/**
 * 32 writers call `append(writer, i)` (which resolves to the committed event's position) for `seconds`,
 * while `log`'s published checkpoint is polled every 5 ms as a client would; each event's lag is from its
 * commit to the first checkpoint seen covering it.
 */
export async function measureCheckpointLag(log: TransparencyLog, append: (writer: number, i: number) => Promise<number>, seconds: number): Promise<CheckpointLag> {
  const committedAt = new Map<number, number>();
  const commitLatency: number[] = [];
  const seen: { at: number; size: number }[] = [];
  const watch = setInterval(() => {
    let size: number;
    try {
      size = log.latest().treeSize;
    } catch {
      return; // no checkpoint yet
    }
    if (seen.length === 0 || seen.at(-1)!.size !== size) seen.push({ at: performance.now(), size });
  }, 5);
  try {
    const until = performance.now() + seconds * 1000;
    const counts = new Array<number>(CONCURRENCY).fill(0);
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async (_, w) => {
        while (performance.now() < until) {
          const s = performance.now();
          const position = await append(w, counts[w]!++);
          const now = performance.now();
          commitLatency.push(now - s);
          committedAt.set(position, now);
        }
      }),
    );
    // Let the last commits be covered.
    const last = Math.max(...committedAt.keys());
    while (seen.length === 0 || seen.at(-1)!.size < last) await new Promise((r) => setTimeout(r, 10));
  } finally {
    clearInterval(watch);
  }
  const lags: number[] = [];
  let j = 0;
  for (const [position, at] of [...committedAt.entries()].sort((a, b) => a[0] - b[0])) {
    while (seen[j]!.size < position) j++;
    lags.push(Math.max(0, seen[j]!.at - at));
  }
  return { lagP99: percentile(lags, 99), lagP50: percentile(lags, 50), commitP99: percentile(commitLatency, 99), events: committedAt.size };
}
