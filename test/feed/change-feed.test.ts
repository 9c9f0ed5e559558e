// The change feed without a network: replay equals live, cursors inside an event, decode-once fan-out, bounded queues.
import { afterEach, describe, expect, it, vi } from "vitest";
import { DAY_MS } from "../../src/domain/time.js";
import type { Ledger } from "../../src/ledger.js";
import { ChangeFeed } from "../../src/feed/change-feed.js";
import type { ConsentChangeFact } from "../../src/feed/consent-changes.js";
import { encodeChangeCursor } from "../../src/feed/feed-cursor.js";
import { presentEventData, presentOnce } from "../../src/graphql/present.js";
import type { LedgerEvent } from "../../src/domain/events.js";
import { OFFICER, TestClock, ledgerWithCatalog, subjectActor } from "../support/ledger-commands.js";
import { eventually } from "../support/common.js";

const ZERO = { position: 0, index: Number.POSITIVE_INFINITY };
const cursorOf = (c: ConsentChangeFact) => encodeChangeCursor(c.event.position, c.index);

let ledger: Ledger;
afterEach(async () => {
  await ledger?.close();
});

const consent = (l: Ledger, subjectId: string, c: { accept?: boolean; grant?: string[]; withdraw?: string[] }) =>
  l.recordConsent(
    subjectId,
    { policyId: null, policyVersion: 1, acceptPolicy: c.accept ?? false, grant: c.grant ?? [], withdraw: c.withdraw ?? [], occurredAt: null, evidence: null, expectedVersion: null },
    subjectActor(subjectId),
  );

/**
 * Pulls items until one at or past `position` arrives (a sentinel event written after the scenario):
 * the feed is ordered, so everything before the sentinel has arrived by then, and nothing is waited
 * for by time. Returns the items before the sentinel's position.
 */
async function drainTo<T>(it: AsyncIterator<T>, position: number, positionOf: (item: T) => number): Promise<T[]> {
  const out: T[] = [];
  for (;;) {
    const next = await it.next();
    if (next.done) throw new Error(`the feed ended before position ${position}`);
    if (positionOf(next.value) >= position) return out;
    out.push(next.value);
  }
}
const changeAt = (c: ConsentChangeFact) => c.event.position;
/** A later event that changes a subject's consent: the end of what a test drains. */
const sentinel = async (l: Ledger, subjectId = "sentinel") => (await consent(l, subjectId, { accept: true, grant: ["location"] })).events[0]!.position;

