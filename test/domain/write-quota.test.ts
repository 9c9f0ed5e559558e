import { describe, expect, it } from "vitest";
import { PRUNE_AT, WriteQuota, quotaOf } from "../../src/domain/write-quota.js";
import { LedgerError } from "../../src/domain/errors.js";

const codeOf = (f: () => void): string | null => {
  try {
    f();
    return null;
  } catch (e) {
    return e instanceof LedgerError ? e.code : "other";
  }
};

describe("WriteQuota", () => {
  it("takes max commands per subject in a minute, then refuses until the minute ends", () => {
    let now = 1_000_000;
    const q = new WriteQuota(3, () => now);
    for (let i = 0; i < 3; i++) q.take("a");
    expect(codeOf(() => q.take("a"))).toBe("TOO_MANY_REQUESTS");
    expect(codeOf(() => q.take("b"))).toBeNull();
    now += 59_999;
    expect(codeOf(() => q.take("a"))).toBe("TOO_MANY_REQUESTS");
    now += 1;
    expect(codeOf(() => q.take("a"))).toBeNull();
  });

  it("never refuses a command that must always run, but counts it against the others", () => {
    const now = 5_000;
    const q = new WriteQuota(2, () => now);
    q.take("a", true);
    q.take("a");
    expect(codeOf(() => q.take("a"))).toBe("TOO_MANY_REQUESTS");
    expect(codeOf(() => q.take("a", true))).toBeNull();
  });

  it("is off when max is 0", () => {
    const q = new WriteQuota(0, () => 0);
    for (let i = 0; i < 100; i++) expect(codeOf(() => q.take("a"))).toBeNull();
  });

  it("drops expired windows, never a live one, holding at most twice the last minute's subjects (or PRUNE_AT)", () => {
    let now = 0;
    const q = new WriteQuota(5, () => now);
    // More subjects in one minute than PRUNE_AT: every window is live, none may be dropped.
    const live = PRUNE_AT + PRUNE_AT / 2;
    for (let i = 0; i < live; i++) q.take(`a${i}`);
    expect(q.size).toBe(live);
    for (let i = 0; i < live; i++) q.take(`a${i}`);
    for (let i = 0; i < 3; i++) q.take("a0");
    expect(codeOf(() => q.take("a0"))).toBe("TOO_MANY_REQUESTS");
    // A minute later those windows have ended: they are dropped as new subjects come, and the map
    // never holds more than twice the windows the last drop kept.
    now += 60_000;
    let most = 0;
    for (let i = 0; i < PRUNE_AT; i++) {
      q.take(`b${i}`);
      most = Math.max(most, q.size);
    }
    expect(most).toBeLessThanOrEqual(2 * live);
    expect(q.size).toBe(PRUNE_AT);
    expect(codeOf(() => q.take("a0"))).toBeNull();
  });
});

describe("quotaOf", () => {
  it("counts every command on a subject's record, never refuses erasure or a read's record, and counts no other command", () => {
    expect(quotaOf({ kind: "leaveService", subjectId: "s1" })).toEqual({ subjectId: "s1", always: false });
    expect(quotaOf({ kind: "resumeProcessing", subjectId: "s1" })).toEqual({ subjectId: "s1", always: false });
    expect(quotaOf({ kind: "eraseSubject", subjectId: "s1", reason: null })).toEqual({ subjectId: "s1", always: true });
    expect(quotaOf({ kind: "recordPersonalDataAccessed", subjectId: "s1", read: "export", reason: null })).toEqual({ subjectId: "s1", always: true });
    expect(quotaOf({ kind: "recordDueChanges", limit: 10 })).toBeNull();
    expect(quotaOf({ kind: "mergeSubjects", from: "a", into: "b" })).toBeNull();
  });
});
