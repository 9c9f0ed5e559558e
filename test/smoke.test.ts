import { describe, expect, it } from "vitest";
import { publishCatalogDir } from "../src/catalog-dir.js";
import { TestClock, newLedger } from "./support/ledger-commands.js";
import { projectionRows } from "./support/sqlite-tables.js";

describe("ledger smoke", () => {
  it("publishes the catalogue once and records consent", async () => {
    const ledger = await newLedger(new TestClock(Date.now()));
    expect(await publishCatalogDir(ledger, "data/policies")).toBe(1);
    expect(await publishCatalogDir(ledger, "data/policies")).toBe(0);
    const actor = { kind: "SUBJECT" as const, id: "alice" };
    const before = (await ledger.permission("alice", "location", null));
    expect(before.reason).toBe("POLICY_NOT_ACCEPTED");
    const r = await ledger.recordConsent("alice", { policyId: null, policyVersion: 1, acceptPolicy: true, grant: ["location"], withdraw: [], occurredAt: null, evidence: { ipAddress: "203.0.113.9" }, expectedVersion: 0 }, actor);
    expect(r.events.map((e) => e.type)).toEqual(["PolicyAccepted", "ConsentGranted"]);
    expect((await ledger.permission("alice", "location", null))).toMatchObject({ permitted: true, reason: "GRANTED" });
    expect((await ledger.permission("alice", "access-analytics", null))).toMatchObject({ permitted: true, reason: "DEFAULT_OPT_OUT" });
    expect((await ledger.reveal(r.events[1]!)).evidence).toEqual({ ipAddress: "203.0.113.9" });
    await expect(ledger.recordConsent("alice", { policyId: null, policyVersion: 1, acceptPolicy: false, grant: [], withdraw: ["support"], occurredAt: null, evidence: null, expectedVersion: null }, actor)).rejects.toMatchObject({ code: "REQUIRED_PURPOSE" });
    await ledger.eraseSubject("alice", "asked", { kind: "OFFICER", id: "bob" });
    expect((await ledger.reveal(r.events[1]!)).evidence).toEqual({ erased: true });
    expect((await ledger.integrity()).ok).toBe(true);
    const dumped = projectionRows(ledger);
    (await ledger.rebuild());
    expect(projectionRows(ledger)).toEqual(dumped);
    await ledger.close();
  });
});
