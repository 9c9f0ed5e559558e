// The ledger as a transparency log (RFC 9162 style): signed checkpoints, inclusion and consistency proofs.
import { LedgerError } from "../domain/errors.js";
import { type CheckpointBody, formatCheckpoint, parseCheckpoint } from "./checkpoint/checkpoint.js";
import type { CheckpointMirrors } from "./checkpoint/latest-file.js";
import { type NoteSigner, formatVerifierKey, signNote } from "./checkpoint/signed-note.js";
import { EMPTY_ROOT } from "./merkle/hash.js";
import type { LeafRange } from "./merkle/node-id.js";
import { rangeNodes } from "./merkle/node-id.js";
import { consistencyPlan, inclusionPlan } from "./merkle/proof-plan.js";
import { foldRange } from "./merkle/range-hash.js";
import { verifyConsistency } from "./merkle/verify.js";
import type { StoredCheckpoint, TransparencyStore } from "./transparency-store.js";

/** A checkpoint as clients see it; hashes in standard base64, as in C2SP. */
export interface Checkpoint {
  origin: string;
  treeSize: number;
  rootHash: string;
  note: string;
}

export interface InclusionProof {
  leafIndex: number;
  treeSize: number;
  leafHash: string;
  hashes: string[];
  checkpoint: Checkpoint;
}

export interface ConsistencyProof {
  fromSize: number;
  toSize: number;
  hashes: string[];
  checkpoint: Checkpoint;
}

export interface TransparencyLogOptions {
  /** The log's name in its checkpoints (LEDGER_ORIGIN); also the key name. */
  origin: string;
  /** How often to look for growth and publish a checkpoint covering it. */
  intervalMs?: number;
  clock?: () => number;
  /** Told when a scheduled publication fails (it is retried at the next tick). */
  onError?: (e: unknown) => void;
  /** Copies of the latest checkpoint kept outside the database, one per ledger (see checkpointMirrors). */
  mirror?: CheckpointMirrors;
  /** Told what the log decided on its own and an operator may want to know (an old copy it ignored). */
  onNotice?: (message: string) => void;
  /** Told when a halted log found its guard satisfied again and resumed. */
  onResume?: () => void;
}

/** What an operator runs to accept a ledger that went back (see docs/operations.md). */
export const ACCEPT_ROLLBACK_HINT = "restore the newest backup, or accept the loss with `npm run cli -- accept-rollback --yes`";

/** The hash of each range of leaves, from the stored perfect subtrees. */
async function rangeHashes(store: Pick<TransparencyStore, "readNodes">, ranges: readonly LeafRange[]): Promise<Buffer[]> {
  const perRange = ranges.map((r) => rangeNodes(r));
  const read = await store.readNodes(perRange.flat());
  let at = 0;
  return perRange.map((nodes) => foldRange(read.slice(at, (at += nodes.length))));
}

/** MTH of the first `size` leaves: O(log size) reads. */
export async function treeRootAt(store: Pick<TransparencyStore, "readNodes">, size: number): Promise<Buffer> {
  if (size === 0) return Buffer.from(EMPTY_ROOT);
  return (await rangeHashes(store, [{ begin: 0, end: size }]))[0]!;
}

/** The hex of a ledger's first leaf hash: the ledger's identity for the copies kept outside it. */
export async function ledgerIdentity(store: Pick<TransparencyStore, "readNodes">, treeSize: number): Promise<string | null> {
  if (treeSize < 1) return null;
  const [leaf] = await store.readNodes([{ level: 0, index: 0 }]);
  return leaf!.toString("hex");
}

const b64 = (h: Buffer) => h.toString("base64");

/**
 * Publishes checkpoints and answers proofs. A timer publishes a checkpoint whenever the tree has grown,
 * so every commit is covered within `intervalMs` plus the time to sign; a proof request for leaves
 * not yet covered asks for one at once. The latest checkpoint is persisted and only ever grows, and
 * every checkpoint is a signature over the same append-only tree, so any two are consistent.
 */
export class TransparencyLog {
  private latestPublished: StoredCheckpoint | null = null;
  private publishing: Promise<StoredCheckpoint> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private halted: string | null = null;
  private retrying = false;
  private readonly clock: () => number;
  /** Checkpoints signed for earlier sizes, most recent last (signing is deterministic; this only saves work). */
  private readonly earlier = new Map<number, Checkpoint>();

