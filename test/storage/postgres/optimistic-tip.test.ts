// The optimistic chain tip: a set-based batch links its events after the tip its first statement
// read, without locking it; its write takes the tip and checks it. When another transaction moved the
// tip in between, nothing of the batch is written and it runs again with the tip locked first. Two
// batches of one replica overlap (the second links after the tip the first is writing), and the
// replica's listeners get its own events without a read, each event once, in order.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LedgerEvent } from "../../../src/domain/events.js";
import type { NewEvent } from "../../../src/storage/event-store.js";
import { PostgresStore } from "../../../src/storage/postgres/postgres-store.js";
import { freshDatabase } from "../../support/postgres.js";

const grant = (subjectId: string): NewEvent => ({
  type: "ConsentGranted",
  data: { policyId: "p", version: 1, purposeId: "analytics", expiresAt: null },
  occurredAt: 1_700_000_000_000,
  actor: { kind: "SUBJECT", id: subjectId },
  subjectId,
});

/** Resolves once a backend of `application` waits for a lock (the server's own view, no timing). */
async function waitsForLock(store: PostgresStore, application: string): Promise<void> {
  for (;;) {
    const { rows } = await store.read<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'", [application]);
    if (rows[0]!.n > 0) return;
    await new Promise((r) => setImmediate(r));
  }
}

describe("PostgreSQL optimistic chain tip", () => {
  let url: string;
  let a: PostgresStore;
  let b: PostgresStore;

  beforeAll(async () => {
    url = await freshDatabase();
    // Two batches in flight on A, so that they overlap.
    a = await PostgresStore.open({ url, applicationName: "tip-a", optimisticTip: true, pipeline: 2 });
    b = await PostgresStore.open({ url, applicationName: "tip-b", optimisticTip: true });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  it("runs a batch again with the tip locked when another replica appended between its read and its write, and loses nothing", async () => {
    const head = (await a.head())?.position ?? 0;
    const moves = a.tipMoves;
    const seen: number[] = [];
    const off = a.onCommit((events) => seen.push(...events.map((e) => e.position)));
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let tipTaken!: () => void;
    const taken = new Promise<void>((r) => (tipTaken = r));
    // B appends (taking the tip) and keeps its transaction open until A's write waits for the tip.
    const fromB = b.transact(async (tx) => {
      const out = await tx.append("subject:moved-b", 0, [grant("moved-b")]);
      tipTaken();
      await held;
      return out;
    });
    await taken;
    // A reads the tip as committed (before B's append), links after it and writes: the write waits for B.
    const fromA = a.append("subject:moved-a", 0, [grant("moved-a")]);
    await waitsForLock(a, "tip-a");
    release();
    const [bEvents, aEvents] = await Promise.all([fromB, fromA]);
    expect(bEvents[0]!.position).toBe(head + 1);
    expect(aEvents[0]!.position).toBe(head + 2);
    expect(aEvents[0]!.prevHash).toBe(bEvents[0]!.hash);
    expect(a.tipMoves - moves).toBe(1);
    const stored = await a.readAll(head, 100);
    expect(stored.map((e) => [e.position, e.streamId])).toEqual([
      [head + 1, "subject:moved-b"],
      [head + 2, "subject:moved-a"],
    ]);
    expect(stored[1]).toEqual(aEvents[0]);
    expect((await a.verify()).ok).toBe(true);
    // A's listeners saw both, each once and in order (B's read from the log, A's handed over or read).
    await a.append("subject:moved-a2", 0, [grant("moved-a2")]);
    off();
    expect(seen.filter((p) => p > head)).toEqual([head + 1, head + 2, head + 3]);
  });

  it("keeps positions dense, the chain whole and every event delivered once while batches overlap, with a second replica appending too", { timeout: 120_000 }, async () => {
    const head = (await a.head())?.position ?? 0;
    const seenA: LedgerEvent[] = [];
    const seenB: LedgerEvent[] = [];
    const offA = a.onCommit((events) => seenA.push(...events));
    const offB = b.onCommit((events) => seenB.push(...events));
    const commits = a.commitCount;
    const writer = async (store: PostgresStore, w: number) => {
      const out: LedgerEvent[] = [];
      for (let i = 0; i < 12; i++) out.push(...(await store.append(`subject:ov-${w}-${i}`, 0, [grant(`ov-${w}-${i}`)])));
      return out;
    };
    // 24 writers on A (its batches overlap), 4 on B.
    const written = (await Promise.all([...Array.from({ length: 24 }, (_, w) => writer(a, w)), ...Array.from({ length: 4 }, (_, w) => writer(b, 100 + w))])).flat();
    const total = 28 * 12;
    // Group commit still groups: fewer transactions on A than its appends.
    expect(a.commitCount - commits).toBeLessThan(24 * 12);
    const stored = await a.readAll(head, 10_000);
    expect(stored.map((e) => e.position)).toEqual(Array.from({ length: total }, (_, i) => head + i + 1));
    // What each append answered is what the log holds.
    const byPosition = new Map(stored.map((e) => [e.position, e]));
    for (const e of written) expect(byPosition.get(e.position)).toEqual(e);
    expect((await b.verify()).ok).toBe(true);
    // Every event reached both replicas' listeners once, in order, as stored.
    await a.append("subject:ov-last", 0, [grant("ov-last")]);
    await b.append("subject:ov-last-b", 0, [grant("ov-last-b")]);
    offA();
    offB();
    for (const seen of [seenA, seenB]) expect(seen.filter((e) => e.position > head && e.position <= head + total)).toEqual(stored);
  });
});
