// The primary's side of the shared limits: each worker's holdings noted, and given back when it dies;
// a slot a worker gives back is the primary's again before the worker answers.
import { describe, expect, it, vi } from "vitest";
import { CallerLimits } from "../../src/graphql/caller-limits.js";
import { localLimits } from "../../src/limits/shared-limits.js";
import { limitsOverChannel } from "../../src/workers/limits-client.js";
import { LimitsHost } from "../../src/workers/limits-host.js";

const settings = { maxWritesPerSubjectPerMinute: 2, visitorSessionsPerAddressPerMinute: 1 };

describe("LimitsHost", () => {
  it("counts every worker's slots against one maximum, and frees a dead worker's, not another's", async () => {
    const limits = localLimits(settings, () => 0);
    const host = new LimitsHost(limits);
    const [a, b] = [{}, {}];
    expect(await host.answer(a, { op: "take", kind: "connection", key: "alice", max: 3 })).toEqual({ ok: true });
    expect(await host.answer(a, { op: "take", kind: "connection", key: "alice", max: 3 })).toEqual({ ok: true });
    expect(await host.answer(b, { op: "take", kind: "connection", key: "alice", max: 3 })).toEqual({ ok: true });
    expect(await host.answer(b, { op: "take", kind: "connection", key: "alice", max: 3 })).toEqual({ ok: false });
    host.forget(a);
    expect(limits.slots.heldBy("connection", "alice")).toBe(1);
    expect(host.heldBy(a)).toBe(0);
    // A give from the dead worker arriving late takes nothing from the living one.
    host.give(a, "connection", "alice");
    expect(limits.slots.heldBy("connection", "alice")).toBe(1);
    host.give(b, "connection", "alice");
    expect(limits.slots.heldBy("connection", "alice")).toBe(0);
  });

  it("drops a dead worker's waits, and a slot handed to a worker that died meanwhile goes on to the next waiter", async () => {
    const limits = localLimits(settings, () => 0);
    const host = new LimitsHost(limits);
    const [a, b, c] = [{}, {}, {}];
    await host.answer(a, { op: "wait", kind: "replay", key: "alice", max: 1 });
    const bWaits = host.answer(b, { op: "wait", kind: "replay", key: "alice", max: 1 });
    let cGot = false;
    const cWaits = host.answer(c, { op: "wait", kind: "replay", key: "alice", max: 1 }).then(() => (cGot = true));
    // a gives its slot to b, which dies before the hand-over lands: c gets it.
    host.give(a, "replay", "alice");
    host.forget(b);
    await cWaits;
    expect(cGot).toBe(true);
    expect(limits.slots.heldBy("replay", "alice")).toBe(1);
    expect(host.heldBy(c)).toBe(1);
    void bWaits;
    host.forget(c);
    expect(limits.slots.heldBy("replay", "alice")).toBe(0);
  });

  it("answers the write quota with its refusal and the visitor-session rate with a no", async () => {
    const host = new LimitsHost(localLimits(settings, () => 0));
    const w = {};
    expect(await host.answer(w, { op: "quota", subjectId: "s", always: false })).toEqual({ ok: true });
    expect(await host.answer(w, { op: "quota", subjectId: "s", always: false })).toEqual({ ok: true });
    const refused = await host.answer(w, { op: "quota", subjectId: "s", always: false });
    expect(refused).toMatchObject({ ok: false, error: { code: "TOO_MANY_REQUESTS", details: { retryAfterSeconds: 60 } } });
    expect(await host.answer(w, { op: "quota", subjectId: "s", always: true })).toEqual({ ok: true });
    expect(await host.answer(w, { op: "visitor", address: "10.0.0.1" })).toEqual({ ok: true });
    expect(await host.answer(w, { op: "visitor", address: "10.0.0.1" })).toEqual({ ok: false });
  });
});

describe("a slot taken through a worker's channel", () => {
  it("a whole-log read answers only once the primary has its slot back: the caller's next read is let in on any worker", async () => {
    const host = new LimitsHost(localLimits(settings, () => 0));
    const [a, b] = [{}, {}];
    // Worker a's questions reach the primary when the test delivers them; worker b's at once.
    const inFlight: (() => void)[] = [];
    const overA = limitsOverChannel((q) => new Promise((answered) => inFlight.push(() => void host.answer(a, q).then(answered))));
    const overB = limitsOverChannel((q) => host.answer(b, q));
    const callerSettings = { maxWholeLogPerCaller: 1, maxConnectionsPerCaller: 1, maxSubscriptionsPerCaller: 1, maxExportsPerCaller: 1 };
    const [onA, onB] = [new CallerLimits(callerSettings, overA.slots), new CallerLimits(callerSettings, overB.slots)];
    let answered = false;
    const read = onA.withWholeLogSlot("alice", () => "the log").then((v) => ((answered = true), v));
    await vi.waitFor(() => expect(inFlight).toHaveLength(1));
    inFlight.shift()!(); // the take
    await vi.waitFor(() => expect(inFlight).toHaveLength(1)); // the give, on its way
    expect(answered).toBe(false);
    inFlight.shift()!();
    expect(await read).toBe("the log");
    expect(await onB.withWholeLogSlot("alice", () => "again")).toBe("again");
  });
});