  constructor(
    private readonly store: TransparencyStore,
    private readonly signer: NoteSigner,
    private readonly opts: TransparencyLogOptions,
  ) {
    this.clock = opts.clock ?? Date.now;
    if (signer.name !== opts.origin) throw new Error("the checkpoint key's name is the log's origin");
  }

  get origin(): string {
    return this.opts.origin;
  }

  /** The verifier key text: `<name>+<key id>+<base64(0x01 || public key)>`. */
  verifierKey(): string {
    return formatVerifierKey(this.signer.name, this.signer.publicKey);
  }

  /**
   * Loads the latest checkpoint, checks the tree still has its root and the root of the copy kept
   * outside the database (a log restored from an older backup, or a changed tree, must not be signed
   * again), starts publishing one for the tree as it is, and starts the timer. When the check fails
   * the log is halted: `start` rejects, `haltReason()` says why (for /readyz), and the check is
   * repeated every interval, so the log resumes once an operator has acted.
   */
  async start(): Promise<void> {
    const interval = this.opts.intervalMs ?? 500;
    try {
      await this.guard();
    } catch (e) {
      this.halted = e instanceof Error ? e.message : String(e);
      this.timer = setInterval(() => void this.retryGuard(), interval);
      this.timer.unref();
      throw e;
    }
    this.run(interval);
  }

  /** Null while the log runs; else why it publishes nothing until an operator acts. */
  haltReason(): string | null {
    return this.halted;
  }

  private run(interval: number): void {
    // The first publication runs in the background: starting waits for no signature and no fsync.
    this.publishSoon();
    this.timer = setInterval(() => {
      this.publish().catch((e: unknown) => this.opts.onError?.(e));
    }, interval);
    this.timer.unref();
  }

  private async retryGuard(): Promise<void> {
    if (this.halted === null || this.retrying) return;
    this.retrying = true;
    try {
      await this.guard();
    } catch (e) {
      this.halted = e instanceof Error ? e.message : String(e);
      return;
    } finally {
      this.retrying = false;
    }
    if (this.halted === null || this.timer === null) return;
    clearInterval(this.timer);
    this.halted = null;
    this.opts.onResume?.();
    this.run(this.opts.intervalMs ?? 500);
  }

  /** Refuses a tree that is smaller than, or differs from, a checkpoint this ledger has given out. */
  private async guard(): Promise<void> {
    const latest = await this.store.latestCheckpoint();
    const size = await this.store.treeSize();
    const ledgerId = await ledgerIdentity(this.store, size);
    const mirrored = ledgerId === null ? null : await this.noteBody(await this.opts.mirror?.forLedger(ledgerId).read());
    const published: { treeSize: number; root: Buffer }[] = [...(latest ? [latest] : []), ...(mirrored ? [mirrored] : [])];
    for (const c of published) {
      if (size < c.treeSize)
        throw new Error(`the ledger holds ${size} logged events but checkpoint ${c.treeSize} was published: was an older backup restored? ${ACCEPT_ROLLBACK_HINT}`);
      const root = await this.rootAt(c.treeSize);
      if (!root.equals(c.root)) throw new Error(`the tree's root at size ${c.treeSize} is not the one its published checkpoint signed; ${ACCEPT_ROLLBACK_HINT}`);
    }
    if (!mirrored && ledgerId !== null) await this.checkLegacy(size);
    this.latestPublished = latest;
  }

  /**
   * The single copy older versions kept for the whole data folder cannot say which ledger it was
   * for: it counts when this ledger's tree holds it, and is otherwise set aside with a notice (it
   * belongs to another database, or this one went back; the per-ledger copy guards from now on).
   */
  private async checkLegacy(size: number): Promise<void> {
    const c = await this.noteBody(await this.opts.mirror?.legacy?.read());
    if (!c || c.treeSize === 0) return;
    if (size >= c.treeSize && (await this.rootAt(c.treeSize)).equals(c.root)) return;
    this.opts.onNotice?.(
      `ignoring the data folder's single checkpoint copy (tree size ${c.treeSize}), written before copies were kept per ledger: ` +
        `this ledger's tree does not hold it, so it is another database's, or this one was restored from an older backup`,
    );
  }

  /** The checkpoint in a mirror's note, when it names this log. */
  private async noteBody(note: string | null | undefined): Promise<CheckpointBody | null> {
    if (!note) return null;
    const body = parseCheckpoint(note.slice(0, note.indexOf("\n\n") + 1));
    return body.origin === this.origin ? body : null;
  }

