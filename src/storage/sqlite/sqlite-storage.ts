// The SQLite adapter of the storage port: one file (or :memory:), WAL, synchronous=FULL, group commit.
// Writes run on a writer thread with its own connection; reads run on this thread's connection.
import { existsSync } from "node:fs";
import type { AsOf } from "../../domain/catalog.js";
import type { LedgerEvent } from "../../domain/events.js";
import type { DataRequestState, DataRequestStatus, SubjectState } from "../../domain/subject.js";
import type { Instant } from "../../domain/time.js";
import type { ChainHead, IntegrityReport, ReadFilter } from "../event-store.js";
import type { LeafRef, StoredCheckpoint, TransparencyPort, TreeAudit } from "../../log/transparency-store.js";
import type { NodeId } from "../../log/merkle/node-id.js";
import type { BackupReport, CommandOutcome, CommandRequest, DataRequestPage, ReadModelReport, StoragePort, SubjectSnapshot } from "../storage-port.js";
import { type RebuildCache, checkReadModels } from "./read-model-check.js";
import { backupDatabase } from "./backup.js";
import type { KeyVault } from "./key-vault.js";
import type { SqliteMerkleTree } from "./merkle-tree.js";
import type { SqliteProjections } from "./projections.js";
import { SqliteEventStore } from "./sqlite-event-store.js";
import type { CommandProgram } from "../command-steps.js";
import { SqliteWriter, type SqliteWrites, TREE_CHUNK } from "./sqlite-writer.js";
import { verifyStoredChainAsync } from "./verify-chain.js";
import { ThreadWriter } from "./writer-thread.js";
import { type SqliteWebhookStore, openSqliteWebhookStore } from "./webhook-store.js";
import { SqliteSubjectViews } from "./subject-view-cache.js";
import type { ViewCacheStats } from "../view-cache.js";

/**
 * Where writes run. "thread" (the default for a file): group commit and its fsync on a worker thread,
 * so the event loop keeps serving meanwhile. "in-process": on this thread's connection, as an
 * in-memory database must (a thread cannot share it).
 */
export type SqliteWriterMode = "thread" | "in-process";

export interface SqliteStorageOptions {
  /** A file path, or ":memory:". */
  path: string;
  /** Open read-only (offline tools: export, verify): no migrations, no writes. */
  readonly?: boolean;
  /** The key-encryption key subject keys are wrapped under; null or absent keeps them as stored (plain only). */
  evidenceKek?: Uint8Array | null;
  /** Defaults to "thread" for a writable file, "in-process" otherwise. */
  writer?: SqliteWriterMode;
  /** The command flow `execute` runs (application/handle-command.ts); absent: commands are refused (read-only tools). */
  commands?: CommandProgram;
  /** Bytes the in-memory view of subjects (the permission reads) may hold; 0 or absent: none, every read goes to the database. */
  viewCacheBytes?: number;
  /** Writes made by a writer another process owns (a worker process's relay to its primary); reads stay on this connection. */
  writes?: SqliteWrites;
}

/** Rows per read when a read may cover the whole log: small enough to keep the event loop responsive. */
const SCAN_CHUNK = 512;

const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/** The transparency part of the port: reads from this thread's connection, writes through the writer. */
class SqliteTransparency implements TransparencyPort {
  constructor(
    private readonly store: SqliteEventStore,
    readonly tree: SqliteMerkleTree,
    private readonly writes: SqliteWrites,
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
    return this.writes.saveCheckpoint(c);
  }

  async backlog(): Promise<number> {
    return this.store.eventCount() - this.tree.size();
  }

  /** A chunk per group commit, so appends and reads go on meanwhile. */
  async catchUp(chunk = TREE_CHUNK): Promise<void> {
    while ((await this.writes.catchUpTree(chunk)) > 0) await yieldToLoop();
  }

