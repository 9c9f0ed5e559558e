// An append under the chain tip: the events linked after the tip, and written with the new tip,
// the stream head, the transparency tree's nodes and the read models in one statement.
import { randomUUID } from "node:crypto";
import type pg from "pg";
import type { LedgerEvent } from "../../../domain/events.js";
import type { Lifecycle } from "../../../domain/subject.js";
import { GENESIS_HASH, canonicalJson, chainHash, hashedContent } from "../../../log/canonical.js";
import type { NewEvent } from "../../event-store.js";
import { EVENT_COLUMNS } from "../event-rows.js";
import { extendTree } from "../merkle/extend-tree.js";
import { PROJECTION_COUNTS, projectionWrites } from "../read-models/projection-writes.js";
import { writeRequests } from "../read-models/rare-writes.js";
import { type BatchTip, type TipRow, holdTip } from "./chain-tip.js";

export const EVENT_SCHEMA_VERSION = 1;

/** The events linked after `tip` (hashes chained, positions and stream versions counted on), in memory. */
export function linkEvents(tip: Pick<TipRow, "position" | "hash">, streamId: string, version: number, events: readonly NewEvent[], recordedAt: number): LedgerEvent[] {
  let prev = tip.position === 0 ? GENESIS_HASH : tip.hash.toString("hex");
  let position = tip.position;
  let streamVersion = version;
  const out: LedgerEvent[] = [];
  for (const ne of events) {
    const base = {
      id: randomUUID(),
      position: ++position,
      streamId,
      streamVersion: ++streamVersion,
      type: ne.type,
      schemaVersion: EVENT_SCHEMA_VERSION,
      subjectId: ne.subjectId,
      occurredAt: ne.occurredAt,
      recordedAt,
      actor: ne.actor,
      // Canonical data, parsed back: the event carries exactly what was hashed and stored.
      data: JSON.parse(canonicalJson(ne.data)),
    };
    const hash = chainHash(prev, canonicalJson(hashedContent(base as LedgerEvent)));
    out.push({ ...base, prevHash: prev, hash } as LedgerEvent);
    prev = hash;
  }
  return out;
}

/** The events table's rows for linked events (json_to_recordset input of EVENT_INSERT). */
export const eventRows = (out: readonly LedgerEvent[]) =>
  out.map((e) => ({
    position: e.position,
    id: e.id,
    stream_id: e.streamId,
    stream_version: e.streamVersion,
    type: e.type,
    schema_version: e.schemaVersion,
    subject_id: e.subjectId,
    occurred_at: e.occurredAt,
    recorded_at: e.recordedAt,
    actor_kind: e.actor.kind,
    actor_id: e.actor.id,
    data: canonicalJson(e.data),
    prev_hash: e.prevHash,
    hash: e.hash,
  }));

/** The events insert from a JSON array of eventRows, as a statement or a common table expression. */
export const eventInsert = (param: string) => `INSERT INTO events (${EVENT_COLUMNS})
       SELECT position, id, stream_id, stream_version, type, schema_version, subject_id, occurred_at, recorded_at,
              actor_kind, actor_id, data, decode(prev_hash, 'hex'), decode(hash, 'hex')
       FROM json_to_recordset(${param}::json) AS r(position bigint, id text, stream_id text, stream_version bigint, type text,
         schema_version integer, subject_id text, occurred_at bigint, recorded_at bigint, actor_kind text, actor_id text,
         data text, prev_hash text, hash text)`;

/**
 * Takes the chain tip (the one lock every append shares, held from the batch's first append to its
 * commit) unless the batch holds it already, links the events after it, and writes them, the new
 * tip, the stream head and the read models in one statement.
 */
export async function appendLocked(
  client: pg.PoolClient,
  held: BatchTip,
  streamId: string,
  version: number,
  events: readonly NewEvent[],
  now: number,
  statuses: ReadonlyMap<string, Lifecycle>,
): Promise<LedgerEvent[]> {
  const tip = await holdTip(client, held);
  // recordedAt never goes back, so transaction time follows log order even when clocks differ between replicas.
  const recordedAt = Math.max(now, tip.recorded_at);
  const out = linkEvents(tip, streamId, version, events, recordedAt);
  const rows = eventRows(out);
  const last = out.at(-1)!;
  // The transparency log's tree grows in the same transaction, in the chain's order.
  const tree = extendTree(tip.position, tip, out.map((e) => e.hash));
  const w = projectionWrites(out, statuses);
  // Named: prepared once per connection, so the server does not parse and plan this statement on every append.
  await client.query({
    name: "ledger_append",
    text: `WITH inserted AS (
       ${eventInsert("$1")}
       RETURNING 1),
     tip AS (UPDATE chain_tip SET position = $2, hash = decode($3, 'hex'), recorded_at = $4, tree_leaves = $7, tree_border = $8 RETURNING 1),
     head AS (UPDATE streams SET version = $5 WHERE stream_id = $6 RETURNING 1),
     tree_nodes AS (INSERT INTO merkle_nodes (post_order, hash) SELECT p, decode(h, 'hex') FROM unnest($9::bigint[], $10::text[]) AS n(p, h) RETURNING 1),
     ${w.ctes(11)}
     SELECT (SELECT count(*) FROM inserted), (SELECT count(*) FROM tip), (SELECT count(*) FROM head), ${PROJECTION_COUNTS}`,
    values: [JSON.stringify(rows), last.position, last.hash, recordedAt, last.streamVersion, streamId, tree.leaves, tree.border, tree.postOrders, tree.hashes, ...w.params],
  });
  await writeRequests(client, w.requests);
  held.tip = { position: last.position, hash: Buffer.from(last.hash, "hex"), recorded_at: recordedAt, tree_leaves: tree.leaves, tree_border: tree.border };
  return out;
}