  /** Keeps the note outside the database too, in this ledger's own copy. */
  private async mirrorNote(c: { treeSize: number; note: string }): Promise<void> {
    if (!this.opts.mirror) return;
    const ledgerId = await ledgerIdentity(this.store, c.treeSize);
    if (ledgerId !== null) await this.opts.mirror.forLedger(ledgerId).write(c.note);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /**
   * The latest checkpoint any process on this database has published (a replica's or a worker's
   * included), so that one client asking different processes never sees the log shrink.
   */
  async latestAnywhere(): Promise<Checkpoint> {
    await this.catchUp();
    return this.latest();
  }

  /** The latest published checkpoint this process knows of. */
  latest(): Checkpoint {
    const c = this.latestPublished;
    if (!c) throw new LedgerError("NOT_YET_LOGGED", "no checkpoint has been published yet; retry in a moment");
    return this.present(c);
  }

  /** Publishes a checkpoint for the tree as it is now, unless the latest already covers it; concurrent calls share one. */
  publish(): Promise<StoredCheckpoint> {
    this.publishing ??= this.publishOnce().finally(() => {
      this.publishing = null;
    });
    return this.publishing;
  }

  private async publishOnce(): Promise<StoredCheckpoint> {
    // Another process on the same database (a replica) may have published since: take its checkpoint first.
    await this.adopt(await this.store.latestCheckpoint());
    const size = await this.store.treeSize();
    const latest = this.latestPublished;
    if (latest && size <= latest.treeSize) return latest;
    const root = await this.rootAt(size);
    await this.checkExtends(latest, size, root);
    const next: StoredCheckpoint = { treeSize: size, root, note: this.sign({ origin: this.origin, treeSize: size, root }), publishedAt: this.clock() };
    const stored = await this.store.saveCheckpoint(next);
    if (stored !== next) {
      // A replica stored one at least as large first: it is the latest, once it is shown to extend ours.
      await this.adopt(stored);
      return this.latestPublished ?? stored;
    }
    await this.mirrorNote(next);
    this.latestPublished = next;
    return next;
  }

  /** Never signs or serves a tree that does not extend the one signed before, whatever happened to the stored nodes. */
  private async checkExtends(latest: StoredCheckpoint | null, size: number, root: Buffer): Promise<void> {
    if (!latest || latest.treeSize === 0) return;
    try {
      verifyConsistency(latest.treeSize, size, await this.hashes(consistencyPlan(latest.treeSize, size)), latest.root, root);
    } catch (e) {
      throw new Error(`refusing to sign tree size ${size}: it is not consistent with the published checkpoint of size ${latest.treeSize} (${(e as Error).message})`);
    }
  }

  /**
   * Takes a stored checkpoint larger than this log's latest as the latest, after checking that it is
   * the root of this tree at its size, that it extends the latest, and that it is the note this log's
   * key signs for it (signing is deterministic), so a replica with another key or origin is refused.
   */
  private async adopt(stored: StoredCheckpoint | null): Promise<void> {
    const latest = this.latestPublished;
    if (!stored || (latest && stored.treeSize <= latest.treeSize)) return;
    const root = await this.rootAt(stored.treeSize);
    if (!root.equals(stored.root)) throw new Error(`the stored checkpoint of size ${stored.treeSize} does not have the tree's root at that size`);
    await this.checkExtends(latest, stored.treeSize, root);
    if (this.sign({ origin: this.origin, treeSize: stored.treeSize, root }) !== stored.note)
      throw new Error(
        `the stored checkpoint of size ${stored.treeSize} was not signed by this log's checkpoint key as ${this.origin}: every process on one database needs the same CHECKPOINT_KEY_FILE and LEDGER_ORIGIN`,
      );
    await this.mirrorNote(stored);
    if (this.latestPublished === latest) this.latestPublished = stored;
  }

  private sign(body: CheckpointBody): string {
    return signNote(formatCheckpoint(body), this.signer);
  }

  private present(c: { treeSize: number; root: Buffer; note: string }): Checkpoint {
    return { origin: this.origin, treeSize: c.treeSize, rootHash: b64(c.root), note: c.note };
  }

  private rootAt(size: number): Promise<Buffer> {
    return treeRootAt(this.store, size);
  }

  private hashes(ranges: readonly LeafRange[]): Promise<Buffer[]> {
    return rangeHashes(this.store, ranges);
  }

  /** The checkpoint of exactly `size` leaves (size <= the latest); earlier sizes are signed on request, deterministically. */
  private async checkpointAt(size: number): Promise<Checkpoint> {
    const latest = this.latestPublished!;
    if (size === latest.treeSize) return this.present(latest);
    let c = this.earlier.get(size);
    if (!c) {
      const root = await this.rootAt(size);
      c = this.present({ treeSize: size, root, note: this.sign({ origin: this.origin, treeSize: size, root }) });
      this.earlier.set(size, c);
      if (this.earlier.size > 256) this.earlier.delete(this.earlier.keys().next().value!);
    }
    return c;
  }

  /**
   * The tree size a proof is asked at: the latest checkpoint's when left out. A size above the
   * latest checkpoint but within the log is NOT_YET_LOGGED (a checkpoint is asked for at once);
   * beyond the log, below 1 or not an integer, BAD_USER_INPUT.
   */
  private async sizeAsked(name: string, given: number | null | undefined): Promise<number> {
    // The latest checkpoint, or a size past this process's latest, may be one another process (a replica,
    // a worker) stored: a client that saw it there must not be answered against an older one here.
    if (!this.latestPublished || given == null || given > this.latestPublished.treeSize) await this.catchUp();
    const latest = this.latestPublished;
    if (given === null || given === undefined) {
      if (!latest) throw new LedgerError("NOT_YET_LOGGED", "no checkpoint has been published yet; retry in a moment");
      return latest.treeSize;
    }
    if (!Number.isSafeInteger(given) || given < 1) throw new LedgerError("BAD_USER_INPUT", `${name} must be a whole number of at least 1`);
    if (latest && given <= latest.treeSize) return given;
    const logged = await this.store.treeSize();
    if (given > logged) throw new LedgerError("BAD_USER_INPUT", `${name} ${given} is beyond the ledger, which holds ${logged} logged events`);
    this.publishSoon();
    throw new LedgerError("NOT_YET_LOGGED", `no checkpoint covers ${name} ${given} yet; retry in a moment`, { latestTreeSize: latest?.treeSize ?? 0 });
  }

  /** Takes the latest checkpoint stored by any process as this one's latest, once it is shown to extend it. */
  private async catchUp(): Promise<void> {
    await this.adopt(await this.store.latestCheckpoint());
  }

  private publishSoon(): void {
    this.publish().catch((e: unknown) => this.opts.onError?.(e));
  }

  /** The leaf of an event, by id; null for an unknown id. */
  findLeaf(eventId: string) {
    return this.store.findLeaf(eventId);
  }

  /** The inclusion proof of the leaf at `leafIndex` in the tree of `treeSize` leaves (default: the latest checkpoint's). */
  async inclusionProof(leafIndex: number, treeSize?: number | null): Promise<InclusionProof> {
    const size = await this.sizeAsked("treeSize", treeSize);
    if (leafIndex >= size) {
      if (treeSize != null) throw new LedgerError("BAD_USER_INPUT", `the event is not in the first ${size} events of the ledger`);
      this.publishSoon();
      throw new LedgerError("NOT_YET_LOGGED", "the event is not covered by a checkpoint yet; retry in a moment", { latestTreeSize: size });
    }
    const [leaf, ...path] = await this.hashes([{ begin: leafIndex, end: leafIndex + 1 }, ...inclusionPlan(leafIndex, size)]);
    return { leafIndex, treeSize: size, leafHash: b64(leaf!), hashes: path.map(b64), checkpoint: await this.checkpointAt(size) };
  }

  /** The proof that the tree of `fromSize` leaves is a prefix of the tree of `toSize` leaves (default: the latest checkpoint's). */
  async consistencyProof(fromSize: number, toSize?: number | null): Promise<ConsistencyProof> {
    if (!Number.isSafeInteger(fromSize) || fromSize < 1) throw new LedgerError("BAD_USER_INPUT", "fromSize must be a whole number of at least 1");
    const to = await this.sizeAsked("toSize", toSize);
    if (fromSize > to) throw new LedgerError("BAD_USER_INPUT", `fromSize ${fromSize} is larger than toSize ${to}`);
    const hashes = await this.hashes(consistencyPlan(fromSize, to));
    return { fromSize, toSize: to, hashes: hashes.map(b64), checkpoint: await this.checkpointAt(to) };
  }
}
