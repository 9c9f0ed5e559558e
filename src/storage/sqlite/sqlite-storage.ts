// The SQLite adapter of the storage port: one file (or :memory:), WAL, synchronous=FULL, group commit.
import { existsSync } from "node:fs";
import { type AsOf, Catalog, toPolicyVersion } from "../../domain/catalog.js";
import type { LedgerEvent } from "../../domain/events.js";
import type { DataRequestState, DataRequestStatus, SubjectState } from "../../domain/subject.js";
import type { Instant } from "../../domain/time.js";
import type { ChainHead, IntegrityReport, ReadFilter } from "../event-store.js";
import type { LeafRef, StoredCheckpoint, TransparencyPort, TreeAudit } from "../../log/transparency-store.js";
import type { NodeId } from "../../log/merkle/node-id.js";
import type { BackupReport, CommandOutcome, CommandRequest, DataRequestPage, ReadModelReport, StoragePort, SubjectSnapshot } from "../storage-port.js";
import { type RebuildCache, checkReadModels } from "./read-model-check.js";
import { backupDatabase } from "./backup.js";
import { KeyVault } from "./key-vault.js";
import { SqliteMerkleTree } from "./merkle-tree.js";
import { SqliteProjections } from "./projections.js";
import { rebuildProjections } from "./rebuild.js";
import { type CommandContext, runCommand } from "./run-command.js";
import { SqliteEventStore } from "./sqlite-event-store.js";
import { verifyStoredChainAsync } from "./verify-chain.js";

export interface SqliteStorageOptions {
  /** A file path, or ":memory:". */
  path: string;
  /** Open read-only (offline tools: export, verify): no migrations, no writes. */
  readonly?: boolean;
  /** The key-encryption key subject keys are wrapped under; null or absent keeps them as stored (plain only). */
  evidenceKek?: Uint8Array | null;
}

/** Rows per read when a read may cover the whole log: small enough to keep the event loop responsive. */
const SCAN_CHUNK = 512;

const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Leaves added per transaction while the tree catches up with the log: a few milliseconds of work. */
const TREE_CHUNK = 2_000;

/** The transparency part of the port over the tree kept in the same file, in each append's transaction. */
class SqliteTransparency implements TransparencyPort {
  constructor(
    private readonly store: SqliteEventStore,
    readonly tree: SqliteMerkleTree,
  ) {}

  treeSize(): Promise<number> {
    return this.tree.treeSize();
  }

  readNodes(ids: readonly NodeId[]): Promise<Buffer[]> {
    return this.tree.readNodes(ids);
  }

  findLeaf(eventId: string): Promise<LeafRef | null> {
    return this.tree.findLeaf(eventId);
  }

  latestCheckpoint(): Promise<StoredCheckpoint | null> {
    return this.tree.latestCheckpoint();
  }

  saveCheckpoint(c: StoredCheckpoint): Promise<StoredCheckpoint> {
    return this.tree.saveCheckpoint(c);
  }

  async backlog(): Promise<number> {
    return this.store.eventCount() - this.tree.size();
  }

  /** A chunk per group commit, so appends and reads go on meanwhile. */
  async catchUp(chunk = TREE_CHUNK): Promise<void> {
    while ((await this.store.transact(() => this.tree.catchUp(chunk))) > 0) await yieldToLoop();
  }

  async audit(): Promise<TreeAudit> {
    return this.tree.audit();
  }

  /** Empties the tree and builds it again from the log, in one exclusive transaction. */
  rebuildSync(): void {
    this.store.exclusive(() => {
      this.tree.reset();
      while (this.tree.catchUp(TREE_CHUNK) > 0);
    });
  }
}

/**
 * A read-only file older than the tree's migration (offline tools): no tree and no checkpoint, so
 * nothing to prove and nothing to compare; the log is still walked for the event count.
 */
