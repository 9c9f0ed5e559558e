// The PostgreSQL storage: each command runs in its own savepoint of its replica's group commit (the
// application's command flow, its steps answered by run-command.ts); reads come from the read
// models, on any replica.
import type { AsOf } from "../../domain/catalog.js";
import type { LedgerEvent } from "../../domain/events.js";
import type { DataRequestState, DataRequestStatus, SubjectState } from "../../domain/subject.js";
import type { Instant } from "../../domain/time.js";
import type { CommandProgram } from "../command-steps.js";
import type { ChainHead, IntegrityReport, ReadFilter } from "../event-store.js";
import type { BackupReport, CommandOutcome, CommandRequest, DataRequestPage, ReadModelReport, StoragePort } from "../storage-port.js";
import { type PgRebuildCache, checkPostgresReadModels } from "./read-model-check.js";
import { type EventRow, rowToEvent } from "../event-row.js";
import { EVENT_COLUMNS } from "./event-rows.js";
import { PgTransparency, catchUpChunk } from "./merkle-tree.js";
import { PostgresStore, type PostgresStoreOptions, type PgWriteTx } from "./postgres-store.js";
import { CatalogCache, type PgCommandContext, runCommand } from "./run-command.js";
import { WRAPPED_KEY_BYTES, checkKek, storedToKey, wrapKey } from "../../evidence/key-wrap.js";
import { KEY_BYTES } from "../../evidence/seal.js";
import {
  type SubjectSnapshot,
  projectEvents,
  readCurrentView,
  readCurrentViewUntil,
  readDataRequest,
  readEffectPositions,
  readNextDue,
  readSubjectsOfPolicy,
  readTransferPositions,
  readDataRequests,
  readPendingReconsent,
  readSubject,
  readViewAt,
  readViewThrough,
} from "./projections.js";
import { PROJECTION_TABLES } from "./schema.js";
import { PgWebhookStore } from "./webhook-store.js";
import { PgSubjectViews, feedPollFor } from "./subject-view-feed.js";
import type { ViewCacheStats } from "../view-cache.js";

export type CommandResult = CommandOutcome;

/** The commands that run each in its savepoint even in a set-based batch: all but those on one subject's stream. */
const ONE_BY_ONE_KINDS: ReadonlySet<string> = new Set(["publishPolicyVersion", "recordPolicyAnnouncement", "recordThirdPartyTransfer", "mergeSubjects", "recordDueChanges"]);

/** Why a store opened without a command flow refuses commands. */
export const NO_COMMANDS = "this storage was opened without a command handler (the commands option)";

/** Why `backup` is refused on PostgreSQL, and what to use instead. */
export const POSTGRES_BACKUP_ADVICE =
  "backup copies SQLite files; back up a PostgreSQL ledger with the server's tools: pg_basebackup (or your physical backup / PITR set-up), or pg_dump; see README \"Running on PostgreSQL\"";

export interface PostgresStorageOptions extends PostgresStoreOptions {
  /** The key-encryption key subject keys are wrapped under; null or absent keeps them as stored (plain only). */
  evidenceKek?: Uint8Array | null;
  /** The command flow `execute` runs (application/handle-command.ts); absent: commands are refused (read-only tools). */
  commands?: CommandProgram;
  /**
   * VIEW_CACHE_MB in bytes: the permission reads' view kept in this replica's memory (the service's
   * storage only); 0 or absent keeps none. It is kept only with `viewMaxLagMs` given.
   */
  viewCacheBytes?: number;
  /** VIEW_CACHE_MAX_LAG_MS: memory answers only while the change feed has read the log to its end within this many ms; 0 or absent: no view. */
  viewMaxLagMs?: number;
}

export class PostgresStorage implements StoragePort {
  /** The transparency log's tree, extended by the sequencer in each append's transaction. */
  readonly transparency: PgTransparency;
  readonly webhooks: PgWebhookStore;

  private readonly commands: PgCommandContext | null;
  /** The subjects' views held in this replica's memory; null when there is none. */
  private readonly views: PgSubjectViews | null;

  private constructor(
    readonly store: PostgresStore,
    private readonly kek: Uint8Array | null,
    commands: CommandProgram | null,
    view: { bytes: number; maxLagMs: number } | null,
  ) {
    this.transparency = new PgTransparency(store);
    this.webhooks = new PgWebhookStore(store);
    this.commands = commands && { commands, catalog: new CatalogCache(), kek };
    // Listening from the start: the feed's first delivery already drops its subjects.
    this.views = view && new PgSubjectViews(store, view.bytes, view.maxLagMs);
  }

