import { describe, expect, it } from "vitest";
import { WriteQuota } from "../../src/domain/write-quota.js";
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
});
