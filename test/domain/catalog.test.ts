// The applicable-version rule (standingOf) and the catalogue's policy resolution.
import { describe, expect, it } from "vitest";
import { Catalog, reconsentThreshold, standingOf } from "../../src/domain/catalog.js";
import type { Instant } from "../../src/domain/time.js";
import { P, day, version } from "./fixtures.js";

// v1 and v3 require consent; v2 and v4 do not. v4 is published on day 35, effective on day 40.
const catalog = Catalog.of([
  version("p", 1, { requiresConsent: true, effectiveAt: day(0), publishedAt: day(-1), purposes: [P.service] }),
  version("p", 2, { requiresConsent: false, effectiveAt: day(10), publishedAt: day(9), purposes: [P.service, P.analytics] }),
  version("p", 3, { requiresConsent: true, effectiveAt: day(20), publishedAt: day(15), purposes: [P.service, P.location] }),
  version("p", 4, { requiresConsent: false, effectiveAt: day(40), publishedAt: day(35), purposes: [P.service, P.location, P.ads] }),
]);
const policy = catalog.get("p")!;

const standing = (accepted: number, at: Instant, knownAt: Instant = at) => {
  const s = standingOf(policy, accepted, { at, knownAt });
  return {
    applicable: s.applicable?.number ?? null,
    pending: s.pending?.number ?? null,
    needsReconsent: s.reconsentVersion !== null,
  };
};

describe("standingOf: the applicable-version rule", () => {
  it.each([
    { when: "nothing accepted and v1 requires consent", accepted: 0, at: day(5), expected: { applicable: null, pending: 1, needsReconsent: true } },
    { when: "nothing accepted while v2 (no consent needed) is latest", accepted: 0, at: day(12), expected: { applicable: null, pending: 2, needsReconsent: true } },
    { when: "v1 accepted", accepted: 1, at: day(5), expected: { applicable: 1, pending: null, needsReconsent: false } },
    { when: "v1 accepted and v2 does not require consent", accepted: 1, at: day(12), expected: { applicable: 2, pending: null, needsReconsent: false } },
    { when: "v1 accepted and v3 requires consent", accepted: 1, at: day(25), expected: { applicable: 2, pending: 3, needsReconsent: true } },
    { when: "v3 accepted", accepted: 3, at: day(25), expected: { applicable: 3, pending: null, needsReconsent: false } },
    { when: "v3 accepted before it takes effect", accepted: 3, at: day(15), expected: { applicable: 2, pending: null, needsReconsent: false } },
    { when: "v3 accepted early, the instant it takes effect", accepted: 3, at: day(20), expected: { applicable: 3, pending: null, needsReconsent: false } },
    { when: "v1 accepted, v4 latest behind v3", accepted: 1, at: day(45), expected: { applicable: 2, pending: 4, needsReconsent: true } },
    { when: "v3 accepted and v4 does not require consent", accepted: 3, at: day(45), expected: { applicable: 4, pending: null, needsReconsent: false } },
    { when: "before the first version takes effect", accepted: 1, at: day(-1), expected: { applicable: null, pending: null, needsReconsent: false } },
    { when: "v2 accepted although v1 never was", accepted: 2, at: day(12), expected: { applicable: 2, pending: null, needsReconsent: false } },
  ])("$when", ({ accepted, at, expected }) => {
    expect(standing(accepted, at)).toEqual(expected);
  });

  it("ignores versions published after knownAt", () => {
    // On day 45 v4 is in effect, but on day 30 nobody knew of it.
    expect(standing(3, day(45), day(30))).toEqual({ applicable: 3, pending: null, needsReconsent: false });
    expect(standing(1, day(12), day(8))).toEqual({ applicable: 1, pending: null, needsReconsent: false });
    expect(standing(0, day(12), day(-2))).toEqual({ applicable: null, pending: null, needsReconsent: false });
  });

  it("reports the accepted version it was given", () => {
    expect(standingOf(policy, 3, { at: day(25), knownAt: day(25) }).acceptedVersion).toBe(3);
  });
});

describe("reconsentThreshold", () => {
  it("is the highest effective version that requires consent", () => {
    expect(reconsentThreshold(policy, { at: day(-1), knownAt: day(-1) })).toBe(0);
    expect(reconsentThreshold(policy, { at: day(12), knownAt: day(12) })).toBe(1);
    expect(reconsentThreshold(policy, { at: day(45), knownAt: day(45) })).toBe(3);
    expect(reconsentThreshold(policy, { at: day(45), knownAt: day(14) })).toBe(1);
  });
});

describe("Catalog", () => {
  const base = version("base", 1, { requiresConsent: true, effectiveAt: day(0), purposes: [P.service] });
  const regional = version("regional", 1, { requiresConsent: true, effectiveAt: day(0), overrides: "base", purposes: [P.location] });

  it("resolves an omitted policyId to the one policy that overrides nothing", () => {
    expect(Catalog.of([base, regional]).resolvePolicyId(null)).toBe("base");
    expect(Catalog.of([base, regional]).resolvePolicyId("regional")).toBe("regional");
  });

  it("refuses to guess among several base policies", () => {
    const other = version("other", 1, { requiresConsent: true, effectiveAt: day(0), purposes: [P.service] });
    expect(() => Catalog.of([base, other]).resolvePolicyId(undefined)).toThrow(expect.objectContaining({ code: "BAD_USER_INPUT" }));
  });

  it("refuses an unpublished policy, and an omitted one when nothing is published", () => {
    expect(() => Catalog.of([base]).resolvePolicyId("nope")).toThrow(expect.objectContaining({ code: "UNKNOWN_POLICY" }));
    expect(() => Catalog.of([]).resolvePolicyId(null)).toThrow(expect.objectContaining({ code: "UNKNOWN_POLICY" }));
  });

  it("walks the override chain from the most specific policy", () => {
    expect(Catalog.of([base, regional]).chain("regional").map((p) => p.id)).toEqual(["regional", "base"]);
  });

  it("shows a policy as it was known at an instant", () => {
    expect(catalog.knownAt("p", day(-2))).toBeUndefined();
    expect(catalog.knownAt("p", day(9))!.versions.map((v) => v.number)).toEqual([1, 2]);
    expect(catalog.knownAt("p", day(99))).toBe(policy);
    expect(catalog.nextNumber("p")).toBe(5);
    expect(catalog.nextNumber("new")).toBe(1);
  });
});
