// The write side of the SQLite adapter on one connection: group commit, commands, read models, key
// vault and tree in each append's transaction. It runs in-process (":memory:") or on the writer thread.
import { Catalog, toPolicyVersion } from "../../domain/catalog.js";
import type { LedgerEvent } from "../../domain/events.js";
import type { Instant } from "../../domain/time.js";
import type { StoredCheckpoint } from "../../log/transparency-store.js";
import type { CommandProgram } from "../command-steps.js";
import type { CommandOutcome, CommandRequest } from "../storage-port.js";
import { KeyVault } from "./key-vault.js";
import { SqliteMerkleTree } from "./merkle-tree.js";
import { SqliteProjections } from "./projections.js";
import { rebuildProjections } from "./rebuild.js";
import { type CommandContext, runCommand } from "./run-command.js";
import { SqliteEventStore } from "./sqlite-event-store.js";

/** Leaves added per transaction while the tree catches up with the log: a few milliseconds of work. */
export const TREE_CHUNK = 2_000;

/** Why a store opened without a command flow refuses commands. */
export const NO_COMMANDS = "this storage was opened without a command handler (the commands option)";

/** Every write the SQLite adapter makes, whichever thread runs it. */
export interface SqliteWrites {
  execute(request: CommandRequest): Promise<CommandOutcome>;
  /** Adds up to `chunk` logged events to the tree in one group commit; resolves to how many. */
  catchUpTree(chunk: number): Promise<number>;
  /** Stores `c` if it extends the latest checkpoint; resolves to the latest stored. */
  saveCheckpoint(c: StoredCheckpoint): Promise<StoredCheckpoint>;
  /** Wraps under the KEK every subject key stored plain, in one transaction; resolves to how many. */
  wrapEvidenceKeys(): Promise<number>;
  /** Recomputes the read models and the tree from the log; resolves to the events replayed. */
  rebuild(): Promise<number>;
  /** Group commits made by this writer so far (each one COMMIT, one fsync). */
  commits(): Promise<number>;
  /** Called after each durable commit with the events it made visible, before the commands' answers. */
  onCommit(listener: (events: readonly LedgerEvent[]) => void): () => void;
  isWritable(): boolean;
  /** Commits what was accepted, then releases the connection. */
  close(): Promise<void>;
}

export interface SqliteWriterOptions {
  /** Open read-only (offline tools): no migrations, no writes. */
  readonly?: boolean;
  /** The key-encryption key subject keys are wrapped under; null keeps them as stored (plain only). */
  evidenceKek: Uint8Array | null;
  /** The command flow `execute` runs (the application's); null or absent: commands are refused. */
  commands?: CommandProgram | null;
}

/** The writer over one connection, in the calling thread. */
export class SqliteWriter implements SqliteWrites {
  readonly store: SqliteEventStore;
  readonly projections: SqliteProjections;
  readonly vault: KeyVault;
  /** The tree; absent only in a read-only file older than the tree's migration. */
  readonly tree: SqliteMerkleTree | undefined;
  private catalog: Catalog;
  /** The instant of the command being run, which the chain records as its transaction time (never going back). */
  private commandNow: Instant | null = null;
  private readonly context: CommandContext | null;

  private readonly readonly: boolean;

  /** Opens (creating and migrating unless read-only) the database; KekMismatchError when the KEK does not open its keys. */
  constructor(path: string, opts: SqliteWriterOptions) {
    this.readonly = opts.readonly ?? false;
    this.store = new SqliteEventStore({ path, clock: () => this.commandNow ?? Date.now(), ...(this.readonly ? { readonly: true } : {}) });
    this.projections = new SqliteProjections(this.store.db);
    this.vault = new KeyVault(this.store.db, opts.evidenceKek);
    try {
      this.vault.checkKek();
    } catch (e) {
      this.store.db.close();
      throw e;
    }
    this.store.addApplier((events) => this.projections.applyAll(events));
    const hasTree = this.store.db.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'merkle_tree'").pluck().get() === 1;
    if (hasTree) {
      const tree = new SqliteMerkleTree(this.store.db);
      this.tree = tree;
      this.store.addApplier((events) => tree.appendEvents(events));
    }
    this.catalog = this.loadCatalog();
    const commands = opts.commands ?? null;
    // Each command of a group commit runs in a savepoint; SQLite keeps the savepoint's undo copies
    // of the pages it touches (a recordConsent: about 20) in a statement journal, which past 64 KiB
    // it spills to a temporary file: a create, an unlink and a write per page, for every group
    // commit. Held in memory instead (a few MiB at most for the largest group commit), as is any
    // temporary table a command's statement might make. A rebuild goes back to files (see rebuild).
    if (commands && !this.readonly) this.store.db.pragma("temp_store = MEMORY");
    this.context = commands && {
      store: this.store,
      projections: this.projections,
      vault: this.vault,
      catalog: () => this.catalog,
      loadCatalog: () => this.loadCatalog(),
      commands,
    };
    this.store.onCommit((events) => this.afterCommit(events));
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
    const context = this.context;
    if (!context) return Promise.reject(new Error(NO_COMMANDS));
    return this.store.transact((tx) => {
      this.commandNow = request.now;
      try {
        return runCommand(context, tx, request);
      } finally {
        this.commandNow = null;
      }
    });
  }

  async catchUpTree(chunk: number): Promise<number> {
    const tree = this.tree;
    return tree ? this.store.transact(() => tree.catchUp(chunk)) : 0;
  }

  saveCheckpoint(c: StoredCheckpoint): Promise<StoredCheckpoint> {
    if (!this.tree) return Promise.reject(new Error("this database keeps no transparency log"));
    return this.tree.saveCheckpoint(c);
  }

  async wrapEvidenceKeys(): Promise<number> {
    return this.readonly ? 0 : this.vault.wrapStoredKeys();
  }

  /** Recomputes the read models, then the tree (emptied and built again in one exclusive transaction). */
  async rebuild(): Promise<number> {
    // The rebuild's sorts span the whole log: they spill to temporary files, not to memory.
    const temp = this.store.db.pragma("temp_store", { simple: true }) as number;
    this.store.db.pragma("temp_store = DEFAULT");
    try {
      const n = rebuildProjections(this.store, this.projections);
      const tree = this.tree;
      if (tree) {
        this.store.exclusive(() => {
          tree.reset();
          while (tree.catchUp(TREE_CHUNK) > 0);
        });
      }
      return n;
    } finally {
      this.store.db.pragma(`temp_store = ${temp}`);
    }
  }

  async commits(): Promise<number> {
    return this.store.commitCount;
  }

  onCommit(listener: (events: readonly LedgerEvent[]) => void): () => void {
    return this.store.onCommit(listener);
  }

  isWritable(): boolean {
    return this.store.isWritable();
  }

  close(): Promise<void> {
    return this.store.close();
  }
}