  /** The rebuilt side of the read-model check, by log head. */
  private readonly rebuildCache: { current: PgRebuildCache | null } = { current: null };
  private readModelCheck: Promise<ReadModelReport> | null = null;

  /** Opens (and migrates) the database; a KEK that does not open its stored keys fails the open (KekMismatchError). */
  static async open(opts: PostgresStorageOptions): Promise<PostgresStorage> {
    const view = opts.viewCacheBytes && opts.viewMaxLagMs ? { bytes: opts.viewCacheBytes, maxLagMs: opts.viewMaxLagMs } : null;
    // With a view, the feed reads the log often enough to stay within its bound while idle.
    const store = await PostgresStore.open(view && !opts.feedPollMs ? { ...opts, feedPollMs: feedPollFor(view.maxLagMs) } : opts);
    const kek = opts.evidenceKek ?? null;
    try {
      const { rows } = await store.read<{ subject_id: string; key: Buffer }>("SELECT subject_id, key FROM subject_keys WHERE length(key) = $1 LIMIT 1", [WRAPPED_KEY_BYTES]);
      checkKek(kek, rows[0] && { subjectId: rows[0].subject_id, stored: rows[0].key });
    } catch (e) {
      await store.close();
      throw e;
    }
    return new PostgresStorage(store, kek, opts.commands ?? null, view);
  }

  /** Runs a command in its own savepoint of this replica's next group commit; exact across replicas (streams locked). */
  execute(request: CommandRequest): Promise<CommandOutcome> {
    const ctx = this.commands;
    if (!ctx) return Promise.reject(new Error(NO_COMMANDS));
    // A work may run again (after a deadlock or a busy stream): each run is a fresh flow.
    const work = (tx: PgWriteTx) => runCommand(ctx, tx, request);
    // Commands on one subject's stream run set-based with the rest of their batch; the rarer ones
    // (publications, transfers, merges, due changes) each in their savepoint.
    const outcome = ONE_BY_ONE_KINDS.has(request.command.kind)
      ? this.store.transact(work, request.now)
      : (this.store.transactFlow({ start: () => ctx.commands.handle(request), ctx }, work, request.now) as Promise<CommandOutcome>);
    const views = this.views;
    if (!views) return outcome;
    // The subjects this command wrote leave the view before its caller hears of it.
    return outcome.then((o) => {
      views.wrote(o.events);
      return o;
    });
  }

  // ---- the log ----
  readAll(afterPosition: number, limit: number, filter?: ReadFilter): Promise<LedgerEvent[]> {
    return this.store.readAll(afterPosition, limit, filter);
  }
  readStream(streamId: string): Promise<LedgerEvent[]> {
    return this.store.readStream(streamId);
  }
  async publications(): Promise<LedgerEvent[]> {
    const { rows } = await this.store.read<EventRow>(`SELECT ${EVENT_COLUMNS} FROM events WHERE type = 'PolicyVersionPublished' ORDER BY position`);
    return rows.map(rowToEvent);
  }
  head(): Promise<ChainHead | null> {
    const views = this.views;
    if (!views) return this.store.head();
    return this.store.head().then((h) => {
      views.headRead(h?.position ?? 0);
      return h;
    });
  }
  verify(): Promise<IntegrityReport> {
    return this.store.verify();
  }
  /** See read-model-check.ts; callers arriving during a run share it. */
  checkReadModels(): Promise<ReadModelReport> {
    this.readModelCheck ??= checkPostgresReadModels(this.store, this.rebuildCache).finally(() => (this.readModelCheck = null));
    return this.readModelCheck;
  }
  onCommit(listener: (events: readonly LedgerEvent[]) => void): () => void {
    return this.store.onCommit(listener);
  }

