// The SQLite event store: append-only table, hash chain, tamper detection, group commit, durability.
import Database from "better-sqlite3";
import fc from "fast-check";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { NewEvent } from "../../../src/storage/event-store.js";
import { GENESIS_HASH, chainHash } from "../../../src/log/canonical.js";
import { SCHEMA_VERSION_LATEST, migrate } from "../../../src/storage/sqlite/schema.js";
import { canonicalRowContent } from "../../../src/storage/event-row.js";
import { SqliteEventStore } from "../../../src/storage/sqlite/sqlite-event-store.js";
import { TestClock, commandBatches, ledgerWithCatalog, run, sqlite } from "../../support/ledger-commands.js";
import { tempDir } from "../../support/common.js";

const actor = { kind: "SUBJECT" as const, id: "alice" };
const accepted = (subjectId: string, v = 1): NewEvent => ({ type: "PolicyAccepted", occurredAt: 1_000, data: { policyId: "p", version: v }, actor, subjectId });

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
function fileStore(clock?: () => number) {
  const { dir, cleanup } = tempDir();
  cleanups.push(cleanup);
  const path = join(dir, "ledger.db");
  const store = new SqliteEventStore({ path, ...(clock ? { clock } : {}) });
  cleanups.push(() => store.close());
  return { store, path, dir };
}
function memoryStore() {
  const store = new SqliteEventStore({ path: ":memory:", clock: () => 5_000 });
  cleanups.push(() => store.close());
  return store;
}

describe("appending", () => {
  it("never records a transaction time earlier than the last one, even when the clock steps back", async () => {
    let t = 10_000;
    const store = new SqliteEventStore({ path: ":memory:", clock: () => t });
    cleanups.push(() => store.close());
    const [a] = await store.append("subject:alice", null, [accepted("alice")]);
    t = 4_000; // an NTP step backwards
    const [b] = await store.append("subject:bob", null, [accepted("bob")]);
    expect(a!.recordedAt).toBe(10_000);
    expect(b!.recordedAt).toBe(10_000);
    t = 12_000;
    const [c] = await store.append("subject:carol", null, [accepted("carol")]);
    expect(c!.recordedAt).toBe(12_000);
  });

  it("gives events consecutive positions and stream versions, chained from 64 zeros", async () => {
    const store = memoryStore();
    const a = await store.append("subject:alice", 0, [accepted("alice"), accepted("alice", 2)]);
    const b = await store.append("subject:bob", null, [accepted("bob")]);
    const all = [...a, ...b];
    expect(all.map((e) => [e.position, e.streamId, e.streamVersion])).toEqual([
      [1, "subject:alice", 1],
      [2, "subject:alice", 2],
      [3, "subject:bob", 1],
    ]);
    expect(all[0]!.prevHash).toBe(GENESIS_HASH);
    expect(all[1]!.prevHash).toBe(all[0]!.hash);
    expect(all[2]!.prevHash).toBe(all[1]!.hash);
    const rows = store.db.prepare("SELECT * FROM events ORDER BY position").all() as Parameters<typeof canonicalRowContent>[0][];
    rows.forEach((r, i) => expect(chainHash(all[i]!.prevHash, canonicalRowContent(r))).toBe(all[i]!.hash));
    expect(all.every((e) => e.recordedAt === 5_000 && e.occurredAt === 1_000)).toBe(true);
    expect(store.head()).toEqual({ position: 3, hash: b[0]!.hash });
    expect(store.readStream("subject:alice")).toEqual(a);
    expect(store.readAll(1, 10)).toEqual(all.slice(1));
    expect(store.readAll(0, 10, { subjectId: "bob" })).toEqual(b);
    expect(store.readAll(0, 10, { types: ["ConsentGranted"] })).toEqual([]);
  });

  it("refuses a stale expected version and appends nothing", async () => {
    const store = memoryStore();
    await store.append("subject:alice", 0, [accepted("alice")]);
    await expect(store.append("subject:alice", 0, [accepted("alice", 2)])).rejects.toMatchObject({ code: "VERSION_CONFLICT", details: { expectedVersion: 0, actualVersion: 1 } });
    expect(store.eventCount()).toBe(1);
  });

  it("tells commit listeners once per commit, after it is durable", async () => {
    const store = memoryStore();
    const seen: number[][] = [];
    store.onCommit((events) => seen.push(events.map((e) => e.position)));
    await Promise.all([store.append("subject:a", 0, [accepted("a")]), store.append("subject:b", 0, [accepted("b"), accepted("b", 2)])]);
    await store.append("subject:a", 1, [accepted("a", 2)]);
    expect(seen).toEqual([[1, 2, 3], [4]]);
  });

  it("starts a new head of an empty log at nothing", () => {
    const store = memoryStore();
    expect(store.head()).toBeNull();
    expect(store.verify()).toEqual({ ok: true, eventCount: 0, head: null, firstInvalidPosition: null });
  });
});

