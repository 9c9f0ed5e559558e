// Per-caller limits: whole-log slots taken and given back, connections and subscriptions counted per token subject.
import { describe, expect, it } from "vitest";
import { CallerLimits } from "../../src/graphql/caller-limits.js";

const settings = { maxWholeLogPerCaller: 1, maxConnectionsPerCaller: 2, maxSubscriptionsPerCaller: 3, maxExportsPerCaller: 1 };

describe("finding 4: per-caller limits", () => {
  it("refuses a second concurrent whole-log read of the same caller with TOO_MANY_REQUESTS, not another caller's", async () => {
    const limits = new CallerLimits(settings);
    let release!: () => void;
    const first = limits.withWholeLogSlot("alice", () => new Promise<string>((r) => (release = () => r("done"))));
    await expect(limits.withWholeLogSlot("alice", () => "second")).rejects.toMatchObject({ code: "TOO_MANY_REQUESTS" });
    await expect(limits.withWholeLogSlot("bob", () => "bob's")).resolves.toBe("bob's");
    release();
    await expect(first).resolves.toBe("done");
    await expect(limits.withWholeLogSlot("alice", () => "again")).resolves.toBe("again");
  });

  it("gives the slot back when the work fails", async () => {
    const limits = new CallerLimits(settings);
    await expect(limits.withWholeLogSlot("alice", () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    await expect(limits.withWholeLogSlot("alice", () => 1)).resolves.toBe(1);
  });

  it("counts connections per caller and frees them on close", () => {
    const limits = new CallerLimits(settings);
    expect(limits.openConnection("alice")).toBe(true);
    expect(limits.openConnection("alice")).toBe(true);
    expect(limits.openConnection("alice")).toBe(false);
    expect(limits.openConnection("bob")).toBe(true);
    limits.closeConnection("alice");
    expect(limits.openConnection("alice")).toBe(true);
    expect(limits.openConnection("alice")).toBe(false);
  });

  it("counts a caller's operations, whatever connection each runs on, until each ends", () => {
    const limits = new CallerLimits(settings);
    for (let i = 0; i < 3; i++) expect(limits.startOperation("alice")).toBe(true);
    expect(limits.startOperation("alice")).toBe(false);
    expect(limits.startOperation("bob")).toBe(true);
    limits.endOperation("alice");
    expect(limits.startOperation("alice")).toBe(true);
    expect(limits.startOperation("alice")).toBe(false);
  });
});
