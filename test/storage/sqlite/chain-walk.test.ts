// The store's fast chain walk (SQLite writes the canonical rows) against the reference: canonicalRowContent and verifyChain.
import Database from "better-sqlite3";
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { GENESIS_HASH, canonicalJson, chainHash } from "../../../src/log/canonical.js";
import { migrate } from "../../../src/storage/sqlite/schema.js";
import { canonicalRowContent } from "../../../src/storage/event-row.js";
import { CANONICAL_ROW_SQL, verifyChain, verifyStoredChain } from "../../../src/storage/sqlite/verify-chain.js";

type Row = Parameters<typeof canonicalRowContent>[0];
type Fields = Omit<Row, "position" | "prev_hash" | "hash">;

const open: Database.Database[] = [];
afterEach(() => {
  for (const db of open.splice(0)) db.close();
});
/** Runs `check` on a fresh events table (the update guard dropped, so rows can be changed), then closes it. */
function withEventsDb(check: (db: Database.Database) => void): void {
  const db = new Database(":memory:");
  try {
    migrate(db);
    db.exec("DROP TRIGGER events_refuse_update");
    check(db);
  } finally {
    db.close();
  }
}

/** Characters JSON.stringify escapes or that take more than one byte, lone surrogates included. */
const awkward = fc.constantFrom('"', "\\", "\u0000", "\u0001", "\b", "\t", "\n", "\f", "\r", "\u001f", "\u007f", "\u2028", "é", "😀", "\ud800", "\udfff", "/");
const text = fc.array(fc.oneof(awkward, fc.string({ unit: "binary", maxLength: 4 })), { maxLength: 6 }).map((parts) => parts.join(""));
const int = fc.integer({ min: -Number.MAX_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER });

const fields: fc.Arbitrary<Fields> = fc.record({
  id: text,
  stream_id: text,
  stream_version: fc.integer({ min: 1, max: 2 ** 31 }),
  type: text,
  schema_version: fc.integer({ min: 1, max: 9 }),
  subject_id: fc.option(text),
  occurred_at: int,
  recorded_at: int,
  actor_kind: text,
  actor_id: text,
  data: fc.tuple(fc.jsonValue(), text).map(([value, s]) => canonicalJson({ s, value })),
});

/** Stores the rows as a chain hashed the reference way; ids and streams get a suffix so they stay unique. */
function storeChain(db: Database.Database, rows: readonly Fields[]): void {
  const insert = db.prepare(
    `INSERT INTO events (position, id, stream_id, stream_version, type, schema_version, subject_id, occurred_at, recorded_at, actor_kind, actor_id, data, prev_hash, hash)
     VALUES (@position, @id, @stream_id, @stream_version, @type, @schema_version, @subject_id, @occurred_at, @recorded_at, @actor_kind, @actor_id, @data, @prev_hash, @hash)`,
  );
  let prev = GENESIS_HASH;
  rows.forEach((f, i) => {
    const row: Row = { ...f, id: `${f.id}#${i}`, stream_id: `${f.stream_id}#${i}`, position: i + 1, prev_hash: Buffer.from(prev, "hex"), hash: Buffer.alloc(0) };
    prev = chainHash(prev, canonicalRowContent(row));
    insert.run({ ...row, hash: Buffer.from(prev, "hex") });
  });
}

const storedRows = (db: Database.Database) => db.prepare("SELECT * FROM events ORDER BY position").all() as Row[];

/** One change to one stored row: a column set to a value, or the row moved to another position. */
type Tamper = { column: string; value: (count: number) => unknown };
const tamper: fc.Arbitrary<Tamper> = fc.oneof(
  fc.tuple(fc.constantFrom("id", "stream_id", "type", "actor_kind", "actor_id"), text).map(([column, v]) => ({ column, value: () => `${v}~` })),
  fc.tuple(fc.constantFrom("subject_id"), fc.option(text)).map(([column, v]) => ({ column, value: () => v })),
  fc.tuple(fc.constantFrom("stream_version", "schema_version", "occurred_at", "recorded_at"), fc.oneof(int, fc.constantFrom(2n ** 53n + 1n, -(2n ** 62n)))).map(
    ([column, v]) => ({ column, value: () => v }),
  ),
  fc.tuple(fc.constantFrom("data"), fc.jsonValue()).map(([column, v]) => ({ column, value: () => canonicalJson(v) })),
  fc.constant({ column: "data", value: () => " {}" }),
  fc.tuple(fc.constantFrom("prev_hash", "hash"), fc.uint8Array({ maxLength: 40 })).map(([column, b]) => ({ column, value: () => Buffer.from(b) })),
  fc.constantFrom<Tamper>(
    { column: "position", value: () => 0 },
    { column: "position", value: () => -3 },
    { column: "position", value: (count) => count + 1 },
    { column: "position", value: (count) => count + 7 },
    { column: "position", value: () => 2n ** 60n },
  ),
);