describe("the events table", () => {
  it("refuses UPDATE and DELETE, by SQL as well", async () => {
    const { ledger } = await ledgerWithCatalog();
    cleanups.push(() => ledger.close());
    const before = sqlite(ledger).store.readAll(0, 10);
    expect(() => sqlite(ledger).store.db.prepare("UPDATE events SET data = '{}' WHERE position = 1").run()).toThrow("events are append-only: UPDATE refused");
    expect(() => sqlite(ledger).store.db.prepare("UPDATE events SET occurred_at = occurred_at + 1").run()).toThrow("events are append-only: UPDATE refused");
    expect(() => sqlite(ledger).store.db.prepare("DELETE FROM events WHERE position = 1").run()).toThrow("events are append-only: DELETE refused");
    expect(() => sqlite(ledger).store.db.prepare("DELETE FROM events").run()).toThrow("events are append-only: DELETE refused");
    expect(sqlite(ledger).store.readAll(0, 10)).toEqual(before);
    expect((await ledger.integrity()).ok).toBe(true);
  });
});

/** One way of changing one stored row, and where the check must notice it. */
type Tamper = { column: string; sql: string; params: (r: Record<string, unknown>, n: number) => unknown[]; breaksAt: (pos: number) => number };
const flipByte = (b: Buffer, n: number) => {
  const c = Buffer.from(b);
  c[n % c.length] = c[n % c.length]! ^ (1 + (n % 255));
  return c;
};
const flipChar = (s: string, n: number) => {
  const i = n % s.length;
  return s.slice(0, i) + (s[i] === "x" ? "y" : "x") + s.slice(i + 1);
};
const set = (column: string, value: (r: Record<string, unknown>, n: number) => unknown): Tamper => ({
  column,
  sql: `UPDATE events SET ${column} = ? WHERE position = ?`,
  params: (r, n) => [value(r, n), r.position],
  breaksAt: (pos) => pos,
});
const TAMPERS: Tamper[] = [
  set("data", (r, n) => flipChar(r.data as string, n)),
  set("occurred_at", (r) => (r.occurred_at as number) + 1),
  set("recorded_at", (r) => (r.recorded_at as number) - 1),
  set("stream_id", (r) => `${r.stream_id as string}x`),
  set("stream_version", (r) => (r.stream_version as number) + 1_000),
  set("type", (r, n) => flipChar(r.type as string, n)),
  set("schema_version", (r) => (r.schema_version as number) + 1),
  set("subject_id", (r) => (r.subject_id === null ? "mallory" : null)),
  set("actor_kind", (r) => ((r.actor_kind as string) === "OFFICER" ? "SYSTEM" : "OFFICER")),
  set("actor_id", (r, n) => flipChar(r.actor_id as string, n)),
  set("id", (r, n) => flipChar(r.id as string, n)),
  set("prev_hash", (r, n) => flipByte(r.prev_hash as Buffer, n)),
  // The row's own hash no longer matches its content: the row itself is invalid, not only the next link.
  set("hash", (r, n) => flipByte(r.hash as Buffer, n)),
  // A row moved past the end leaves a gap: the first row out of sequence is the one after it.
  { column: "position", sql: "UPDATE events SET position = ? WHERE position = ?", params: (r, n) => [n, r.position], breaksAt: (pos) => pos + 1 },
];

describe("integrity", () => {
  it("holds after any sequence, and names the row whose single stored value was changed", async () => {
    await fc.assert(
      fc.asyncProperty(commandBatches, fc.nat(), fc.constantFrom(...TAMPERS), fc.nat(), async (batches, rowPick, tamper, n) => {
        const { ledger, clock } = await ledgerWithCatalog(new TestClock());
        await run(ledger, clock, batches);
        const clean = (await ledger.integrity());
        const count = sqlite(ledger).store.eventCount();
        expect(clean).toEqual({ ok: true, eventCount: count, head: sqlite(ledger).store.head(), firstInvalidPosition: null });

        const db = sqlite(ledger).store.db;
        db.exec("DROP TRIGGER events_refuse_update");
        const pos = 1 + (rowPick % count);
        const r = db.prepare("SELECT * FROM events WHERE position = ?").get(pos) as Record<string, unknown>;
        const params = tamper.params(r, tamper.column === "position" ? count + 1 : n);
        expect(db.prepare(tamper.sql).run(...params).changes).toBe(1);

        const report = (await ledger.integrity());
        const at = tamper.breaksAt(pos);
        expect(report).toMatchObject({ ok: false, eventCount: count, firstInvalidPosition: at });
        // The head names the last event that still verifies: the one before the changed row.
        if (pos === 1) expect(report.head).toBeNull();
        else expect(report.head?.position).toBe(pos - 1);
        await ledger.close();
      }),
      { numRuns: 60 },
    );
  });

  it("notices a row whose data was rewritten as equivalent but not canonical JSON", async () => {
    const { ledger } = await ledgerWithCatalog();
    cleanups.push(() => ledger.close());
    sqlite(ledger).store.db.exec("DROP TRIGGER events_refuse_update");
    sqlite(ledger).store.db.prepare("UPDATE events SET data = ' ' || data WHERE position = 1").run();
    expect((await ledger.integrity())).toMatchObject({ ok: false, firstInvalidPosition: 1 });
  });
});

