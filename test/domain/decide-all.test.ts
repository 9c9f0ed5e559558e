// decideAll: every purpose a subject is asked about under a policy, whatever the policy's state.
import { describe, expect, it } from "vitest";
import { Catalog } from "../../src/domain/catalog.js";
import { decideAll } from "../../src/domain/permission.js";
import { P, accepted, day, granted, purpose, subjectOf, version, viewOf } from "./fixtures.js";

// v1 (service, ads) takes effect on day 30, v2 (service, location) on day 40; both published early.
const upcoming = Catalog.of([
  version("base", 1, { requiresConsent: true, effectiveAt: day(30), publishedAt: day(1), purposes: [P.service, P.ads] }),
  version("base", 2, { requiresConsent: true, effectiveAt: day(40), publishedAt: day(2), purposes: [P.service, P.location] }),
]);
const asOf = (at: number, knownAt = at) => ({ at, knownAt });

describe("decideAll for a policy none of whose versions is in effect yet", () => {
  it("lists the purposes of the latest version published, none permitted and no version applicable", () => {
    const all = decideAll(upcoming, viewOf(subjectOf([])), "base", asOf(day(10)));
    expect(all.map((d) => [d.purposeId, d.permitted, d.reason, d.policyVersion])).toEqual([
      ["service", false, "POLICY_NOT_ACCEPTED", null],
      ["location", false, "POLICY_NOT_ACCEPTED", null],
    ]);
  });

  it("lists the latest version known at knownAt, not one published later", () => {
    const all = decideAll(upcoming, viewOf(subjectOf([])), "base", asOf(day(10), day(1)));
    expect(all.map((d) => d.purposeId)).toEqual(["service", "ads"]);
  });

  it("lists nothing for a policy not published by knownAt", () => {
    expect(decideAll(upcoming, viewOf(subjectOf([])), "base", asOf(day(10), day(0)))).toEqual([]);
  });
});

describe("decideAll while a version is pending", () => {
  it("lists the applicable version's purposes and the pending one's new ones, each once", () => {
    // v1 accepted; on day 45 v2 (requires consent) is pending and v1 still applies.
    const s = subjectOf([accepted("base", 1, day(31)), granted("base", 1, "ads", day(32))]);
    const all = decideAll(upcoming, viewOf(s), "base", asOf(day(45)));
    expect(all.map((d) => [d.purposeId, d.permitted, d.reason, d.policyVersion])).toEqual([
      ["service", true, "REQUIRED_FOR_SERVICE", 1],
      ["ads", true, "GRANTED", 1],
      ["location", false, "NOT_IN_APPLICABLE_POLICY", 1],
    ]);
  });
});

describe("decideAll over an override chain", () => {
  it("leaves to the base only the purposes no version of the override defines", () => {
    const catalog = Catalog.of([
      version("base", 1, { requiresConsent: false, effectiveAt: day(0), purposes: [P.service, P.analytics, P.ads] }),
      version("regional", 1, { requiresConsent: false, effectiveAt: day(0), overrides: "base", purposes: [purpose("ads", "OPT_IN")] }),
      // v2 of the override drops "ads": it stays the override's purpose, not the base's.
      version("regional", 2, { requiresConsent: false, effectiveAt: day(5), overrides: "base", purposes: [purpose("geo", "OPT_IN")] }),
    ]);
    const s = subjectOf([accepted("base", 1, day(1)), accepted("regional", 2, day(6))]);
    const all = decideAll(catalog, viewOf(s), "regional", asOf(day(10)));
    expect(all.map((d) => [d.policyId, d.purposeId])).toEqual([
      ["regional", "geo"],
      ["base", "service"],
      ["base", "analytics"],
    ]);
  });
});
