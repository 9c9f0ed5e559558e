// What both backends' transparency benches share: a throwaway checkpoint signer, the raw SHA-256
// baseline over the leaves, the proof latencies against a point read, the checkpoint-lag
// measurement under 32 writers, and the rows (figures, baselines, aims) both report alike.
import { createHash, generateKeyPairSync, sign } from "node:crypto";
import type { NoteSigner } from "../src/log/checkpoint/signed-note.js";
import type { TransparencyLog } from "../src/log/transparency-log.js";
import { CONCURRENCY } from "./store-append.js";
import { type BenchRow, fmt, median, percentile, since } from "./util.js";

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

/** The proof-latency row: `what` and `how` say where it was measured. */
export function proofRow(what: string, l: ProofLatencies, how: string): BenchRow {
  return {
    bench: "transparency",
    what,
    figure: `inclusion ${fmt(l.inclusionP99, 3)} ms (p50 ${fmt(l.inclusionP50, 3)} ms), consistency ${fmt(l.consistencyP99, 3)} ms`,
    baseline: `one indexed event read: ${fmt(l.readP99, 3)} ms`,
    ratio: l.readP99 / Math.max(l.inclusionP99, l.consistencyP99),
    aim: "p99 < 2 ms",
    met: l.inclusionP99 < 2 && l.consistencyP99 < 2,
    how,
    values: { ...l },
  };
}

/** The tree-storage row: bytes per event of the tree, against the events table's. */
export function storageRow(what: string, bytes: { treeBytes: number; eventBytes: number }, how: string): BenchRow {
  const { treeBytes, eventBytes } = bytes;
  return {
    bench: "transparency",
    what,
    figure: `${fmt(treeBytes, 1)} B`,
    baseline: `the events table and its indexes: ${fmt(eventBytes, 1)} B (rows of the bench's minimal events)`,
    ratio: eventBytes / treeBytes,
    aim: "<= 100 B",
    met: treeBytes <= 100,
    how,
    values: { treeBytes, eventBytes },
  };
}

/** The checkpoint-lag row, against the writes' own commit latency. */
export function lagRow(what: string, lag: CheckpointLag, how: string): BenchRow {
  return {
    bench: "transparency",
    what,
    figure: `p50 ${fmt(lag.lagP50)} ms, p99 ${fmt(lag.lagP99)} ms`,
    baseline: `the writes' own commit p99: ${fmt(lag.commitP99, 1)} ms`,
    ratio: null,
    aim: "p99 < 1,000 ms",
    met: lag.lagP99 < 1_000,
    how,
    values: lag,
  };
}
