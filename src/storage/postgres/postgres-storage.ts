// The PostgreSQL storage: each command runs in its own savepoint of its replica's group commit (lock
// the stream, read the state, decide, seal, append, project), reads come from the read models, on
// any replica.
import { Catalog, toPolicyVersion } from "../../domain/catalog.js";
import type { AsOf } from "../../domain/catalog.js";
import type { Actor, DomainEvent, LedgerEvent, Personal } from "../../domain/events.js";
import { policyStream, subjectStream } from "../../domain/events.js";
import { type DataRequestState, type DataRequestStatus, type SubjectState, foldSubject } from "../../domain/subject.js";
import type { Instant } from "../../domain/time.js";
import { type CommandBounds, announcementStream, decideAnnouncement, decidePublication, decideSubjectCommand } from "../../domain/command.js";
import { CLOCK_STREAM, SYSTEM_CLOCK, type MergeSubjects, type RecordDueChanges, type RecordThirdPartyTransfer } from "../../domain/command.js";
import { checkId, requireActive } from "../../domain/decide.js";
import { checkPseudonymousSubject } from "../../domain/identifiers.js";
import { decideMerge } from "../../domain/merge.js";
import { viewOf } from "../../domain/permission.js";
import { checkTransfer, decideTransfer } from "../../domain/transfer.js";
import type { ChainHead, IdempotencyOptions, IntegrityReport, ReadFilter } from "../event-store.js";
import type { BackupReport, CommandOutcome, CommandRequest, DataRequestPage, ReadModelReport, StoragePort } from "../storage-port.js";
import { type PgRebuildCache, checkPostgresReadModels } from "./read-model-check.js";
import { evidenceKeyFor, hasPlain, sealEvent, sealWithKey } from "./evidence-seal.js";
import { type EventRow, rowToEvent } from "../event-row.js";
import { EVENT_COLUMNS } from "./event-rows.js";
import { PgTransparency, catchUpChunk } from "./merkle-tree.js";
import { PostgresStore, type PostgresStoreOptions, type PgWriteTx } from "./postgres-store.js";
import { WRAPPED_KEY_BYTES, checkKek, storedToKey, wrapKey } from "../../evidence/key-wrap.js";
import { KEY_BYTES } from "../../evidence/seal.js";
import {
  type SubjectSnapshot,
  projectEvents,
  readCurrentView,
  readDataRequest,
  readDueEffects,
  readDueExpiries,
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

export type CommandResult = CommandOutcome;


/** Why `backup` is refused on PostgreSQL, and what to use instead. */
export const POSTGRES_BACKUP_ADVICE =
  "backup copies SQLite files; back up a PostgreSQL ledger with the server's tools: pg_basebackup (or your physical backup / PITR set-up), or pg_dump; see README \"Running on PostgreSQL\"";

export interface PostgresStorageOptions extends PostgresStoreOptions {
  /** The key-encryption key subject keys are wrapped under; null or absent keeps them as stored (plain only). */
  evidenceKek?: Uint8Array | null;
}

export class PostgresStorage implements StoragePort {
  /** The transparency log's tree, extended by the sequencer in each append's transaction. */
  readonly transparency: PgTransparency;
  readonly webhooks: PgWebhookStore;

  private constructor(
    readonly store: PostgresStore,
    private readonly kek: Uint8Array | null,
  ) {
    this.transparency = new PgTransparency(store);
    this.webhooks = new PgWebhookStore(store);
  }

  /** The rebuilt side of the read-model check, by log head. */
  private readonly rebuildCache: { current: PgRebuildCache | null } = { current: null };
  private readModelCheck: Promise<ReadModelReport> | null = null;

  /** Opens (and migrates) the database; a KEK that does not open its stored keys fails the open (KekMismatchError). */
  static async open(opts: PostgresStorageOptions): Promise<PostgresStorage> {
    const store = await PostgresStore.open(opts);
    const kek = opts.evidenceKek ?? null;
    try {
      const { rows } = await store.read<{ subject_id: string; key: Buffer }>("SELECT subject_id, key FROM subject_keys WHERE length(key) = $1 LIMIT 1", [WRAPPED_KEY_BYTES]);
      checkKek(kek, rows[0] && { subjectId: rows[0].subject_id, stored: rows[0].key });
    } catch (e) {
      await store.close();
      throw e;
    }
    const storage = new PostgresStorage(store, kek);
    // Projections of a plain append (a command projects its own, knowing the status before).
    return storage;
  }

  /** Runs a command in this replica's next group commit; exact across replicas (see subjectCommand). */
  execute(request: CommandRequest): Promise<CommandOutcome> {
    const { command, actor, now } = request;
    if (command.kind === "publishPolicyVersion") return this.publish(command.input.policyId, actor, (catalog) => decidePublication(command, catalog, now), now);
    if (command.kind === "recordPolicyAnnouncement")
      return this.publish(command.policyId, actor, (catalog) => decideAnnouncement(command, catalog, now), now, announcementStream(command.policyId));
    const allowIdentifying = request.bounds?.allowIdentifyingSubjectIds ?? false;
    if (command.kind === "recordThirdPartyTransfer") return this.recordTransfers(command, actor, now, request.bounds ?? {});
    if (command.kind === "mergeSubjects") return this.merge(command, actor, now, allowIdentifying);
    if (command.kind === "recordDueChanges") return this.recordDue(command, now);
    checkId("subjectId", command.subjectId);
    return this.subjectCommand(command.subjectId, actor, request.idempotency ?? null, (state, catalog) => decideSubjectCommand(command, state, catalog, now, request.bounds), now);
  }

  /**
   * Runs a subject command: with the stream locked, replays an idempotency key or reads the state
   * and the catalogue as the log holds them, decides, seals personal values, appends and projects;
   * erasure destroys the evidence key and idempotency digests in the same transaction.
   */
  subjectCommand(
    subjectId: string,
    actor: Actor,
    idem: IdempotencyOptions | null,
    decide: (state: SubjectState, catalog: Catalog) => DomainEvent[],
    now?: Instant,
  ): Promise<CommandResult> {
    const stream = subjectStream(subjectId);
    return this.store.transact(async (tx) => {
      await tx.lockStream(stream);
      if (idem) {
        const replayed = await tx.replay(stream, idem);
        if (replayed) {
          // The first call's answer: the subject as that call left it, not as later calls changed it.
          const upTo = replayed.at(-1)!.position;
          const { rows } = await tx.client.query<EventRow>(`SELECT ${EVENT_COLUMNS} FROM events WHERE stream_id = $1 AND position <= $2 ORDER BY stream_version`, [stream, upTo]);
          return { events: replayed, subject: foldSubject(subjectId, rows.map(rowToEvent)), replayed: true };
        }
      }
      const state = await readSubject(tx.client, subjectId);
      const decided = decide(state, await this.catalogIn(tx.client));
      const events = await this.appendFor(tx, state, actor, decided);
      if (decided.some((e) => e.type === "SubjectErased")) {
        await tx.client.query("DELETE FROM subject_keys WHERE subject_id = $1", [subjectId]);
        await tx.forget(stream);
      } else if (idem) await tx.remember(stream, idem, events);
      return { events, subject: await readSubject(tx.client, subjectId), replayed: false };
    }, now);
  }

  /**
   * Seals a subject's decided events under its key (none for an erased subject) and appends them
   * with its expected version; the stream is locked by the append.
   */
  private async appendFor(tx: PgWriteTx, state: SubjectState, actor: Actor, decided: readonly DomainEvent[]): Promise<LedgerEvent[]> {
    if (decided.length === 0) return [];
    const subjectId = state.id;
    let key: Buffer | null = null;
    const sealedOnce = new Map<unknown, Personal<unknown>>();
    const sealed: DomainEvent[] = [];
    for (const e of decided) {
      if (hasPlain(e) && state.status !== "ERASED" && key === null) key = await evidenceKeyFor(tx.client, subjectId, this.kek);
      sealed.push(
        sealEvent(e, (v) => {
          if (key === null) return { erased: true };
          let p = sealedOnce.get(v);
          if (!p) sealedOnce.set(v, (p = sealWithKey(key, subjectId, v)));
          return p;
        }),
      );
    }
    return tx.append(subjectStream(subjectId), state.version, sealed.map((e) => ({ ...e, actor, subjectId })), new Map([[subjectId, state]]));
  }

  /** One transfer record per subject, all or none; a provision on consent needs each subject's permission at occurredAt. */
  private recordTransfers(command: RecordThirdPartyTransfer, actor: Actor, now: Instant, bounds: CommandBounds): Promise<CommandResult> {
    const { input } = command;
    return this.store.transact(async (tx) => {
      const catalog = await this.catalogIn(tx.client);
      const counterparty = checkTransfer(input, catalog, now);
      // Streams are locked in id order, so two transfers naming the same subjects cannot deadlock.
      for (const id of [...input.subjectIds].sort()) await tx.lockStream(subjectStream(id));
      const out: LedgerEvent[] = [];
      for (const [i, subjectId] of input.subjectIds.entries()) {
        const state = await readSubject(tx.client, subjectId);
        checkPseudonymousSubject(subjectId, state.version === 0, bounds.allowIdentifyingSubjectIds ?? false);
        if (state.status === "ERASED" || state.status === "MERGED") requireActive(state);
        const view = input.direction === "PROVIDED" ? viewOf(await readViewAt(tx.client, subjectId, { at: input.occurredAt, knownAt: now })) : null;
        const decided = decideTransfer(input, counterparty, command.transferIds[i]!, { catalog, view, now, defaultPolicyId: bounds.defaultPolicyId ?? null, ...(bounds.adequateCountries ? { adequateCountries: bounds.adequateCountries } : {}) });
        out.push(...(await this.appendFor(tx, state, actor, [decided])));
      }
      return { events: out, subject: null, replayed: false };
    }, now);
  }

  /** `from`'s choices carried into `into`, and `from` marked MERGED, in one transaction. */
  private merge(command: MergeSubjects, actor: Actor, now: Instant, allowIdentifying: boolean): Promise<CommandResult> {
    return this.store.transact(async (tx) => {
      for (const id of [command.from, command.into].sort()) await tx.lockStream(subjectStream(id));
      const source = await readSubject(tx.client, command.from);
      const target = await readSubject(tx.client, command.into);
      checkPseudonymousSubject(command.into, target.version === 0, allowIdentifying);
      const { fromEvents, intoEvents } = decideMerge(source, target, now);
      const events = [...(await this.appendFor(tx, target, actor, intoEvents)), ...(await this.appendFor(tx, source, actor, fromEvents))];
      return { events, subject: await readSubject(tx.client, command.into), replayed: false };
    }, now);
  }

  /**
   * The expiries and versions coming into effect due by `now`, as system events. The clock stream's
   * lock serialises these runs across replicas; each expiry's subject stream is locked before its
   * state is read, and a grant replaced meanwhile is no longer due.
   */
  private recordDue(command: RecordDueChanges, now: Instant): Promise<CommandResult> {
    return this.store.transact(async (tx) => {
      const clockVersion = await tx.lockStream(CLOCK_STREAM);
      const out: LedgerEvent[] = [];
      const effects = await readDueEffects(tx.client, now, command.limit);
      if (effects.length > 0)
        out.push(
          ...(await tx.append(
            CLOCK_STREAM,
            clockVersion,
            effects.map((v) => ({ type: "PolicyVersionEffective" as const, occurredAt: v.effectiveAt, data: { policyId: v.policyId, version: v.version }, actor: SYSTEM_CLOCK, subjectId: null })),
          )),
        );
      for (const x of await readDueExpiries(tx.client, now, command.limit)) {
        await tx.lockStream(subjectStream(x.subjectId));
        const still = await tx.client.query("SELECT 1 FROM consents WHERE subject_id = $1 AND policy_id = $2 AND purpose_id = $3 AND event_id = $4 AND NOT expiry_noted", [
          x.subjectId,
          x.policyId,
          x.purposeId,
          x.grantEventId,
        ]);
        if (still.rowCount === 0) continue;
        const state = await readSubject(tx.client, x.subjectId);
        out.push(
          ...(await this.appendFor(tx, state, SYSTEM_CLOCK, [
            { type: "ConsentExpired", occurredAt: x.expiresAt, data: { policyId: x.policyId, purposeId: x.purposeId, grantEventId: x.grantEventId } },
          ])),
        );
      }
      return { events: out, subject: null, replayed: false };
    }, now);
  }

  /** Publishes a policy version, decided against every publication committed so far. */
  publish(policyId: string, actor: Actor, decide: (catalog: Catalog) => DomainEvent | null, now?: Instant, stream = policyStream(policyId)): Promise<CommandResult> {
    return this.store.transact(async (tx) => {
      const version = await tx.lockStream(stream);
      const e = decide(await this.catalogIn(tx.client));
      if (e === null) return { events: [], subject: null, replayed: false };
      const events = await tx.append(stream, version, [{ ...e, actor, subjectId: null }]);
      return { events, subject: null, replayed: false };
    }, now);
  }

  private cachedCatalog: { lastId: string | null; publications: LedgerEvent[] } = { lastId: null, publications: [] };

  /**
   * The catalogue as the transaction sees the log, read again only when its latest publication is
   * another event. Keyed by event id, not position: a work in a group commit may see a publication
   * an earlier work of its batch made, and if that batch then fails, its position is handed out again.
   */
  private async catalogIn(client: Pick<PostgresStore["pool"], "query">): Promise<Catalog> {
    const last = (await client.query<{ id: string }>("SELECT id FROM events WHERE type = 'PolicyVersionPublished' ORDER BY position DESC LIMIT 1")).rows[0]?.id ?? null;
    if (last !== this.cachedCatalog.lastId) {
      const { rows } = await client.query<EventRow>(`SELECT ${EVENT_COLUMNS} FROM events WHERE type = 'PolicyVersionPublished' ORDER BY position`);
      this.cachedCatalog = { lastId: last, publications: rows.map(rowToEvent) };
    }
    return Catalog.of(this.cachedCatalog.publications.map(toPolicyVersion));
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
    return this.store.head();
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
    return readSubject(this.store.pool, subjectId);
  }
  currentView(subjectId: string, at: Instant): Promise<SubjectSnapshot> {
    return readCurrentView(this.store.pool, subjectId, at);
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
    });
  }

  /** Refused: PostgreSQL is backed up with its own tools (the message names them). */
  async backup(_destination: string): Promise<BackupReport> {
    throw new Error(POSTGRES_BACKUP_ADVICE);
  }

  isWritable(): boolean {
    return this.store.isWritable();
  }

  close(): Promise<void> {
    return this.store.close();
  }
}
