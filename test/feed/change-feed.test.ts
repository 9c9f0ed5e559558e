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

/** Pulls whatever an iterator has ready without waiting for more. */
async function drain<T>(it: AsyncIterator<T>, max = 10_000): Promise<T[]> {
  const out: T[] = [];
  while (out.length < max) {
    const next = await Promise.race([it.next(), new Promise<"idle">((r) => setTimeout(() => r("idle"), 20))]);
    if (next === "idle" || next.done) break;
    out.push(next.value);
  }
  return out;
}

describe("ChangeFeed", () => {
  it("replays exactly what it delivered live, cursors included", async () => {
    const clock = new TestClock();
    ({ ledger } = await ledgerWithCatalog(clock));
    const feed = new ChangeFeed(ledger);
    const live = feed.consentChanges({ subjectId: null, policyId: null, purposeIds: null }, ZERO);
    const liveItems = drain(live, 0); // start it: it replays the (empty) history and goes live
    await liveItems;
    const writes: Promise<unknown>[] = [];
    for (const s of ["alice", "bob", "carol"]) writes.push(consent(ledger, s, { accept: true, grant: ["location"] }));
    await Promise.all(writes);
    clock.advance(DAY_MS);
    await Promise.all([consent(ledger, "alice", { withdraw: ["location", "access-analytics"] }), ledger.suspendProcessing("bob", null, OFFICER)]);
    await ledger.leaveService("carol", OFFICER);
    await ledger.resumeProcessing("bob", OFFICER);
    const delivered = await drain(live);
    const replayed = await drain(feed.consentChanges({ subjectId: null, policyId: null, purposeIds: null }, ZERO));
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
    const all = await drain(feed.consentChanges({ subjectId: "alice", policyId: null, purposeIds: null }, ZERO));
    const suspension = all.filter((c) => c.event.type === "ProcessingSuspended");
    expect(suspension.length).toBeGreaterThan(2);
    const cut = all.indexOf(suspension[1]!);
    const [position, index] = cursorOf(suspension[1]!).split("-").map(Number) as [number, number];
    const rest = await drain(feed.consentChanges({ subjectId: "alice", policyId: null, purposeIds: null }, { position, index }));
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
    const auditor = { subject: "auditor", scopes: new Set(["ledger:read"]), expiresAt: null };
    for (const [i, s] of subs.entries()) {
      const items = await drain<LedgerEvent | ConsentChangeFact>(s);
      expect(items.length).toBeGreaterThan(0);
      for (const item of items) {
        const event = i % 2 === 0 ? (item as LedgerEvent) : (item as ConsentChangeFact).event;
        await presentEventData(ledger, presentOnce(event), auditor);
      }
    }
    // The state just before and just after each event, read once for all 25 consent subscribers.
    expect(viewThrough).toHaveBeenCalledTimes(2 * events.length);
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
