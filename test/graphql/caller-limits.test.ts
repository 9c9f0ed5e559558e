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
    const a = { openOperations: 0 };
    const b = { openOperations: 0 };
    expect(limits.openConnection("alice", a)).toBe(true);
    expect(limits.openConnection("alice", b)).toBe(true);
    expect(limits.openConnection("alice", { openOperations: 0 })).toBe(false);
    expect(limits.openConnection("bob", { openOperations: 0 })).toBe(true);
    limits.closeConnection("alice", a);
    expect(limits.connectionsOf("alice")).toBe(1);
    expect(limits.openConnection("alice", { openOperations: 0 })).toBe(true);
  });

  it("sums a caller's operations across its connections", () => {
    const limits = new CallerLimits(settings);
    const a = { openOperations: 2 };
    const b = { openOperations: 1 };
    limits.openConnection("alice", a);
    limits.openConnection("alice", b);
    expect(limits.subscriptionsWithinLimit("alice")).toBe(true);
    b.openOperations = 2;
    expect(limits.subscriptionsWithinLimit("alice")).toBe(false);
    expect(limits.subscriptionsWithinLimit("bob")).toBe(true);
  });
});
