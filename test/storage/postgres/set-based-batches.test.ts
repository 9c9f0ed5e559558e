// Set-based group commit on PostgreSQL: the commands of one batch run in lockstep, a handful of
// statements for the whole batch. A command that fails is left out and only its caller hears of
// it; two commands of one batch on one subject see each other in order; what a command answers
// is what the read models then hold; and the batch costs well under one round trip per command.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { commandProgram } from "../../../src/application/handle-command.js";
import type { PublishCommand, RecordConsentCommand } from "../../../src/domain/decide.js";
import type { Actor } from "../../../src/domain/events.js";
import { foldSubject } from "../../../src/domain/subject.js";
import type { CommandOutcome, IdempotencyKey } from "../../../src/storage/storage-port.js";
import { PostgresStorage } from "../../../src/storage/postgres/postgres-storage.js";
import { P, day } from "../../domain/fixtures.js";
import { freshDatabase } from "../../support/postgres.js";

const OFFICER: Actor = { kind: "OFFICER", id: "officer" };
const subject = (id: string): Actor => ({ kind: "SUBJECT", id });

const policy: PublishCommand = {
  policyId: "base",
  title: "base v1",
  overrides: null,
  effectiveAt: day(0),
  requiresConsent: true,
  documentUrl: null,
  digest: "1".repeat(64),
  changeSummary: null,
  purposes: Object.values(P),
};

const cmd = (over: Partial<RecordConsentCommand>): RecordConsentCommand => ({
  policyId: "base",
  policyVersion: 1,
  acceptPolicy: false,
  grant: [],
  withdraw: [],
  occurredAt: day(1),
  evidence: null,
  expectedVersion: null,
  ...over,
});

const outcome = (p: Promise<CommandOutcome>) =>
  p.then(
    () => "ok",
    (e: { code?: string }) => e.code ?? String(e),
  );

