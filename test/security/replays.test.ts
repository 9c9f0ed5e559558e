// Finding 1 of the third review: consentChanged replays from position 0 must not recompute a version's
// coming into effect for every subject on every replay, nor on the event loop in one piece.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { ConsentChangeFact } from "../../src/feed/consent-changes.js";
import { ChangeFeed } from "../../src/feed/change-feed.js";
import { decodeFeedCursor, encodeChangeCursor } from "../../src/feed/feed-cursor.js";
import type { Ledger } from "../../src/ledger.js";
import { MAX_REMEMBERED_EFFECTS } from "../../src/feed/consent-changes.js";
import { OFFICER, TestClock, ledgerWithCatalog, secondVersion, subjectActor } from "../support/ledger-commands.js";

const SUBJECTS = 120;
const FROM_ZERO = decodeFeedCursor("0000000000000000", true);
const ids = Array.from({ length: SUBJECTS }, (_, i) => `r-${String(i).padStart(4, "0")}`);

let ledger: Ledger;
let clock: TestClock;
let feed: ChangeFeed;
/** The position of the seed catalogue's publication and of the second version's. */
let seedPosition: number;
let effectPosition: number;

const consent = (subjectId: string, c: { accept?: boolean; grant?: string[]; withdraw?: string[] }) =>
  ledger.recordConsent(
    subjectId,
    { policyId: null, policyVersion: 1, acceptPolicy: c.accept ?? false, grant: c.grant ?? [], withdraw: c.withdraw ?? [], occurredAt: null, evidence: null, expectedVersion: null },
    subjectActor(subjectId),
  );

beforeEach(async () => {
  ({ ledger, clock } = await ledgerWithCatalog(new TestClock()));
  seedPosition = (await ledger.events(0, 1))[0]!.position;
  for (const id of ids) await consent(id, { accept: true, grant: ["location"] });
  clock.advance(1_000);
  // A version in effect as it is published changes every subject who had accepted the policy.
  await ledger.publishPolicyVersion(secondVersion(ledger, false, clock.now()), OFFICER);
  effectPosition = ledger.headPosition;
  feed = new ChangeFeed(ledger, { maxReplaysPerCaller: 2 });
});
afterEach(async () => {
  feed.close();
  await ledger.close();
  vi.restoreAllMocks();
});

/** A withdrawal of location by `subjectId`, recorded after the subscription started: its change marks the end of what to read. */
const marker = async (subjectId: string): Promise<number> => (await consent(subjectId, { withdraw: ["location"] })).events.at(-1)!.position;

/** Reads a subscription until the marker's change shows up (so nothing is timed); the changes before it. */
async function readThroughMarker(sub: AsyncIterableIterator<ConsentChangeFact>, markerPosition: Promise<number>): Promise<ConsentChangeFact[]> {
  const got: ConsentChangeFact[] = [];
  const until = await markerPosition;
  for (;;) {
    const { value, done } = await sub.next();
    if (done) throw new Error("the subscription ended");
    if (value.event.position === until) return got;
    got.push(value);
  }
}

