// One command inside its savepoint of a PostgreSQL group commit: the application's command flow, each
// of its steps answered with await on the batch's connection (see storage/command-steps.ts).
import { Catalog, toPolicyVersion } from "../../domain/catalog.js";
import type { LedgerEvent } from "../../domain/events.js";
import { type AsyncStepRunner, type CommandProgram, drive } from "../command-steps.js";
import { type EventRow, rowToEvent } from "../event-row.js";
import type { CommandOutcome, CommandRequest } from "../storage-port.js";
import { evidenceKeyFor } from "./evidence-seal.js";
import { EVENT_COLUMNS } from "./event-rows.js";
import type { PgWriteTx } from "./postgres-store.js";
import { readDueEffects, readDueExpiries, readSubject, readViewAt } from "./projections.js";

type Queryable = PgWriteTx["client"];

/**
 * The catalogue as a transaction sees the log, read again only when its latest publication is
 * another event. Keyed by event id, not position: a work in a group commit may see a publication an
 * earlier work of its batch made, and if that batch then fails, its position is handed out again.
 */
export class CatalogCache {
  private cached: { lastId: string | null; publications: LedgerEvent[] } = { lastId: null, publications: [] };

  async read(client: Queryable): Promise<Catalog> {
    const last = (await client.query<{ id: string }>("SELECT id FROM events WHERE type = 'PolicyVersionPublished' ORDER BY position DESC LIMIT 1")).rows[0]?.id ?? null;
    if (last !== this.cached.lastId) {
      const { rows } = await client.query<EventRow>(`SELECT ${EVENT_COLUMNS} FROM events WHERE type = 'PolicyVersionPublished' ORDER BY position`);
      this.cached = { lastId: last, publications: rows.map(rowToEvent) };
    }
    return Catalog.of(this.cached.publications.map(toPolicyVersion));
  }

  /** The catalogue when the latest publication's id was read already (undefined: not known, read it). */
  async readKnowing(client: Queryable, lastPublication: string | null | undefined): Promise<Catalog> {
    if (lastPublication === undefined || lastPublication !== this.cached.lastId) return this.read(client);
    return Catalog.of(this.cached.publications.map(toPolicyVersion));
  }
}

export interface PgCommandContext {
  commands: CommandProgram;
  catalog: CatalogCache;
  /** The key-encryption key new subject keys are wrapped under. */
  kek: Uint8Array | null;
}

/** Runs `request` in its work's transaction `tx`; a throw rolls back this work only, and the work may run again. */
export function runCommand(ctx: PgCommandContext, tx: PgWriteTx, request: CommandRequest): Promise<CommandOutcome> {
  return drive(ctx.commands.handle(request), pgSteps(ctx, tx));
}

/** Each step on the batch's connection; locks are the streams' head rows, held to the commit. */
export function pgSteps(ctx: PgCommandContext, tx: PgWriteTx): AsyncStepRunner {
  const { client } = tx;
  return {
    lock: async ({ streams }) => {
      const versions: number[] = [];
      for (const s of streams) versions.push(await tx.lockStream(s));
      return versions;
    },
    replay: async ({ stream, idempotency }) => (await tx.replay(stream, idempotency)) ?? null,
    history: async ({ stream, through }) => {
      const { rows } = await client.query<EventRow>(`SELECT ${EVENT_COLUMNS} FROM events WHERE stream_id = $1 AND position <= $2 ORDER BY stream_version`, [stream, through]);
      return rows.map(rowToEvent);
    },
    state: ({ subjectId }) => readSubject(client, subjectId),
    // The transaction's view either way: reading it is one indexed row while no publication came.
    catalog: () => ctx.catalog.read(client),
    viewAt: ({ subjectId, asOf }) => readViewAt(client, subjectId, asOf),
    dueEffects: ({ now, limit }) => readDueEffects(client, now, limit),
    dueExpiries: ({ now, limit }) => readDueExpiries(client, now, limit),
    stillDue: async ({ expiry: x }) => {
      const still = await client.query("SELECT 1 FROM consents WHERE subject_id = $1 AND policy_id = $2 AND purpose_id = $3 AND event_id = $4 AND NOT expiry_noted", [
        x.subjectId,
        x.policyId,
        x.purposeId,
        x.grantEventId,
      ]);
      return (still.rowCount ?? 0) > 0;
    },
    evidenceKey: ({ subjectId }) => evidenceKeyFor(client, subjectId, ctx.kek),
    append: ({ stream, expectedVersion, events, before }) => tx.append(stream, expectedVersion, events, before ? new Map([[before.id, before]]) : undefined),
    erase: async ({ subjectId, stream }) => {
      await client.query("DELETE FROM subject_keys WHERE subject_id = $1", [subjectId]);
      await tx.forget(stream);
    },
    remember: ({ stream, idempotency, events }) => tx.remember(stream, idempotency, events),
  };
}