  // ---- read models ----
  subject(subjectId: string): Promise<SubjectState> {
    if (this.views) return this.views.subject(subjectId, () => readSubject(this.store.pool, subjectId));
    return readSubject(this.store.pool, subjectId);
  }
  currentView(subjectId: string, at: Instant): Promise<SubjectSnapshot> {
    if (this.views) return this.views.currentView(subjectId, at, () => readCurrentViewUntil(this.store.pool, subjectId, at));
    return readCurrentView(this.store.pool, subjectId, at);
  }
  /** The in-memory view's figures (its bytes, hits, misses, the log position it includes, whether it answers now); null when there is none. */
  viewCache(): ViewCacheStats | null {
    return this.views?.stats() ?? null;
  }
  viewAt(subjectId: string, asOf: AsOf): Promise<SubjectSnapshot> {
    return readViewAt(this.store.pool, subjectId, asOf);
  }
  viewThrough(subjectId: string, position: number): Promise<SubjectSnapshot> {
    return readViewThrough(this.store.pool, subjectId, position);
  }
  dataRequest(requestId: string): Promise<DataRequestState | undefined> {
    return readDataRequest(this.store.pool, requestId);
  }
  dataRequests(status: DataRequestStatus | null, overdue: boolean | null, now: Instant, page: DataRequestPage): Promise<DataRequestState[]> {
    return readDataRequests(this.store.pool, status, overdue, now, page);
  }
  pendingReconsent(policyId: string, threshold: number, after: string, limit: number): Promise<string[]> {
    return readPendingReconsent(this.store.pool, policyId, threshold, after, limit);
  }

  async transfers(subjectId: string, from: Instant, to: Instant): Promise<LedgerEvent[]> {
    const positions = await readTransferPositions(this.store.pool, subjectId, from, to);
    if (positions.length === 0) return [];
    const { rows } = await this.store.read<EventRow>(`SELECT ${EVENT_COLUMNS} FROM events WHERE position = ANY($1::bigint[]) ORDER BY occurred_at, position`, [positions]);
    return rows.map(rowToEvent).filter((e) => e.type === "ThirdPartyTransferRecorded");
  }
  nextDue(): Promise<Instant | null> {
    return readNextDue(this.store.pool);
  }
  subjectsOfPolicy(policyId: string, after: string, limit: number, through?: number): Promise<string[]> {
    return readSubjectsOfPolicy(this.store.pool, policyId, after, limit, through);
  }
  effectPositions(after: number, upTo: number): Promise<number[]> {
    return readEffectPositions(this.store.pool, after, upTo);
  }

  // ---- evidence ----
  async evidenceKey(subjectId: string): Promise<Uint8Array | null> {
    const { rows } = await this.store.read<{ key: Buffer }>("SELECT key FROM subject_keys WHERE subject_id = $1", [subjectId]);
    return rows[0] ? storedToKey(this.kek, subjectId, rows[0].key) : null;
  }

  /**
   * Wraps plain keys in batches, each its own transaction. A key is wrapped only while it is still
   * plain, so replicas starting together on an older ledger never wrap one twice.
   */
  async wrapEvidenceKeys(): Promise<number> {
    const kek = this.kek;
    if (!kek) return 0;
    let wrapped = 0;
    for (;;) {
      const n = await this.store.transact(async (tx) => {
        const { rows } = await tx.client.query<{ subject_id: string; key: Buffer }>(
          "SELECT subject_id, key FROM subject_keys WHERE length(key) = $1 ORDER BY subject_id LIMIT 500 FOR UPDATE SKIP LOCKED",
          [KEY_BYTES],
        );
        for (const r of rows)
          await tx.client.query("UPDATE subject_keys SET key = $1 WHERE subject_id = $2 AND length(key) = $3", [wrapKey(kek, r.subject_id, r.key), r.subject_id, KEY_BYTES]);
        return rows.length;
      });
      wrapped += n;
      if (n === 0) return wrapped;
    }
  }

  // ---- maintenance ----
  /** Recomputes every read model and the transparency log's tree from the log, in one transaction that holds the chain tip. */
  rebuild(): Promise<number> {
    this.views?.clear();
    return this.store.exclusive(async (client) => {
      await client.query(`TRUNCATE ${PROJECTION_TABLES.join(", ")}`);
      let after = 0;
      let n = 0;
      for (;;) {
        const { rows } = await client.query<EventRow>(`SELECT ${EVENT_COLUMNS} FROM events WHERE position > $1 ORDER BY position LIMIT 5000`, [after]);
        if (rows.length === 0) break;
        const events = rows.map(rowToEvent);
        await projectEvents(client, events);
        n += events.length;
        after = events.at(-1)!.position;
      }
      await PgTransparency.reset(client);
      while ((await catchUpChunk(client, 10_000)) > 0);
      return n;
    }).finally(() => this.views?.clear());
  }

  /** Refused: PostgreSQL is backed up with its own tools (the message names them). */
  async backup(_destination: string): Promise<BackupReport> {
    throw new Error(POSTGRES_BACKUP_ADVICE);
  }

  isWritable(): boolean {
    return this.store.isWritable();
  }

  close(): Promise<void> {
    this.views?.close();
    return this.store.close();
  }
}