describe("ChangeFeed", () => {
  it("replays exactly what it delivered live, cursors included", async () => {
    const clock = new TestClock();
    ({ ledger } = await ledgerWithCatalog(clock));
    const feed = new ChangeFeed(ledger);
    const live = feed.consentChanges({ subjectId: null, policyId: null, purposeIds: null }, ZERO);
    // Asked for its first item now: it replays the (empty) log, then takes what is committed.
    const first = live.next();
    const writes: Promise<unknown>[] = [];
    for (const s of ["alice", "bob", "carol"]) writes.push(consent(ledger, s, { accept: true, grant: ["location"] }));
    await Promise.all(writes);
    clock.advance(DAY_MS);
    await Promise.all([consent(ledger, "alice", { withdraw: ["location", "access-analytics"] }), ledger.suspendProcessing("bob", null, OFFICER)]);
    await ledger.leaveService("carol", OFFICER);
    await ledger.resumeProcessing("bob", OFFICER);
    const end = await sentinel(ledger);
    const head = await first;
    const delivered = head.done || changeAt(head.value) >= end ? [] : [head.value, ...(await drainTo(live, end, changeAt))];
    const replayed = await drainTo(feed.consentChanges({ subjectId: null, policyId: null, purposeIds: null }, ZERO), end, changeAt);
    expect(delivered.length).toBeGreaterThan(10);
    expect(replayed).toEqual(delivered);
    expect(delivered.map(cursorOf)).toEqual([...delivered.map(cursorOf)].sort());
    const aliceWithdrawal = delivered.filter((c) => c.subjectId === "alice" && c.event.type === "ConsentWithdrawn");
    expect(aliceWithdrawal.map((c) => [c.current.purposeId, c.previous?.status ?? null, c.current.status, c.current.permitted])).toEqual([
      ["location", "GRANTED", "WITHDRAWN", false],
      ["access-analytics", "NOT_ASKED", "WITHDRAWN", false],
    ]);
    feed.close();
  });

  it("resumes from a cursor inside an event, skipping exactly the changes already seen", async () => {
    ({ ledger } = await ledgerWithCatalog());
    const feed = new ChangeFeed(ledger);
    await consent(ledger, "alice", { accept: true });
    await ledger.suspendProcessing("alice", null, OFFICER);
    const end = await sentinel(ledger, "alice");
    const all = await drainTo(feed.consentChanges({ subjectId: "alice", policyId: null, purposeIds: null }, ZERO), end, changeAt);
    const suspension = all.filter((c) => c.event.type === "ProcessingSuspended");
    expect(suspension.length).toBeGreaterThan(2);
    const cut = all.indexOf(suspension[1]!);
    const [position, index] = cursorOf(suspension[1]!).split("-").map(Number) as [number, number];
    const rest = await drainTo(feed.consentChanges({ subjectId: "alice", policyId: null, purposeIds: null }, { position, index }), end, changeAt);
    expect(rest).toEqual(all.slice(cut + 1));
    feed.close();
  });

  it("diffs and decodes each committed event once, however many subscribers follow it and read its data", async () => {
    ({ ledger } = await ledgerWithCatalog());
    const feed = new ChangeFeed(ledger);
    const subs = Array.from({ length: 50 }, (_, i) =>
      i % 2 === 0 ? feed.ledgerEvents({ types: null }, null) : feed.consentChanges({ subjectId: null, policyId: null, purposeIds: null }, null),
    );
    const viewThrough = vi.spyOn(ledger, "viewThrough");
    const reveal = vi.spyOn(ledger, "reveal");
    const events = (await consent(ledger, "alice", { accept: true, grant: ["location"] })).events;
    const end = await sentinel(ledger);
    const sentinelEvents = ledger.headPosition - end + 1;
    const auditor = { subject: "auditor", scopes: new Set(["ledger:read"]), expiresAt: null };
    for (const [i, s] of subs.entries()) {
      const items = await drainTo<LedgerEvent | ConsentChangeFact>(s, end, (item) => (i % 2 === 0 ? (item as LedgerEvent).position : (item as ConsentChangeFact).event.position));
      expect(items.length).toBeGreaterThan(0);
      for (const item of items) {
        const event = i % 2 === 0 ? (item as LedgerEvent) : (item as ConsentChangeFact).event;
        await presentEventData(ledger, presentOnce(event), auditor);
      }
    }
    // The state just before and just after each event, read once for all 25 consent subscribers.
    expect(viewThrough).toHaveBeenCalledTimes(2 * (events.length + sentinelEvents));
    // Each event's evidence opened once for all 50 subscribers.
    expect(reveal).toHaveBeenCalledTimes(events.length);
    feed.close();
  });

  it("ends a subscriber that falls more than its queue behind, and only that one", async () => {
    ({ ledger } = await ledgerWithCatalog());
    const feed = new ChangeFeed(ledger, { maxQueue: 5 });
    const slow = feed.ledgerEvents({ types: null }, null);
    const fast = feed.ledgerEvents({ types: null }, null);
    const fastSeen: unknown[] = [];
    const pump = (async () => {
      for await (const e of fast) fastSeen.push(e);
    })();
    for (let i = 0; i < 8; i++) await consent(ledger, `s${i}`, { accept: true });
    await eventually("the fast reader's eight events", () => fastSeen.length >= 8);
    expect(fastSeen).toHaveLength(8);
    const got: unknown[] = [];
    await expect(
      (async () => {
        for await (const e of slow) got.push(e);
      })(),
    ).rejects.toMatchObject({ code: "SLOW_SUBSCRIBER" });
    expect(got).toHaveLength(5); // what was queued before the overflow is still delivered
    expect(feed.size).toBe(1);
    feed.close();
    await pump; // close() ends the rest cleanly
    expect(feed.size).toBe(0);
  });
});