  async audit(): Promise<TreeAudit> {
    return this.tree.audit();
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
  readonly webhooks: SqliteWebhookStore;
  /** The rebuilt side of the read-model check, by log head. */
  private readonly rebuildCache: { current: RebuildCache | null } = { current: null };
  private readModelCheck: Promise<ReadModelReport> | null = null;
  /** The subjects' views held in memory on this thread; null when VIEW_CACHE_MB is 0. */
  private readonly views: SqliteSubjectViews | null;

  /**
   * `local` is this thread's connection (reads; and writes too when `writes` is `local` itself);
   * `writes` is where commands and maintenance run.
   */
  private constructor(
    private readonly path: string,
    local: SqliteWriter,
    private readonly writes: SqliteWrites,
    readonly writerMode: SqliteWriterMode,
    viewCacheBytes = 0,
  ) {
    this.store = local.store;
    this.projections = local.projections;
    this.vault = local.vault;
    this.transparency = local.tree ? new SqliteTransparency(local.store, local.tree, writes) : new NoTree(local.store);
    // A file gets a connection of its own for webhook progress; an in-memory or read-only database has only this one.
    this.webhooks = openSqliteWebhookStore(path, writerMode === "in-process" ? local.store.db : null);
    // Listening from the start: a commit's subjects are dropped before its commands are answered.
    this.views = viewCacheBytes > 0 ? new SqliteSubjectViews(local.store.db, viewCacheBytes) : null;
    if (this.views) {
      const views = this.views;
      writes.onCommit((events) => views.committed(events));
    }
  }

  /** The adapter's parts, for tests and benchmarks that inspect this adapter itself (reads: this thread's connection). */
  get internals(): { store: SqliteEventStore; projections: SqliteProjections; vault: KeyVault; tree: SqliteMerkleTree | undefined; writer: SqliteWrites } {
    const tree = this.transparency instanceof SqliteTransparency ? this.transparency.tree : undefined;
    return { store: this.store, projections: this.projections, vault: this.vault, tree, writer: this.writes };
  }

  /** Opens (creating and migrating unless read-only) the database at `opts.path`. */
  static async open(opts: SqliteStorageOptions): Promise<SqliteStorage> {
    const readonly = opts.readonly ?? false;
    if (readonly && opts.path !== ":memory:" && !existsSync(opts.path)) throw new Error(`no database at ${opts.path}`);
    const memory = opts.path === ":memory:" || opts.path === "";
    const mode: SqliteWriterMode = memory || readonly ? "in-process" : (opts.writer ?? "thread");
    const evidenceKek = opts.evidenceKek ?? null;
    // This connection migrates the file and checks the KEK first; the writer thread then opens a
    // migrated database with the same KEK (handed over in memory, never through a file).
    const commands = opts.commands ?? null;
    const local = new SqliteWriter(opts.path, { readonly, evidenceKek, commands: mode === "in-process" && !opts.writes ? commands : null });
    const viewBytes = readonly ? 0 : (opts.viewCacheBytes ?? 0);
    if (mode === "in-process") return new SqliteStorage(opts.path, local, local, mode, viewBytes);
    if (opts.writes) return new SqliteStorage(opts.path, local, opts.writes, mode, viewBytes);
    try {
      return new SqliteStorage(opts.path, local, await ThreadWriter.start(opts.path, evidenceKek, commands && commands.module), mode, viewBytes);
    } catch (e) {
      await local.close();
      throw e;
    }
  }

  execute(request: CommandRequest): Promise<CommandOutcome> {
    return this.writes.execute(request);
  }

  async readAll(afterPosition: number, limit: number, filter?: ReadFilter): Promise<LedgerEvent[]> {
    // A filtered read may scan far for few matches: chunk by chunk, yielding between chunks.
    const out: LedgerEvent[] = [];
    let after = afterPosition;
    // Without a type filter every row read is returned: read no more rows than asked for (one event
    // looked up by position reads one row, not a chunk).
    const everyRowMatches = !filter?.types || filter.types.length === 0;
    for (;;) {
      const want = Math.min(limit - out.length, SCAN_CHUNK);
      const page = this.store.scan(after, want, everyRowMatches ? Math.max(want, 1) : SCAN_CHUNK, filter);
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
    return this.writes.onCommit(listener);
  }

  async subject(subjectId: string): Promise<SubjectState> {
    if (this.views) return this.views.subject(subjectId, () => this.projections.subject(subjectId));
    return this.projections.subject(subjectId);
  }

  async currentView(subjectId: string, at: Instant): Promise<SubjectSnapshot> {
    if (this.views) return this.views.currentView(subjectId, at, () => this.projections.currentViewUntil(subjectId, at));
    return this.projections.currentView(subjectId, at);
  }

  /** The in-memory view's figures (its bytes, hits, misses and the log position it includes); null when it is off. */
  viewCache(): ViewCacheStats | null {
    if (!this.views) return null;
    this.views.includedPosition();
    return this.views.stats();
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

  async subjectsOfPolicy(policyId: string, after: string, limit: number, through?: number): Promise<string[]> {
    return this.projections.subjectsOfPolicy(policyId, after, limit, through);
  }

  async effectPositions(after: number, upTo: number): Promise<number[]> {
    return this.projections.effectPositions(after, upTo);
  }

  async evidenceKey(subjectId: string): Promise<Uint8Array | null> {
    return this.vault.key(subjectId);
  }

  /** In one transaction on the writer's connection, run at start before the service listens (wrapping a key is one AES block). */
  wrapEvidenceKeys(): Promise<number> {
    return this.writes.wrapEvidenceKeys();
  }

  /** Recomputes the read models and the transparency log's tree from the log. */
  async rebuild(): Promise<number> {
    // The read models are rewritten under the view: it is dropped before and after.
    this.views?.clear();
    try {
      return await this.writes.rebuild();
    } finally {
      this.views?.clear();
    }
  }

  backup(destination: string, opts: { overwrite?: boolean } = {}): Promise<BackupReport> {
    return backupDatabase(this.path, destination, opts);
  }

  isWritable(): boolean {
    return this.writes.isWritable();
  }

  /** The writer commits and answers what it accepted, then both connections close. */
  async close(): Promise<void> {
    try {
      await this.writes.close();
    } finally {
      await this.webhooks.close();
      await this.store.close();
    }
  }
}