class NoTree implements TransparencyPort {
  constructor(private readonly store: SqliteEventStore) {}
  async treeSize(): Promise<number> {
    return 0;
  }
  async readNodes(ids: readonly NodeId[]): Promise<Buffer[]> {
    if (ids.length > 0) throw new Error("this database predates the transparency log's tree");
    return [];
  }
  async findLeaf(): Promise<LeafRef | null> {
    return null;
  }
  async latestCheckpoint(): Promise<StoredCheckpoint | null> {
    return null;
  }
  async saveCheckpoint(): Promise<StoredCheckpoint> {
    throw new Error("this database is open read-only");
  }
  async backlog(): Promise<number> {
    return this.store.eventCount();
  }
  async catchUp(): Promise<void> {
    throw new Error("this database is open read-only");
  }
  async audit(): Promise<TreeAudit> {
    return { ok: true, leaves: 0, eventCount: this.store.eventCount(), checkpoint: null, problem: null };
  }
}

export class SqliteStorage implements StoragePort {
  private readonly store: SqliteEventStore;
  private readonly projections: SqliteProjections;
  private readonly vault: KeyVault;
  /** The transparency log's tree; none only in a read-only file older than the tree's migration. */
  readonly transparency: SqliteTransparency | NoTree;
  private catalog: Catalog;
  /** The instant of the command being run, which the chain records as its transaction time (never going back). */
  private commandNow: Instant | null = null;
  private readonly context: CommandContext;
  /** The rebuilt side of the read-model check, by log head. */
  private readonly rebuildCache: { current: RebuildCache | null } = { current: null };
  private readModelCheck: Promise<ReadModelReport> | null = null;

  private constructor(
    private readonly path: string,
    private readonly readonly: boolean,
    evidenceKek: Uint8Array | null,
  ) {
    this.store = new SqliteEventStore({ path, clock: () => this.commandNow ?? Date.now(), ...(readonly ? { readonly: true } : {}) });
    this.projections = new SqliteProjections(this.store.db);
    this.vault = new KeyVault(this.store.db, evidenceKek);
    try {
      this.vault.checkKek();
    } catch (e) {
      this.store.db.close();
      throw e;
    }
    this.store.addApplier((e) => this.projections.apply(e));
    const hasTree = this.store.db.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'merkle_tree'").pluck().get() === 1;
    if (hasTree) {
      const tree = new SqliteMerkleTree(this.store.db);
      this.transparency = new SqliteTransparency(this.store, tree);
      this.store.addApplier((e) => tree.appendEvent(e));
    } else this.transparency = new NoTree(this.store);
    this.catalog = this.loadCatalog();
    this.context = {
      store: this.store,
      projections: this.projections,
      vault: this.vault,
      catalog: () => this.catalog,
      loadCatalog: () => this.loadCatalog(),
    };
    this.store.onCommit((events) => this.afterCommit(events));
  }

  /** The adapter's parts, for tests and benchmarks that inspect this adapter itself. */
  get internals(): { store: SqliteEventStore; projections: SqliteProjections; vault: KeyVault; tree: SqliteMerkleTree | undefined } {
    return { store: this.store, projections: this.projections, vault: this.vault, tree: this.transparency instanceof SqliteTransparency ? this.transparency.tree : undefined };
  }

  /** Opens (creating and migrating unless read-only) the database at `opts.path`. */
  static async open(opts: SqliteStorageOptions): Promise<SqliteStorage> {
    if (opts.readonly && opts.path !== ":memory:" && !existsSync(opts.path)) throw new Error(`no database at ${opts.path}`);
    return new SqliteStorage(opts.path, opts.readonly ?? false, opts.evidenceKek ?? null);
  }

  private loadCatalog(): Catalog {
    return Catalog.of(this.store.publications().map(toPolicyVersion));
  }

  private afterCommit(events: readonly LedgerEvent[]): void {
    let erased = false;
    for (const e of events) {
      if (e.type === "PolicyVersionPublished") this.catalog.add(toPolicyVersion(e));
      if (e.type === "SubjectErased") erased = true;
    }
    // The destroyed key's old page images may still sit in the WAL: fold them into the file.
    if (erased) this.store.scrubWal();
  }

  execute(request: CommandRequest): Promise<CommandOutcome> {
    return this.store.transact((tx) => {
      this.commandNow = request.now;
      try {
        return runCommand(this.context, tx, request);
      } finally {
        this.commandNow = null;
      }
    });
  }

  async readAll(afterPosition: number, limit: number, filter?: ReadFilter): Promise<LedgerEvent[]> {
    // A filtered read may scan far for few matches: chunk by chunk, yielding between chunks.
    const out: LedgerEvent[] = [];
    let after = afterPosition;
    for (;;) {
      const page = this.store.scan(after, Math.min(limit - out.length, SCAN_CHUNK), SCAN_CHUNK, filter);
      out.push(...page.events);
      if (out.length >= limit || page.exhausted) return out;
      after = page.scannedTo;
      await yieldToLoop();
    }
  }

