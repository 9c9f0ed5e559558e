// The catalogue's lookups: policies as known at an instant, override chains, the policy an omitted
// policyId means, and the versions in effect.
import { describe, expect, it } from "vitest";
import { Catalog, definesPurpose, effectiveVersions, findPurpose } from "../../src/domain/catalog.js";
import { P, day, version } from "./fixtures.js";
import { refusal } from "../support/common.js";

const base1 = version("base", 1, { requiresConsent: true, effectiveAt: day(0), publishedAt: day(-1), purposes: [P.service] });
const base2 = { ...version("base", 2, { requiresConsent: false, effectiveAt: day(10), publishedAt: day(9), purposes: [P.service, P.ads] }), title: "Base, revised" };

describe("Catalog.knownAt", () => {
  const catalog = Catalog.of([base1, base2]);

  it("is the policy itself when every version was published by then", () => {
    expect(catalog.knownAt("base", day(9))).toBe(catalog.get("base"));
  });

  it("leaves out later versions and takes the title of the last one known", () => {
    expect(catalog.knownAt("base", day(9) - 1)).toEqual({ id: "base", title: "base v1", overrides: null, versions: [base1] });
    expect(catalog.get("base")!.title).toBe("Base, revised");
  });

  it("knows a version from the instant of its publication", () => {
    expect(catalog.knownAt("base", day(-1))!.versions).toEqual([base1]);
    expect(catalog.knownAt("base", day(-1) - 1)).toBeUndefined();
  });

  it("knows nothing of a policy never published", () => {
    expect(catalog.knownAt("nope", day(99))).toBeUndefined();
  });
});

describe("Catalog.policies and add", () => {
  it("lists each policy once with its versions in number order", () => {
    const other = version("other", 1, { requiresConsent: false, effectiveAt: day(0), purposes: [P.ads] });
    const catalog = Catalog.of([base1, other, base2]);
    expect(catalog.policies().map((p) => [p.id, p.versions.map((v) => v.number)])).toEqual([
      ["base", [1, 2]],
      ["other", [1]],
    ]);
    expect(catalog.nextNumber("base")).toBe(3);
  });
});

describe("Catalog.resolvePolicyId", () => {
  const regional = version("regional", 1, { requiresConsent: true, effectiveAt: day(0), overrides: "base", purposes: [P.location] });

  it("names the base policies it cannot choose between", () => {
    const other = version("other", 1, { requiresConsent: true, effectiveAt: day(0), purposes: [P.service] });
    const e = refusal(() => Catalog.of([base1, regional, other]).resolvePolicyId(null));
    expect(e).toMatchObject({ code: "BAD_USER_INPUT", details: { policyIds: ["base", "other"] } });
    expect(e.message).toBe("several base policies are published: name one with policyId");
  });

  it("finding 6: takes the default policy among several base policies once it is published as one, and only then", () => {
    const other = version("other", 1, { requiresConsent: true, effectiveAt: day(0), purposes: [P.service] });
    expect(Catalog.of([base1, regional, other]).resolvePolicyId(null, "base")).toBe("base");
    expect(Catalog.of([base1, regional, other]).resolvePolicyId(null, "other")).toBe("other");
    // A named policy wins over the default; an unpublished default leaves the one-base-policy rule.
    expect(Catalog.of([base1, regional, other]).resolvePolicyId("regional", "base")).toBe("regional");
    expect(Catalog.of([base1, regional]).resolvePolicyId(null, "unpublished")).toBe("base");
    expect(refusal(() => Catalog.of([base1, other]).resolvePolicyId(null, "unpublished")).code).toBe("BAD_USER_INPUT");
    // A default that overrides another policy is no base policy: the rule falls back.
    expect(Catalog.of([base1, regional]).resolvePolicyId(null, "regional")).toBe("base");
    expect(Catalog.of([base1, regional, other]).defaultPolicy("base")?.id).toBe("base");
    expect(Catalog.of([base1, other]).defaultPolicy(null)).toBeUndefined();
  });

  it("says what is missing", () => {
    expect(refusal(() => Catalog.of([base1]).resolvePolicyId("nope")).message).toBe("policy nope is not published");
    expect(refusal(() => Catalog.of([]).resolvePolicyId(undefined)).message).toBe("no policy is published");
  });

  it("takes a named override as it is", () => {
    expect(Catalog.of([base1, regional]).resolvePolicyId("regional")).toBe("regional");
  });
});

describe("Catalog.chain", () => {
  it("is empty for a policy never published", () => {
    expect(Catalog.of([base1]).chain("nope")).toEqual([]);
  });

  it("stops at an overridden policy that is not in the catalogue", () => {
    const orphan = version("orphan", 1, { requiresConsent: false, effectiveAt: day(0), overrides: "gone", purposes: [P.ads] });
    expect(Catalog.of([orphan]).chain("orphan").map((p) => p.id)).toEqual(["orphan"]);
  });

  it("visits each policy once, even around a cycle", () => {
    const a = version("a", 1, { requiresConsent: false, effectiveAt: day(0), overrides: "b", purposes: [P.ads] });
    const b = version("b", 1, { requiresConsent: false, effectiveAt: day(0), overrides: "a", purposes: [P.ads] });
    expect(Catalog.of([a, b]).chain("a").map((p) => p.id)).toEqual(["a", "b"]);
  });

  it("walks three levels, most specific first", () => {
    const regional = version("regional", 1, { requiresConsent: false, effectiveAt: day(0), overrides: "base", purposes: [P.location] });
    const city = version("city", 1, { requiresConsent: false, effectiveAt: day(0), overrides: "regional", purposes: [P.ads] });
    expect(Catalog.of([base1, regional, city]).chain("city").map((p) => p.id)).toEqual(["city", "regional", "base"]);
  });
});

describe("effectiveVersions", () => {
  const policy = Catalog.of([base1, base2]).get("base")!;

  it("holds the versions published by knownAt and in effect at `at`, both bounds included", () => {
    expect(effectiveVersions(policy, { at: day(10), knownAt: day(9) }).map((v) => v.number)).toEqual([1, 2]);
    expect(effectiveVersions(policy, { at: day(10) - 1, knownAt: day(99) }).map((v) => v.number)).toEqual([1]);
    expect(effectiveVersions(policy, { at: day(99), knownAt: day(9) - 1 }).map((v) => v.number)).toEqual([1]);
  });
});

describe("purposes of a policy", () => {
  const policy = Catalog.of([base1, base2]).get("base")!;

  it("definesPurpose looks through every version", () => {
    expect(definesPurpose(policy, "ads")).toBe(true);
    expect(definesPurpose(policy, "service")).toBe(true);
    expect(definesPurpose(policy, "location")).toBe(false);
  });

  it("findPurpose finds a purpose of a version, and nothing in no version", () => {
    expect(findPurpose(base2, "ads")).toBe(P.ads);
    expect(findPurpose(base1, "ads")).toBeUndefined();
    expect(findPurpose(null, "ads")).toBeUndefined();
  });
});
