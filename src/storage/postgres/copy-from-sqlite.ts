// Copies a SQLite ledger into an empty PostgreSQL database, keeping every event, position and hash,
// the evidence keys and the idempotency records; the read models are rebuilt there from the log.
import Database from "better-sqlite3";
import type { IntegrityReport } from "../event-store.js";
import { type EventRow, rowToEvent } from "../event-row.js";
import { EVENT_COLUMNS } from "./event-rows.js";
import { PostgresStore } from "./postgres-store.js";
import { projectEvents } from "./projections.js";

export interface CopyReport {
  events: number;
  subjectKeys: number;
  idempotencyKeys: number;
  /** The source's chain head, which the copy must end on. */
  sourceHead: { position: number; hash: string } | null;
  /** The copy's own chain walk on PostgreSQL. */
  chain: IntegrityReport;
  ok: boolean;
}

const CHUNK = 2_000;

export interface CopyOptions {
  /** Told after every chunk: events copied so far, of how many, since when. */
  onProgress?: (p: { copied: number; total: number; elapsedMs: number }) => void;
  /** Events per chunk (one INSERT each). */
  chunk?: number;
}

/**
 * Reads the SQLite file (read-only, one snapshot) and writes PostgreSQL in one transaction: a
 * failure leaves the target as empty as it was. Refuses a target that already holds events.
 */
export async function copySqliteToPostgres(sqlitePath: string, postgresUrl: string, opts: CopyOptions = {}): Promise<CopyReport> {
  const chunk = opts.chunk ?? CHUNK;
  const started = performance.now();
  const src = new Database(sqlitePath, { readonly: true, fileMustExist: true });
  const store = await PostgresStore.open({ url: postgresUrl, applicationName: "consent-ledger-migrate" });
  try {
    const existing = (await store.read<{ n: number }>("SELECT count(*)::bigint AS n FROM events")).rows[0]!.n;
    if (existing > 0) throw new Error(`the target database already holds ${existing} events; copy into an empty database`);
    // One read snapshot for everything copied: the transaction starts at the first read below.
    src.exec("BEGIN");
    const page = src.prepare("SELECT * FROM events WHERE position > ? ORDER BY position LIMIT ?");
    const head = src.prepare("SELECT position, hex(hash) AS hash FROM events ORDER BY position DESC LIMIT 1").get() as { position: number; hash: string } | undefined;
    const keys = src.prepare("SELECT subject_id, key FROM subject_keys").all() as { subject_id: string; key: Buffer }[];
    const idem = src.prepare("SELECT * FROM idempotency").all() as Record<string, unknown>[];
    const total = (src.prepare("SELECT count(*) AS n FROM events").get() as { n: number }).n;
    let copied = 0;
    await store.exclusive(async (client) => {
      let after = 0;
      for (;;) {
        const rows = page.all(after, chunk) as EventRow[];
        if (rows.length === 0) break;
        const json = rows.map((r) => ({ ...r, prev_hash: r.prev_hash.toString("hex"), hash: r.hash.toString("hex") }));
        await client.query(
          `INSERT INTO events (${EVENT_COLUMNS})
           SELECT position, id, stream_id, stream_version, type, schema_version, subject_id, occurred_at, recorded_at,
                  actor_kind, actor_id, data, decode(prev_hash, 'hex'), decode(hash, 'hex')
           FROM json_to_recordset($1::json) AS r(position bigint, id text, stream_id text, stream_version bigint, type text,
             schema_version integer, subject_id text, occurred_at bigint, recorded_at bigint, actor_kind text, actor_id text,
             data text, prev_hash text, hash text)`,
          [JSON.stringify(json)],
        );
        await projectEvents(client, rows.map(rowToEvent));
        copied += rows.length;
        after = rows.at(-1)!.position;
        opts.onProgress?.({ copied, total, elapsedMs: performance.now() - started });
      }
      for (const k of keys) await client.query("INSERT INTO subject_keys (subject_id, key) VALUES ($1, $2)", [k.subject_id, k.key]);
      for (const i of idem)
        await client.query("INSERT INTO idempotency (stream_id, key, request_hash, first_position, last_position) VALUES ($1, $2, $3, $4, $5)", [
          i.stream_id,
          i.key,
          i.request_hash,
          i.first_position,
          i.last_position,
        ]);
      await client.query("INSERT INTO streams (stream_id, version) SELECT stream_id, max(stream_version) FROM events GROUP BY stream_id");
      await client.query(
        `UPDATE chain_tip SET (position, hash, recorded_at) =
           (SELECT position, hash, recorded_at FROM events ORDER BY position DESC LIMIT 1) WHERE EXISTS (SELECT 1 FROM events)`,
      );
    });
    src.exec("COMMIT");
    const chain = await store.verify();
    const sourceHead = head ? { position: head.position, hash: head.hash.toLowerCase() } : null;
    const ok =
      chain.ok &&
      chain.eventCount === copied &&
      (sourceHead === null ? chain.head === null : chain.head?.position === sourceHead.position && chain.head.hash === sourceHead.hash);
    return { events: copied, subjectKeys: keys.length, idempotencyKeys: idem.length, sourceHead, chain, ok };
  } finally {
    if (src.inTransaction) src.exec("ROLLBACK");
    src.close();
    await store.close();
  }
}
