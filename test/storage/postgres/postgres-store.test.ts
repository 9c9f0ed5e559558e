// The PostgreSQL event log on a real server: exact versions and one dense chain across replicas.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LedgerEvent } from "../../../src/domain/events.js";
import { PostgresStore } from "../../../src/storage/postgres/postgres-store.js";
import type { NewEvent } from "../../../src/storage/event-store.js";
import { appendOnce, freshDatabase } from "../../support/postgres.js";

const grant = (subjectId: string, purposeId = "analytics"): NewEvent => ({
  type: "ConsentGranted",
  data: { policyId: "p", version: 1, purposeId, expiresAt: null },
  occurredAt: 1_700_000_000_000,
  actor: { kind: "SUBJECT", id: subjectId },
  subjectId,
});

const errorCode = (p: Promise<unknown>) => p.then(() => "ok", (e: { code?: string }) => e.code ?? String(e));

describe("PostgresStore", () => {
  let url: string;
  let a: PostgresStore;
  let b: PostgresStore;

  beforeAll(async () => {
    url = await freshDatabase();
    // Two replicas starting at the same moment: the migration runs once, the other waits for it.
    [a, b] = await Promise.all([PostgresStore.open({ url, applicationName: "replica-a" }), PostgresStore.open({ url, applicationName: "replica-b" })]);
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  it("appends events with dense positions and a chain that verifies", async () => {
    const e1 = await a.append("subject:s1", 0, [grant("s1"), grant("s1", "ads")]);
    const e2 = await b.append("subject:s2", 0, [grant("s2")]);
    expect(e1.map((e) => e.streamVersion)).toEqual([1, 2]);
    expect(e2[0]!.position).toBe(e1[1]!.position + 1);
    expect(e2[0]!.prevHash).toBe(e1[1]!.hash);
    expect(await a.readStream("subject:s1")).toEqual(e1);
    const report = await b.verify();
    expect(report).toMatchObject({ ok: true, firstInvalidPosition: null });
    expect(report.head).toEqual({ position: e2[0]!.position, hash: e2[0]!.hash });
  });

  it("lets exactly one of two replicas racing on one subject version win", async () => {
    const results = await Promise.all(Array.from({ length: 6 }, (_, i) => errorCode((i % 2 ? a : b).append("subject:race", 0, [grant("race")]))));
    expect(results.filter((r) => r === "ok")).toHaveLength(1);
    expect(results.filter((r) => r === "VERSION_CONFLICT")).toHaveLength(5);
    expect(await a.readStream("subject:race")).toHaveLength(1);
  });

  it("keeps positions dense and the chain whole under concurrent writers on both replicas", async () => {
    const before = (await a.head())!.position;
    await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).append(`subject:c${i % 7}`, null, [grant(`c${i % 7}`)])));
    const events = await a.readAll(before, 1_000);
    expect(events.map((e) => e.position)).toEqual(Array.from({ length: 40 }, (_, i) => before + i + 1));
    expect((await b.verify()).ok).toBe(true);
  });

  it("replays an idempotency key on another replica, and refuses it with other input", async () => {
    const idem = { key: "k1", requestHash: "h1" };
    const first = await appendOnce(a, "subject:idem", null, [grant("idem")], idem);
    const again = await appendOnce(b, "subject:idem", null, [grant("idem")], idem);
    expect(again).toEqual(first);
    expect(await errorCode(appendOnce(b, "subject:idem", null, [grant("idem")], { key: "k1", requestHash: "other" }))).toBe("IDEMPOTENCY_CONFLICT");
    expect(await a.readStream("subject:idem")).toHaveLength(1);
  });

  it("delivers every replica's commits to each replica's listeners once, in position order", async () => {
    const seenByA: LedgerEvent[] = [];
    const seenByB: LedgerEvent[] = [];
    let bothSaw!: () => void;
    const bothSawAll = new Promise<void>((r) => (bothSaw = r));
    const check = () => seenByA.length >= 10 && seenByB.length >= 10 && bothSaw();
    const offA = a.onCommit((es) => void (seenByA.push(...es), check()));
    const offB = b.onCommit((es) => void (seenByB.push(...es), check()));
    const start = (await a.head())!.position;
    for (let i = 0; i < 10; i++) await (i % 2 ? a : b).append(`subject:f${i}`, 0, [grant(`f${i}`)]);
    await bothSawAll;
    offA();
    offB();
    const expected = Array.from({ length: 10 }, (_, i) => start + i + 1);
    expect(seenByA.map((e) => e.position)).toEqual(expected);
    expect(seenByB.map((e) => e.position)).toEqual(expected);
  });

  it("refuses to change or delete a stored event", async () => {
    await expect(a.pool.query("UPDATE events SET actor_id = 'x' WHERE position = 1")).rejects.toThrow(/append-only/);
    await expect(a.pool.query("DELETE FROM events WHERE position = 1")).rejects.toThrow(/append-only/);
  });

  it("names the first broken link when a stored event is altered behind the store's back", async () => {
    const other = await freshDatabase();
    const s = await PostgresStore.open({ url: other });
    try {
      for (let i = 0; i < 5; i++) await s.append(`subject:t${i}`, 0, [grant(`t${i}`)]);
      await s.pool.query("ALTER TABLE events DISABLE TRIGGER events_refuse_change");
      await s.pool.query("UPDATE events SET occurred_at = occurred_at + 1 WHERE position = 3");
      expect(await s.verify()).toMatchObject({ ok: false, eventCount: 5, firstInvalidPosition: 3, head: { position: 2 } });
    } finally {
      await s.close();
    }
  });
});