describe("PostgreSQL set-based batches", () => {
  let a: PostgresStorage;
  let one: PostgresStorage;
  const now = day(1);
  let run = 0;

  beforeAll(async () => {
    const url = await freshDatabase();
    a = await PostgresStorage.open({ url, clock: () => now, commands: commandProgram, maxTipHoldMs: 60_000 });
    // The same ledger with each command in its own savepoint: the baseline for round trips.
    one = await PostgresStorage.open({ url, clock: () => now, commands: commandProgram, maxTipHoldMs: 60_000, setBasedBatches: false });
    await a.execute({ command: { kind: "publishPolicyVersion", input: policy }, actor: OFFICER, now: day(-1) });
  });
  afterAll(async () => {
    await a?.close();
    await one?.close();
  });

  const record = (s: PostgresStorage, id: string, c: RecordConsentCommand, idempotency: IdempotencyKey | null = null) =>
    s.execute({ command: { kind: "recordConsent", subjectId: id, input: c }, actor: subject(id), now, idempotency });

  /** Runs `calls` as one batch: queued while a first command (run alone) holds the store. */
  async function inOneBatch<T>(s: PostgresStorage, calls: () => Promise<T>[]): Promise<{ results: T[]; commits: number; fallbacks: number }> {
    const commits = s.store.commitCount;
    const fallbacks = s.store.writeRoundTrips.fallbacks;
    const blocker = record(s, `blocker-${run++}`, cmd({ acceptPolicy: true }));
    const results = await Promise.all(calls());
    await blocker;
    return { results, commits: s.store.commitCount - commits, fallbacks: s.store.writeRoundTrips.fallbacks - fallbacks };
  }

  it("commits the commands of a batch around one that fails, which alone answers its error", async () => {
    const head = (await a.head())?.position ?? 0;
    const ids = Array.from({ length: 8 }, (_, i) => `fail-${i}`);
    const { results, commits, fallbacks } = await inOneBatch(a, () =>
      // The fourth names a version the policy does not have.
      ids.map((id, i) => outcome(record(a, id, cmd({ acceptPolicy: true, grant: ["analytics"], policyVersion: i === 3 ? 9 : 1 })))),
    );
    expect(results.filter((r) => r === "ok")).toHaveLength(7);
    expect(results[3]).not.toBe("ok");
    expect(commits).toBe(2);
    expect(fallbacks).toBe(0);
    const events = await a.readAll(head, 1000);
    // Dense positions, one chain, nothing of the failed command.
    expect(events.map((e) => e.position)).toEqual(events.map((_, i) => head + i + 1));
    expect(events.some((e) => e.subjectId === ids[3])).toBe(false);
    expect(await a.readStream(`subject:${ids[3]}`)).toEqual([]);
    expect((await a.subject(ids[3]!)).version).toBe(0);
    expect(await a.evidenceKey(ids[3]!)).toBeNull();
    for (const id of ids.filter((_, i) => i !== 3)) expect((await a.readStream(`subject:${id}`)).map((e) => e.type)).toEqual(["PolicyAccepted", "ConsentGranted"]);
    expect((await a.verify()).ok).toBe(true);
    // The failed subject's stream is still new: a command expecting version 0 succeeds.
    expect(await outcome(record(a, ids[3]!, cmd({ acceptPolicy: true, expectedVersion: 0 })))).toBe("ok");
  });

  it("runs two commands of one batch on one subject in order, the second seeing the first", async () => {
    const id = `twice-${run}`;
    const { results, commits, fallbacks } = await inOneBatch<unknown>(a, () => [
      record(a, id, cmd({ acceptPolicy: true, grant: ["analytics"], expectedVersion: 0 })),
      record(a, `other-${run}`, cmd({ acceptPolicy: true, grant: ["ads"] })),
      // Decided against the first one's events: version 2, and the grant it withdraws is there.
      record(a, id, cmd({ withdraw: ["analytics"], expectedVersion: 2, occurredAt: day(1) + 1 })),
      // Expects the subject as it was before either: refused.
      record(a, id, cmd({ grant: ["ads"], expectedVersion: 0 })).then(
        () => null,
        (e: { code?: string }) => e.code ?? null,
      ),
    ]);
    expect(commits).toBe(2);
    expect(fallbacks).toBe(0);
    const [first, , second, third] = results as [CommandOutcome, CommandOutcome, CommandOutcome, string | null];
    expect(third).toBe("VERSION_CONFLICT");
    expect(first.events.map((e) => e.streamVersion)).toEqual([1, 2]);
    expect(second.events.map((e) => [e.type, e.streamVersion])).toEqual([["ConsentWithdrawn", 3]]);
    expect(second.events[0]!.position).toBeGreaterThan(first.events[1]!.position);
    expect(second.subject?.consents.get(`base\u0000analytics`)?.granted).toBe(false);
    // What each command answered is what the read models hold, and the fold of the stream.
    const stored = await a.subject(id);
    expect(second.subject).toEqual(stored);
    expect(stored).toEqual(foldSubject(id, await a.readStream(`subject:${id}`)));
    expect((await a.verify()).ok).toBe(true);
  });

  it("replays an idempotency key used earlier in the same batch, and refuses it with other input", async () => {
    const id = `idem-${run}`;
    const key = { key: `k-${run}`, requestHash: "h1" };
    const { results, fallbacks } = await inOneBatch<unknown>(a, () => [
      record(a, id, cmd({ acceptPolicy: true, grant: ["analytics"] }), key),
      record(a, id, cmd({ acceptPolicy: true, grant: ["analytics"] }), key),
      record(a, id, cmd({ acceptPolicy: true, grant: ["ads"] }), { ...key, requestHash: "h2" }).then(
        (r) => r,
        (e: { code: string }) => e.code,
      ),
    ]);
    expect(fallbacks).toBe(0);
    const [first, again, other] = results as [CommandOutcome, CommandOutcome, string];
    expect(again.replayed).toBe(true);
    expect(again.events).toEqual(first.events);
    expect(again.subject).toEqual(first.subject);
    expect(other).toBe("IDEMPOTENCY_CONFLICT");
    expect(await a.readStream(`subject:${id}`)).toHaveLength(2);
  });

  it("seals evidence under one key per subject and erases in a batch, the others untouched", async () => {
    const ids = [`seal-${run}-a`, `seal-${run}-b`];
    const evidence = { channel: "web", ipAddress: "192.0.2.7" };
    await inOneBatch(a, () => ids.map((id) => record(a, id, cmd({ acceptPolicy: true, evidence }))));
    for (const id of ids) expect(await a.evidenceKey(id)).toHaveLength(32);
    const { results, fallbacks } = await inOneBatch(a, () => [
      a.execute({ command: { kind: "eraseSubject", subjectId: ids[0]!, reason: "asked" }, actor: OFFICER, now }),
      record(a, ids[1]!, cmd({ grant: ["analytics"], evidence })),
    ]);
    expect(fallbacks).toBe(0);
    expect(results[0]!.subject?.status).toBe("ERASED");
    expect(await a.evidenceKey(ids[0]!)).toBeNull();
    expect(await a.evidenceKey(ids[1]!)).toHaveLength(32);
    const accepted = (await a.readStream(`subject:${ids[1]}`))[0]!;
    expect(JSON.stringify(accepted.data)).not.toContain("192.0.2.7");
    expect(results[1]!.subject).toEqual(await a.subject(ids[1]!));
  });

  it("costs at most one round trip per command at 16 commands a batch, where one savepoint each costs several", async () => {
    const cost = async (s: PostgresStorage) => {
      const before = s.store.writeRoundTrips;
      const { fallbacks } = await inOneBatch(s, () => Array.from({ length: 16 }, (_, i) => record(s, `rt-${run}-${i}`, cmd({ acceptPolicy: true, grant: ["analytics"] }))));
      run++;
      const after = s.store.writeRoundTrips;
      expect(fallbacks).toBe(0);
      expect(after.committed - before.committed).toBe(17);
      return (after.roundTrips - before.roundTrips) / (after.committed - before.committed);
    };
    const setBased = await cost(a);
    const oneByOne = await cost(one);
    // The blocker alone and the batch of 16, counted together.
    expect(setBased).toBeLessThanOrEqual(1);
    expect(oneByOne).toBeGreaterThanOrEqual(4);
  });
});