describe("group commit", () => {
  it("rolls back only the command that threw; the others in the same commit stay", async () => {
    const store = memoryStore();
    const exec = vi.spyOn(store.db, "exec");
    const outcomes = await Promise.allSettled([
      store.append("subject:a", 0, [accepted("a")]),
      store.transact((tx) => {
        tx.append("subject:b", 0, [accepted("b"), accepted("b", 2)]);
        throw new Error("changed my mind");
      }),
      store.append("subject:c", 0, [accepted("c")]),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect(exec.mock.calls.filter(([sql]) => sql === "COMMIT")).toHaveLength(1);
    expect(store.readStream("subject:b")).toEqual([]);
    expect(store.readAll(0, 10).map((e) => [e.position, e.streamId])).toEqual([
      [1, "subject:a"],
      [2, "subject:c"],
    ]);
    expect(store.verify().ok).toBe(true);
  });

  it("batches concurrent appends into far fewer commits than appends", async () => {
    const { store, path } = fileStore();
    const exec = vi.spyOn(store.db, "exec");
    const results = await Promise.all(Array.from({ length: 32 }, (_, i) => store.append(`subject:s${i}`, 0, [accepted(`s${i}`)])));
    const commits = exec.mock.calls.filter(([sql]) => sql === "COMMIT").length;
    expect(commits).toBeGreaterThanOrEqual(1);
    expect(commits).toBeLessThanOrEqual(4);
    expect(results.flat().map((e) => e.position).sort((a, b) => a - b)).toEqual(Array.from({ length: 32 }, (_, i) => i + 1));
    // Durable once resolved: another connection sees every event.
    const other = new Database(path, { readonly: true });
    expect(other.prepare("SELECT COUNT(*) FROM events").pluck().get()).toBe(32);
    other.close();
  });

  it("refuses work once closed, after finishing what was queued", async () => {
    const store = new SqliteEventStore({ path: ":memory:" });
    const queued = store.append("subject:a", 0, [accepted("a")]);
    const closing = store.close();
    await expect(queued).resolves.toHaveLength(1);
    await closing;
    await expect(store.append("subject:a", 1, [accepted("a")])).rejects.toMatchObject({ code: "STORE_UNAVAILABLE" });
    expect(store.isWritable()).toBe(false);
  });
});

describe("a durable store", () => {
  it("keeps events and the head across a close and reopen, and continues the chain", async () => {
    const { store, path } = fileStore();
    const first = await store.append("subject:alice", 0, [accepted("alice"), accepted("alice", 2)]);
    const head = store.head();
    await store.close();
    const again = new SqliteEventStore({ path });
    cleanups.push(() => again.close());
    expect(again.readStream("subject:alice")).toEqual(first);
    expect((await again.head())).toEqual(head);
    const [next] = await again.append("subject:alice", 2, [accepted("alice", 3)]);
    expect(next).toMatchObject({ position: 3, streamVersion: 3, prevHash: head!.hash });
    expect(again.verify()).toMatchObject({ ok: true, eventCount: 3 });
  });

  it("runs its migrations once, however often it is opened", async () => {
    const { store, path } = fileStore();
    await store.append("subject:alice", 0, [accepted("alice")]);
    migrate(store.db);
    migrate(store.db);
    await store.close();
    const again = new SqliteEventStore({ path });
    cleanups.push(() => again.close());
    expect(again.db.prepare("SELECT version FROM schema_migrations ORDER BY version").pluck().all()).toEqual(Array.from({ length: SCHEMA_VERSION_LATEST }, (_, i) => i + 1));
    expect(again.eventCount()).toBe(1);
    expect(() => again.db.prepare("DELETE FROM events").run()).toThrow("append-only");
  });

  it("finds the catalogue's publications through their index, not by scanning the log", async () => {
    const store = memoryStore();
    await store.append("subject:alice", 0, [accepted("alice")]);
    await store.append("policy:p", 0, [{ type: "PolicyVersionPublished", occurredAt: 1_000, data: { policyId: "p", number: 1 } as never, actor, subjectId: null }]);
    await store.append("subject:bob", 0, [accepted("bob")]);
    expect(store.publications().map((e) => [e.position, e.type])).toEqual([[2, "PolicyVersionPublished"]]);
    const plan = store.db.prepare("EXPLAIN QUERY PLAN SELECT * FROM events WHERE type = 'PolicyVersionPublished' ORDER BY position").all() as { detail: string }[];
    expect(plan.map((p) => p.detail).join("\n")).toMatch(/USING INDEX events_publications/);
  });

  it("refuses a database from a newer build", () => {
    const db = new Database(":memory:");
    migrate(db);
    db.prepare("INSERT INTO schema_migrations (version, applied_at) VALUES (99, 0)").run();
    expect(() => migrate(db)).toThrow(/newer than this build/);
    db.close();
  });
});