  async readStream(streamId: string): Promise<LedgerEvent[]> {
    return this.store.readStream(streamId);
  }

  async publications(): Promise<LedgerEvent[]> {
    return this.store.publications();
  }

  async head(): Promise<ChainHead | null> {
    return this.store.head();
  }

  verify(): Promise<IntegrityReport> {
    return verifyStoredChainAsync(this.store.db, yieldToLoop);
  }

  /**
   * On a file: a read-only connection of its own holds one snapshot while the rebuild and the
   * comparison go chunk by chunk, so the writer is never held up. In memory there is no second
   * connection: the check runs in one go (tests only). Callers arriving during a run share it.
   */
  checkReadModels(): Promise<ReadModelReport> {
    this.readModelCheck ??= (async () => {
      try {
        if (this.path === ":memory:") return await checkReadModels(this.store, { yieldBetweenChunks: false, cache: this.rebuildCache });
        const snapshot = new SqliteEventStore({ path: this.path, readonly: true });
        try {
          return await checkReadModels(snapshot, { cache: this.rebuildCache });
        } finally {
          await snapshot.close();
        }
      } finally {
        this.readModelCheck = null;
      }
    })();
    return this.readModelCheck;
  }

  onCommit(listener: (events: readonly LedgerEvent[]) => void): () => void {
    return this.store.onCommit(listener);
  }

  async subject(subjectId: string): Promise<SubjectState> {
    return this.projections.subject(subjectId);
  }

  async currentView(subjectId: string, at: Instant): Promise<SubjectSnapshot> {
    return this.projections.currentView(subjectId, at);
  }

  async viewAt(subjectId: string, asOf: AsOf): Promise<SubjectSnapshot> {
    return this.projections.viewAt(subjectId, asOf);
  }

  async viewThrough(subjectId: string, position: number): Promise<SubjectSnapshot> {
    return this.projections.viewThrough(subjectId, position);
  }

  async dataRequest(requestId: string): Promise<DataRequestState | undefined> {
    return this.projections.dataRequest(requestId);
  }

  async dataRequests(status: DataRequestStatus | null, overdue: boolean | null, now: Instant, page: DataRequestPage): Promise<DataRequestState[]> {
    return this.projections.dataRequests(status, overdue, now, page);
  }

  async pendingReconsent(policyId: string, threshold: number, after: string, limit: number): Promise<string[]> {
    return this.projections.pendingReconsent(policyId, threshold, after, limit);
  }

  async transfers(subjectId: string, from: Instant, to: Instant): Promise<LedgerEvent[]> {
    return this.projections
      .transferPositions(subjectId, from, to)
      .map((p) => this.store.readAll(p - 1, 1)[0]!)
      .filter((e) => e.type === "ThirdPartyTransferRecorded");
  }

  async nextDue(): Promise<Instant | null> {
    return this.projections.nextDue();
  }

  async subjectsOfPolicy(policyId: string, after: string, limit: number): Promise<string[]> {
    return this.projections.subjectsOfPolicy(policyId, after, limit);
  }

  async effectPositions(after: number, upTo: number): Promise<number[]> {
    return this.projections.effectPositions(after, upTo);
  }

  async evidenceKey(subjectId: string): Promise<Uint8Array | null> {
    return this.vault.key(subjectId);
  }

  /** In one transaction, run at start before the service listens (wrapping a key is one AES block). */
  async wrapEvidenceKeys(): Promise<number> {
    return this.readonly ? 0 : this.vault.wrapStoredKeys();
  }

  /** Recomputes the read models and the transparency log's tree from the log. */
  async rebuild(): Promise<number> {
    const n = rebuildProjections(this.store, this.projections);
    if (this.transparency instanceof SqliteTransparency) this.transparency.rebuildSync();
    return n;
  }

  backup(destination: string, opts: { overwrite?: boolean } = {}): Promise<BackupReport> {
    return backupDatabase(this.path, destination, opts);
  }

  isWritable(): boolean {
    return this.store.isWritable();
  }

  close(): Promise<void> {
    return this.store.close();
  }
}