describe("finding 1: consentChanged replays from position 0", () => {
  it("a subject's replay reads no other subject for the seed catalogue's publication (nobody had accepted it yet)", async () => {
    const spy = vi.spyOn(ledger, "viewThrough");
    const me = ids[7]!;
    const sub = feed.consentChanges({ subjectId: me, policyId: null, purposeIds: null }, FROM_ZERO, me);
    const got = await readThroughMarker(sub, marker(me));
    await sub.return!();
    expect(got.length).toBeGreaterThan(0);
    expect(got.every((c) => c.subjectId === me)).toBe(true);
    const readAtSeed = spy.mock.calls.filter(([, position]) => position === seedPosition).map(([id]) => id);
    expect(readAtSeed).toEqual([]);
  });

  it("twenty replays of a version's coming into effect compute it once, with the cursors an all-subjects subscriber sees", async () => {
    const all = feed.consentChanges({ subjectId: null, policyId: null, purposeIds: null }, FROM_ZERO, "officer");
    const last = ids.at(-1)!;
    const everything = await readThroughMarker(all, marker(last));
    await all.return!();
    const spy = vi.spyOn(ledger, "viewThrough");
    const mine = await Promise.all(
      ids.slice(0, 20).map(async (id) => {
        const sub = feed.consentChanges({ subjectId: id, policyId: null, purposeIds: null }, FROM_ZERO, id);
        const got = await readThroughMarker(sub, marker(id));
        await sub.return!();
        return { id, got };
      }),
    );
    // The effect was computed for the all-subjects replay; no replay reads every subject again.
    expect(spy.mock.calls.filter(([, position]) => position === effectPosition).length).toBeLessThanOrEqual(20);
    const cursorsOf = (cs: ConsentChangeFact[]) => cs.filter((c) => c.event.position === effectPosition).map((c) => encodeChangeCursor(c.event.position, c.index));
    for (const { id, got } of mine) {
      expect(cursorsOf(got).length).toBeGreaterThan(0);
      expect(cursorsOf(got)).toEqual(cursorsOf(everything.filter((c) => c.subjectId === id)));
    }
  });

  it("replays one after another, past more versions in effect than a count-bounded memory would keep, compute each version's effect once", async () => {
    // A policy's life brings many versions into effect; each replay from the start walks them all in order.
    for (let i = 0; i < 11; i++) {
      clock.advance(1_000);
      await ledger.publishPolicyVersion(secondVersion(ledger, false, clock.now()), OFFICER);
    }
    const effects = new Set(await ledger.effectPositions(0, ledger.headPosition));
    // The seed catalogue's publication (nobody had accepted it then) and twelve versions after it.
    expect(effects.size).toBe(13);
    expect(effects.size).toBeLessThan(MAX_REMEMBERED_EFFECTS);
    const spy = vi.spyOn(ledger, "viewThrough");
    for (const id of ids.slice(0, 3)) {
      const sub = feed.consentChanges({ subjectId: id, policyId: null, purposeIds: null }, FROM_ZERO, id);
      const got = await readThroughMarker(sub, marker(id));
      await sub.return!();
      expect(got.every((c) => c.subjectId === id)).toBe(true);
    }
    // Each later effect read every subject of the policy for the first replay; the next two did not read them all again
    // (each replaying subject's own reads are a handful more).
    const everyone = (effects.size - 1) * SUBJECTS;
    const reads = spy.mock.calls.filter(([, position]) => effects.has(position)).length;
    expect(reads).toBeGreaterThanOrEqual(everyone);
    expect(reads).toBeLessThan(everyone + SUBJECTS);
  });

  it("a version coming into effect is computed in steps: other callbacks run between its subjects' reads", async () => {
    let ticks = 0;
    let ticking = true;
    const tick = () => {
      ticks++;
      if (ticking) setImmediate(tick);
    };
    setImmediate(tick);
    const seenAt = new Set<number>();
    const real = ledger.viewThrough.bind(ledger);
    vi.spyOn(ledger, "viewThrough").mockImplementation((id, position) => {
      if (position === effectPosition) seenAt.add(ticks);
      return real(id, position);
    });
    const sub = feed.consentChanges({ subjectId: ids[0]!, policyId: null, purposeIds: null }, FROM_ZERO, ids[0]!);
    await readThroughMarker(sub, marker(ids[0]!));
    await sub.return!();
    ticking = false;
    // 120 subjects read in one piece would all be read within one turn of the loop.
    expect(seenAt.size).toBeGreaterThanOrEqual(4);
  });

  it("one caller's replays are read at most two pages at a time; another caller's replay is not held up by them", async () => {
    let inFlight = 0;
    let most = 0;
    const mine = (args: Parameters<Ledger["events"]>) => args[2]?.subjectId === ids[3];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const real = ledger.events.bind(ledger);
    const spy = vi.spyOn(ledger, "events").mockImplementation(async (...args: Parameters<Ledger["events"]>) => {
      if (!mine(args)) return real(...args);
      inFlight++;
      most = Math.max(most, inFlight);
      try {
        await gate;
        return await real(...args);
      } finally {
        inFlight--;
      }
    });
    const subs = Array.from({ length: 10 }, () => feed.consentChanges({ subjectId: ids[3]!, policyId: null, purposeIds: null }, FROM_ZERO, ids[3]!));
    const pulls = subs.map((s) => s.next());
    await vi.waitFor(() => expect(spy.mock.calls.filter((c) => c[2]?.subjectId === ids[3]).length).toBe(2));
    // Another caller's replay is read and answered while the first caller's two slots are held.
    const other = feed.consentChanges({ subjectId: ids[4]!, policyId: null, purposeIds: null }, FROM_ZERO, ids[4]!);
    expect((await other.next()).value?.subjectId).toBe(ids[4]);
    await other.return!();
    expect(spy.mock.calls.filter((c) => c[2]?.subjectId === ids[3]).length).toBe(2);
    release();
    for (const p of pulls) expect((await p).value?.subjectId).toBe(ids[3]);
    for (const s of subs) await s.return!();
    expect(most).toBe(2);
  });
});
