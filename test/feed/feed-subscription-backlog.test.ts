// What counts against a replaying subscriber's queue: only the items it follows.
import { describe, expect, it } from "vitest";
import { FeedSubscription, type FeedItem } from "../../src/feed/feed-subscription.js";

const item = (position: number, kind: string): FeedItem<string> => ({ position, index: 0, value: kind });

/** A subscription from position 0 whose first replay page is held open until the test releases it. */
function replaying(maxQueue: number) {
  let release!: (page: { items: FeedItem<string>[]; scannedTo: number; caughtUp: boolean }) => void;
  let reading!: () => void;
  const readStarted = new Promise<void>((resolve) => (reading = resolve));
  const sub = new FeedSubscription<string>({
    after: { position: 0, index: Number.POSITIVE_INFINITY },
    head: () => 0,
    maxQueue,
    matches: (i) => i.value === "followed",
    replay: () => {
      reading();
      return new Promise((resolve) => (release = resolve));
    },
    onEnd: () => undefined,
  });
  return { sub, readStarted, release: (p: Parameters<typeof release>[0]) => release(p) };
}

describe("a replaying subscriber's backlog", () => {
  it("is not ended by a flood of events it does not follow, committed while a page is read", async () => {
    const { sub, readStarted, release } = replaying(5);
    const first = sub.next();
    await readStarted;
    // Fifty commits of events this subscriber filters out, and two it follows.
    sub.offer(Array.from({ length: 50 }, (_, i) => item(i + 1, "other")));
    sub.offer([item(51, "followed"), item(52, "followed")]);
    release({ items: [], scannedTo: 0, caughtUp: true });
    expect(await first).toEqual({ value: "followed", done: false });
    expect(await sub.next()).toEqual({ value: "followed", done: false });
    await sub.return();
  });

  it("is ended with SLOW_SUBSCRIBER when what it follows passes its queue while a page is read", async () => {
    const { sub, readStarted, release } = replaying(5);
    const first = sub.next();
    await readStarted;
    sub.offer(Array.from({ length: 6 }, (_, i) => item(i + 1, "followed")));
    release({ items: [], scannedTo: 0, caughtUp: true });
    await expect(first).rejects.toMatchObject({ code: "SLOW_SUBSCRIBER" });
  });
});
