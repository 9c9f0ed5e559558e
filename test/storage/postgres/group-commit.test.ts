// Group commit on PostgreSQL: the works queued on one replica share one transaction, each in its
// own savepoint. A work that throws rolls back alone (the chain tip it moved included), a failed
// COMMIT fails every work of its batch, and replicas racing on the same subjects lose nothing.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LedgerEvent } from "../../../src/domain/events.js";
import type { NewEvent } from "../../../src/storage/event-store.js";
import { PostgresStore } from "../../../src/storage/postgres/postgres-store.js";
import { freshDatabase } from "../../support/postgres.js";

const grant = (subjectId: string, purposeId = "analytics"): NewEvent => ({
  type: "ConsentGranted",
  data: { policyId: "p", version: 1, purposeId, expiresAt: null },
  occurredAt: 1_700_000_000_000,
  actor: { kind: "SUBJECT", id: subjectId },
  subjectId,
});

const outcome = (p: Promise<unknown>) => p.then(() => "ok", (e: { code?: string }) => e.code ?? String(e));
const positionsAfter = async (store: PostgresStore, after: number) => (await store.readAll(after, 10_000)).map((e) => e.position);
const headOf = async (store: PostgresStore) => (await store.head())?.position ?? 0;

describe("PostgreSQL group commit", () => {
  let url: string;
  let a: PostgresStore;
  let b: PostgresStore;

  beforeAll(async () => {
    url = await freshDatabase();
    // No time cap on holding the tip: each test below knows which works share a batch.
    a = await PostgresStore.open({ url, applicationName: "replica-a", maxTipHoldMs: 60_000 });
    b = await PostgresStore.open({ url, applicationName: "replica-b", maxTipHoldMs: 60_000 });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  it("commits concurrent appends on one replica in fewer transactions than appends, positions dense and the chain whole", async () => {
    const head = await headOf(a);
    const commits = a.commitCount;
    const out = await Promise.all(Array.from({ length: 32 }, (_, i) => a.append(`subject:g${i}`, 0, [grant(`g${i}`)])));
    // The first append runs alone; the 31 queued behind it share the next transaction.
    expect(a.commitCount - commits).toBe(2);
    expect(out.map((es) => es[0]!.streamVersion)).toEqual(Array(32).fill(1));
    expect(out.map((es) => es[0]!.position).sort((x, y) => x - y)).toEqual(Array.from({ length: 32 }, (_, i) => head + i + 1));
    expect(await positionsAfter(a, head)).toHaveLength(32);
    expect((await b.verify()).ok).toBe(true);
  });

  it("rolls back only the work that threw, after it appended, and links the next works to the tip before it", async () => {
    const head = await headOf(a);
    const refuse = (streams: string[]) =>
      a.transact(async (tx) => {
        for (const s of streams) await tx.append(`subject:${s}`, null, [grant(s)]);
        throw new Error("refused after appending");
      });
    const blocker = a.append("subject:r0", 0, [grant("r0")]);
    // Queued behind the blocker, one batch: the first appender throws (its tip lock rolls back too),
    // later a work appends to a stream an earlier work of the batch appended to, then throws.
    const batch = [refuse(["r1"]), a.append("subject:r2", 0, [grant("r2")]), refuse(["r3", "r2"]), a.append("subject:r4", 0, [grant("r4")])];
    const commits = a.commitCount;
    const errors = await Promise.all(batch.map((p) => p.then(() => "ok", (e: Error) => e.message)));
    expect(await outcome(blocker)).toBe("ok");
    expect(errors).toEqual(["refused after appending", "ok", "refused after appending", "ok"]);
    expect(a.commitCount - commits).toBe(2);
    const events = await a.readAll(head, 100);
    expect(events.map((e) => [e.position, e.streamId])).toEqual([
      [head + 1, "subject:r0"],
      [head + 2, "subject:r2"],
      [head + 3, "subject:r4"],
    ]);
    expect(events[1]!.prevHash).toBe(events[0]!.hash);
    expect(events[2]!.prevHash).toBe(events[1]!.hash);
    // The rolled-back works left no stream head behind: version 0 is still the one to expect.
    expect(await outcome(a.append("subject:r1", 0, [grant("r1")]))).toBe("ok");
    expect(await outcome(a.append("subject:r3", 0, [grant("r3")]))).toBe("ok");
    expect((await a.readStream("subject:r2")).map((e) => e.streamVersion)).toEqual([1]);
    expect((await b.verify()).ok).toBe(true);
  });

  it("lets one of the works racing on one version in a batch win; the others answer VERSION_CONFLICT", async () => {
    const blocker = a.append("subject:same-0", 0, [grant("same-0")]);
    const results = await Promise.all(Array.from({ length: 6 }, () => outcome(a.append("subject:same", 0, [grant("same")]))));
    await blocker;
    expect(results).toEqual(["ok", "VERSION_CONFLICT", "VERSION_CONFLICT", "VERSION_CONFLICT", "VERSION_CONFLICT", "VERSION_CONFLICT"]);
    expect(await a.readStream("subject:same")).toHaveLength(1);
  });

  it("fails every work of a batch whose COMMIT fails, and records none of them", async () => {
    // A deferred constraint trigger refuses, at COMMIT, a transaction that appended to subject:poison.
    await a.pool.query(`CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.stream_id = 'subject:poison' THEN RAISE EXCEPTION 'poisoned commit'; END IF; RETURN NULL; END $$`);
    await a.pool.query("CREATE CONSTRAINT TRIGGER refuse_poison AFTER INSERT ON events DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION refuse_poison()");
    try {
      const head = await headOf(a);
      const blocker = a.append("subject:p0", 0, [grant("p0")]);
      const batch = [a.append("subject:p1", 0, [grant("p1")]), a.append("subject:poison", 0, [grant("poison")]), a.append("subject:p2", 0, [grant("p2")])];
      expect(await Promise.all(batch.map((p) => p.then(() => "ok", (e: Error) => e.message)))).toEqual(["poisoned commit", "poisoned commit", "poisoned commit"]);
      expect(await outcome(blocker)).toBe("ok");
      expect(await positionsAfter(a, head)).toEqual([head + 1]);
      for (const s of ["p1", "p2"]) expect(await a.readStream(`subject:${s}`)).toEqual([]);
      // The tip is where the blocker left it: the next append follows it.
      const next = await a.append("subject:p1", 0, [grant("p1")]);
      expect(next[0]!.position).toBe(head + 2);
    } finally {
      await a.pool.query("DROP TRIGGER refuse_poison ON events");
    }
    expect((await b.verify()).ok).toBe(true);
  });

  it("runs a work chosen as a deadlock victim again in the next batch, and both works of the cycle commit", { timeout: 60_000 }, async () => {
    let locked = 0;
    let bothLocked!: () => void;
    const barrier = new Promise<void>((r) => (bothLocked = r));
    let runs = 0;
    // Each locks one stream, waits until the other has locked its own, then wants the other's.
    const crossing = (store: PostgresStore, first: string, second: string) =>
      store.transact(async (tx) => {
        runs++;
        await tx.lockStream(first);
        if (++locked === 2) bothLocked();
        await barrier;
        const out = await tx.append(second, null, [grant(second.slice("subject:".length))]);
        return out.concat(await tx.append(first, null, [grant(first.slice("subject:".length))]));
      });
    const results = await Promise.all([outcome(crossing(a, "subject:dl-x", "subject:dl-y")), outcome(crossing(b, "subject:dl-y", "subject:dl-x"))]);
    expect(results).toEqual(["ok", "ok"]);
    // The victim ran again (more than once if, retried, it met the same cycle while the winner woke).
    expect(runs).toBeGreaterThanOrEqual(3);
    expect((await a.readStream("subject:dl-x")).map((e) => e.streamVersion)).toEqual([1, 2]);
    expect((await a.readStream("subject:dl-y")).map((e) => e.streamVersion)).toEqual([1, 2]);
    expect((await b.verify()).ok).toBe(true);
  });

  it("keeps every acknowledged event and exactly one winner per expected version with two replicas racing on overlapping subjects", { timeout: 120_000 }, async () => {
    const head = await headOf(a);
    const subjects = ["o0", "o1", "o2", "o3", "o4"];
    const acked: LedgerEvent[] = [];
    const refusals: string[] = [];
    const writer = async (store: PostgresStore, w: number) => {
      for (let i = 0; i < 10; i++) {
        const s = subjects[(w + i) % subjects.length]!;
        if (i % 3 === 2) {
          // A command over two subjects locks both (in id order, as merges and transfers do), then appends to each.
          const t = subjects[(w + i + 1) % subjects.length]!;
          const pair = [s, t].sort();
          const out = await store
            .transact(async (tx) => {
              for (const x of pair) await tx.lockStream(`subject:${x}`);
              return [...(await tx.append(`subject:${pair[0]}`, null, [grant(pair[0]!)])), ...(await tx.append(`subject:${pair[1]}`, null, [grant(pair[1]!)]))];
            })
            .catch((e: { code?: string }) => (refusals.push(e.code ?? String(e)), []));
          acked.push(...out);
          continue;
        }
        const version = (await store.readStream(`subject:${s}`)).length;
        const out = await store.append(`subject:${s}`, version, [grant(s)]).catch((e: { code?: string }) => (refusals.push(e.code ?? String(e)), []));
        acked.push(...out);
      }
    };
    await Promise.all(Array.from({ length: 16 }, (_, w) => writer(w % 2 ? a : b, w)));
    // Losers of a version race are told so; no writer is told the store was unavailable.
    expect(refusals.filter((code) => code !== "VERSION_CONFLICT")).toEqual([]);
    const logged = await a.readAll(head, 10_000);
    expect(logged.map((e) => e.position)).toEqual(Array.from({ length: logged.length }, (_, i) => head + i + 1));
    const loggedIds = new Set(logged.map((e) => e.id));
    expect(acked.filter((e) => !loggedIds.has(e.id))).toEqual([]);
    // Nothing in the log that no caller was told of, and each stream version was won once.
    expect(logged.length).toBe(acked.length);
    for (const s of subjects) {
      const versions = acked.filter((e) => e.streamId === `subject:${s}`).map((e) => e.streamVersion);
      expect(versions.sort((x, y) => x - y)).toEqual(Array.from({ length: versions.length }, (_, i) => i + 1));
    }
    expect((await b.verify()).ok).toBe(true);
  });

  it("answers once this replica's listeners have the batch's events, each event delivered once, in order, as stored, while another replica appends", { timeout: 120_000 }, async () => {
    const head = await headOf(a);
    const seenA: LedgerEvent[] = [];
    const seenB: LedgerEvent[] = [];
    const offA = a.onCommit((events) => seenA.push(...events));
    const offB = b.onCommit((events) => seenB.push(...events));
    const writer = async (store: PostgresStore, w: number) => {
      for (let i = 0; i < 8; i++) {
        const [e] = await store.append(`subject:own-${w}-${i}`, 0, [grant(`own-${w}-${i}`)]);
        // Answered only once this replica's listeners have its event.
        expect((store === a ? seenA : seenB).some((x) => x.position === e!.position)).toBe(true);
      }
    };
    await Promise.all([...Array.from({ length: 16 }, (_, w) => writer(a, w)), ...Array.from({ length: 4 }, (_, w) => writer(b, 100 + w))]);
    const stored = await a.readAll(head, 10_000);
    expect(stored).toHaveLength(20 * 8);
    // Another append through each, so that both listeners have seen everything before.
    await a.append("subject:own-last-a", 0, [grant("own-last-a")]);
    await b.append("subject:own-last-b", 0, [grant("own-last-b")]);
    offA();
    offB();
    for (const seen of [seenA, seenB]) expect(seen.filter((e) => e.position > head && e.position <= head + stored.length)).toEqual(stored);
  });
});
