// The console's request queue order and its time-travel fields.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fromLocalInput, sortQueue, toLocalInput } from "../../src/web/console/queue.js";

describe("sortQueue", () => {
  it("puts overdue requests first, then the soonest due", () => {
    const items = [
      { id: "later", dueAt: "2026-12-20T00:00:00Z", openedAt: "2026-12-06T00:00:00Z", overdue: false },
      { id: "overdue-new", dueAt: "2026-11-30T00:00:00Z", openedAt: "2026-11-16T00:00:00Z", overdue: true },
      { id: "soon", dueAt: "2026-12-02T00:00:00Z", openedAt: "2026-11-18T00:00:00Z", overdue: false },
      { id: "overdue-old", dueAt: "2026-11-01T00:00:00Z", openedAt: "2026-10-18T00:00:00Z", overdue: true },
    ];
    expect(sortQueue(items).map((i) => i.id)).toEqual(["overdue-old", "overdue-new", "soon", "later"]);
    expect(items[0]!.id).toBe("later"); // the input is left as it was
  });

  it("property: no request that is not overdue comes before an overdue one", () => {
    const item = fc.record({ dueAt: fc.date({ min: new Date(0), max: new Date(4e12), noInvalidDate: true }).map((d) => d.toISOString()), openedAt: fc.constant("2026-01-01T00:00:00Z"), overdue: fc.boolean() });
    fc.assert(
      fc.property(fc.array(item, { maxLength: 20 }), (items) => {
        const sorted = sortQueue(items);
        const firstOnTime = sorted.findIndex((i) => !i.overdue);
        if (firstOnTime >= 0) expect(sorted.slice(firstOnTime).every((i) => !i.overdue)).toBe(true);
      }),
    );
  });
});

describe("the time-travel fields", () => {
  it("an empty or unreadable field means now (null)", () => {
    expect(fromLocalInput("")).toBeNull();
    expect(fromLocalInput("not a date")).toBeNull();
  });

  it("round-trips an instant to the second, rounding up so the instant itself is included", () => {
    const iso = "2026-03-01T12:34:56.789Z";
    const back = fromLocalInput(toLocalInput(iso))!;
    expect(Date.parse(back)).toBe(Date.parse("2026-03-01T12:34:57.000Z"));
    expect(fromLocalInput(toLocalInput("2026-03-01T12:34:56.000Z"))).toBe("2026-03-01T12:34:56.000Z");
  });
});