/** Applies a tamper to the row at `pos`; then, maybe, rewrites that row's hash over its new content (either encoding). */
function applyTamper(db: Database.Database, pos: number, t: Tamper, rehash: "no" | "reference" | "sqlite"): void {
  const count = db.prepare("SELECT COUNT(*) FROM events").pluck().get() as number;
  const to = t.value(count);
  db.prepare(`UPDATE events SET ${t.column} = ? WHERE position = ?`).run(to, pos);
  if (rehash === "no") return;
  const at = t.column === "position" ? to : pos;
  const row = db.prepare("SELECT * FROM events WHERE position = ?").get(at) as Row;
  const content = rehash === "reference" ? canonicalRowContent(row) : (db.prepare(`SELECT ${CANONICAL_ROW_SQL} FROM events WHERE position = ?`).pluck().get(at) as string);
  db.prepare("UPDATE events SET hash = ? WHERE position = ?").run(Buffer.from(chainHash(row.prev_hash.toString("hex"), content), "hex"), at);
}

describe("CANONICAL_ROW_SQL", () => {
  it("writes every stored row exactly as canonicalRowContent does, escapes, unicode and all", () => {
    fc.assert(
      fc.property(fc.array(fields, { minLength: 1, maxLength: 12 }), (rows) => {
        withEventsDb((db) => {
          storeChain(db, rows);
          const bySqlite = db.prepare(`SELECT ${CANONICAL_ROW_SQL} FROM events ORDER BY position`).pluck().all();
          expect(bySqlite).toEqual(storedRows(db).map(canonicalRowContent));
        });
      }),
      { numRuns: 300 },
    );
  });
});

describe("verifyStoredChain", () => {
  it("reports what verifyChain reports over the same table, however one row was changed", () => {
    fc.assert(
      fc.property(
        fc.array(fields, { minLength: 1, maxLength: 20 }),
        fc.nat(),
        fc.option(tamper, { freq: 4 }),
        fc.constantFrom("no", "reference", "sqlite"),
        (rows, pick, t, rehash) => {
          withEventsDb((db) => {
            storeChain(db, rows);
            if (t) applyTamper(db, 1 + (pick % rows.length), t, rehash as "no" | "reference" | "sqlite");
            expect(verifyStoredChain(db)).toEqual(verifyChain(storedRows(db)));
          });
        },
      ),
      { numRuns: 400 },
    );
  });

  it("agrees across the boundaries of the ranges it reads, including a gap there", () => {
    const plain: Fields = { id: "e", stream_id: "s", stream_version: 1, type: "T", schema_version: 1, subject_id: null, occurred_at: 1, recorded_at: 2, actor_kind: "SYSTEM", actor_id: "a", data: "{}" };
    fc.assert(
      fc.property(fc.constantFrom(511, 512, 513, 1024, 1025, 1030), fc.integer({ min: 500, max: 1030 }), fc.option(tamper), (count, at, t) => {
        withEventsDb((db) => {
          storeChain(db, Array.from({ length: count }, () => plain));
          if (t) applyTamper(db, Math.min(at, count), t, "no");
          const report = verifyStoredChain(db);
          expect(report).toEqual(verifyChain(storedRows(db)));
          if (!t) expect(report).toMatchObject({ ok: true, eventCount: count, head: { position: count } });
        });
      }),
      { numRuns: 40 },
    );
  });

  it("judges a table without STRICT, whose columns may hold any type, by the reference check alone", () => {
    const db = new Database(":memory:");
    open.push(db);
    db.exec(
      `CREATE TABLE events (position INTEGER PRIMARY KEY, id TEXT, stream_id TEXT, stream_version INTEGER, type TEXT, schema_version INTEGER,
       subject_id TEXT, occurred_at INTEGER, recorded_at INTEGER, actor_kind TEXT, actor_id TEXT, data TEXT, prev_hash BLOB, hash BLOB)`,
    );
    const rows: Fields[] = [1, 2, 3].map((i) => ({ id: `e${i}`, stream_id: "s", stream_version: i, type: "T", schema_version: 1, subject_id: "x", occurred_at: 5, recorded_at: 6, actor_kind: "SYSTEM", actor_id: "a", data: "{}" }));
    storeChain(db, rows);
    expect(verifyStoredChain(db)).toMatchObject({ ok: true, eventCount: 3 });
    // 5.5 is a REAL, which SQLite and JS print alike here, but json_quote would refuse a BLOB: neither may throw or differ.
    db.prepare("UPDATE events SET occurred_at = 5.5, actor_id = x'00ff' WHERE position = 2").run();
    expect(verifyStoredChain(db)).toEqual(verifyChain(storedRows(db)));
    expect(verifyStoredChain(db)).toMatchObject({ ok: false, firstInvalidPosition: 2, head: { position: 1 } });
  });
});
