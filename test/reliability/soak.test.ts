// A 10-second cut of the concurrency soak (bench/soak.ts): versioned writes, reads and subscriptions lose nothing and double nothing.
import { describe, expect, it } from "vitest";
import { formatReport, runSoak } from "../../bench/soak.js";

describe("a short concurrency soak against the in-process server", () => {
  it("keeps every acknowledged write, no lost update, no duplicate, every change delivered once, projections equal a rebuild", async () => {
    const report = await runSoak({ seconds: 10, clients: 8, subjects: 12, subscribers: 1, inProcess: true });
    expect(report.violations, formatReport(report)).toEqual([]);
    // The run really raced writers on shared subjects and moved data.
    expect(report.writes).toBeGreaterThan(0);
    expect(report.reads).toBeGreaterThan(0);
    expect(report.versionConflicts).toBeGreaterThan(0);
    if (typeof report.subscriptions !== "string")
      for (const s of report.subscriptions) {
        expect(s.expected).toBeGreaterThanOrEqual(report.writes);
        expect(s.delivered).toBe(s.expected);
      }
  }, 60_000);
});
