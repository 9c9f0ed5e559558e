// When a PostgreSQL replica's view may answer from memory, decided without a database: a stand-in for
// the store's change feed (its delivered position, its lag, its deliveries) drives the view, and every
// load counts as a read of the database. The replicas themselves: replica-view.test.ts.
import { describe, expect, it } from "vitest";
import type { LedgerEvent } from "../../../src/domain/events.js";
import { initialSubject } from "../../../src/domain/subject.js";
import type { PostgresStore } from "../../../src/storage/postgres/postgres-store.js";
import { PgSubjectViews } from "../../../src/storage/postgres/subject-view-feed.js";

class FakeFeed {
  delivered = 10;
  lagMs = 0;
  private listener: ((events: readonly LedgerEvent[]) => void) | null = null;
  feedPosition = () => this.delivered;
  feedLagMs = () => this.lagMs;
  onCommit = (l: (events: readonly LedgerEvent[]) => void) => {
    this.listener = l;
    return () => (this.listener = null);
  };
  /** Delivers events at these positions, naming these subjects, as the change feed does. */
  deliver(from: number, subjects: readonly string[]): void {
    const events = subjects.map((subjectId, i) => ({ position: from + i, subjectId }) as LedgerEvent);
    this.delivered = from + subjects.length - 1;
    this.listener?.(events);
  }
}

const BOUND = 1_000;

function setUp() {
  const feed = new FakeFeed();
  const views = new PgSubjectViews(feed as unknown as PostgresStore, 1_048_576, BOUND);
  let loads = 0;
  let granted = true;
  const load = async () => {
    loads++;
    return { view: { ...initialSubject("x"), status: granted ? ("ACTIVE" as const) : ("ERASED" as const) }, until: Number.POSITIVE_INFINITY };
  };
  const read = async (id = "x") => (await views.currentView(id, 1_000, load)).status;
  return { feed, views, read, loads: () => loads, set: (g: boolean) => (granted = g), load };
}

describe("a PostgreSQL replica's view, against its change feed", () => {
  it("answers from memory while the feed is current, and drops a subject the feed or this replica's own write names", async () => {
    const t = setUp();
    expect(await t.read()).toBe("ACTIVE");
    expect(await t.read()).toBe("ACTIVE");
    expect(t.loads()).toBe(1);
    t.set(false);
    // Another subject's commit leaves this one in memory.
    t.feed.deliver(11, ["y"]);
    expect(await t.read()).toBe("ACTIVE");
    expect(t.loads()).toBe(1);
    t.feed.deliver(12, ["x"]);
    expect(await t.read()).toBe("ERASED");
    expect(t.loads()).toBe(2);
    t.set(true);
    t.views.wrote([{ position: 13, subjectId: "x" } as LedgerEvent]);
    expect(await t.read()).toBe("ACTIVE");
    expect(t.loads()).toBe(3);
    expect(t.views.stats().position).toBe(12);
  });

  it("goes to the database while the feed is behind past the bound or disconnected, and keeps what it read there", async () => {
    const t = setUp();
    await t.read();
    t.feed.lagMs = BOUND + 1;
    t.set(false);
    expect(await t.read()).toBe("ERASED");
    expect(t.views.stats()).toMatchObject({ serving: false, bypasses: 1 });
    t.feed.lagMs = Number.POSITIVE_INFINITY;
    expect(await t.read()).toBe("ERASED");
    t.feed.lagMs = BOUND;
    expect(await t.read()).toBe("ERASED");
    expect(t.loads()).toBe(3);
    expect(t.views.stats()).toMatchObject({ serving: true, bypasses: 2 });
  });

  it("goes to the database until the feed has delivered every head this replica read, and after a gap in what it delivered", async () => {
    const t = setUp();
    await t.read();
    // This replica reported head 12 (at start its applied position begins there); the feed is at 10.
    t.views.headRead(12);
    expect(t.views.stats().serving).toBe(false);
    await t.read();
    expect(t.loads()).toBe(2);
    t.feed.deliver(11, ["y", "z"]);
    expect(t.views.stats().serving).toBe(true);
    await t.read();
    expect(t.loads()).toBe(2);
    // A delivery that does not continue the last (never made by the feed): memory stops answering.
    t.feed.deliver(20, ["y"]);
    expect(t.views.stats().serving).toBe(false);
    await t.read();
    expect(t.loads()).toBe(3);
  });

  it("does not keep a value read while the feed dropped its subject", async () => {
    const t = setUp();
    let finish: () => void = () => undefined;
    // A read of the database that began before the feed delivered a commit of its subject, and ends after.
    const slow = t.views.currentView("x", 1_000, () => new Promise((resolve) => (finish = () => resolve({ view: initialSubject("x"), until: Number.POSITIVE_INFINITY }))));
    t.feed.deliver(11, ["x"]);
    finish();
    await slow;
    await t.read();
    expect(t.loads()).toBe(1);
  });
});
