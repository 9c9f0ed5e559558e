// Which changes of a policy need consent (CONSENT_REQUIRED_CHANGE), against the version in effect just before.
import { describe, expect, it } from "vitest";
import { Catalog, type Purpose, type Recipient } from "../../src/domain/catalog.js";
import { CONSENT_CHANGES, checkConsentRequiredChange, consentRequiredChanges, versionInEffectBefore } from "../../src/domain/consent-change.js";
import { decidePublish } from "../../src/domain/decide.js";
import { refusal } from "../support/common.js";
import { day, purpose, version } from "./fixtures.js";

const third: Recipient = { id: "tp", name: "TP", kind: "THIRD_PARTY", country: "JP", privacyPolicyUrl: null };
const processor: Recipient = { ...third, id: "pr", kind: "PROCESSOR" };
const withR = (p: Purpose, ...recipients: Recipient[]): Purpose => ({ ...p, recipients });

const v1 = version("base", 1, { requiresConsent: true, effectiveAt: day(0), purposes: [purpose("in", "OPT_IN"), purpose("out", "OPT_OUT"), purpose("req", "REQUIRED")] });
const v2 = version("base", 2, { requiresConsent: false, effectiveAt: day(10), purposes: [purpose("in", "OPT_IN")] });
const policy = Catalog.of([v1, v2]).get("base")!;

describe("versionInEffectBefore", () => {
  it("is the highest-numbered version effective at or before the instant; none before the first", () => {
    expect(versionInEffectBefore(policy, day(-1))).toBeNull();
    expect(versionInEffectBefore(policy, day(0))).toBe(v1);
    expect(versionInEffectBefore(policy, day(10) - 1)).toBe(v1);
    expect(versionInEffectBefore(policy, day(10))).toBe(v2);
    expect(versionInEffectBefore(undefined, day(10))).toBeNull();
  });

  it("goes by number, not by effective date", () => {
    const early = version("base", 3, { requiresConsent: false, effectiveAt: day(5), purposes: [purpose("in", "OPT_IN")] });
    expect(versionInEffectBefore(Catalog.of([v1, v2, early]).get("base")!, day(20))).toBe(early);
  });
});

describe("consentRequiredChanges", () => {
  it("names every loosening: OPT_IN to OPT_OUT or REQUIRED, OPT_OUT to REQUIRED", () => {
    expect(consentRequiredChanges(v1, [purpose("in", "OPT_OUT")])).toEqual([{ purposeId: "in", change: "OPT_IN_TO_OPT_OUT" }]);
    expect(consentRequiredChanges(v1, [purpose("in", "REQUIRED")])).toEqual([{ purposeId: "in", change: "OPT_IN_TO_REQUIRED" }]);
    expect(consentRequiredChanges(v1, [purpose("out", "REQUIRED")])).toEqual([{ purposeId: "out", change: "OPT_OUT_TO_REQUIRED" }]);
  });

  it("lets tightening and unchanged modes pass", () => {
    expect(consentRequiredChanges(v1, [purpose("in", "OPT_IN"), purpose("out", "OPT_OUT"), purpose("req", "REQUIRED")])).toEqual([]);
    expect(consentRequiredChanges(v1, [purpose("out", "OPT_IN"), purpose("req", "OPT_OUT")])).toEqual([]);
    expect(consentRequiredChanges(v1, [purpose("req", "OPT_IN")])).toEqual([]);
  });

  it("names a purpose added that is not OPT_IN; an OPT_IN one may be added", () => {
    expect(consentRequiredChanges(v1, [purpose("new", "OPT_OUT"), purpose("new2", "REQUIRED"), purpose("new3", "OPT_IN")])).toEqual([
      { purposeId: "new", change: "ADDED_OPT_OUT" },
      { purposeId: "new2", change: "ADDED_REQUIRED" },
    ]);
    // With no version before, every purpose is added.
    expect(consentRequiredChanges(null, [purpose("out", "OPT_OUT")])).toEqual([{ purposeId: "out", change: "ADDED_OPT_OUT" }]);
  });

  it("names a THIRD_PARTY recipient added to a purpose that is not OPT_IN, once per purpose", () => {
    expect(consentRequiredChanges(v1, [withR(purpose("out", "OPT_OUT"), third, { ...third, id: "tp2" })])).toEqual([{ purposeId: "out", change: "THIRD_PARTY_RECIPIENT_ADDED" }]);
    expect(consentRequiredChanges(v1, [withR(purpose("req", "REQUIRED"), third)])).toEqual([{ purposeId: "req", change: "THIRD_PARTY_RECIPIENT_ADDED" }]);
    // Other kinds, an OPT_IN purpose, and a recipient already there are no change needing consent.
    expect(consentRequiredChanges(v1, [withR(purpose("out", "OPT_OUT"), processor), withR(purpose("in", "OPT_IN"), third)])).toEqual([]);
    const before = version("base", 1, { requiresConsent: true, effectiveAt: day(0), purposes: [withR(purpose("out", "OPT_OUT"), third, processor)] });
    expect(consentRequiredChanges(before, [withR(purpose("out", "OPT_OUT"), third)])).toEqual([]);
    // A recipient id known as another kind before is still added as a third party.
    const asProcessor = version("base", 1, { requiresConsent: true, effectiveAt: day(0), purposes: [withR(purpose("out", "OPT_OUT"), { ...third, kind: "PROCESSOR" })] });
    expect(consentRequiredChanges(asProcessor, [withR(purpose("out", "OPT_OUT"), third)])).toEqual([{ purposeId: "out", change: "THIRD_PARTY_RECIPIENT_ADDED" }]);
  });

  it("names both the mode change and the recipient of one purpose, and an added one with a recipient", () => {
    expect(consentRequiredChanges(v1, [withR(purpose("in", "OPT_OUT"), third), withR(purpose("x", "REQUIRED"), third)])).toEqual([
      { purposeId: "in", change: "OPT_IN_TO_OPT_OUT" },
      { purposeId: "in", change: "THIRD_PARTY_RECIPIENT_ADDED" },
      { purposeId: "x", change: "ADDED_REQUIRED" },
      { purposeId: "x", change: "THIRD_PARTY_RECIPIENT_ADDED" },
    ]);
    expect(CONSENT_CHANGES).toHaveLength(6);
  });
});

describe("checkConsentRequiredChange and publication", () => {
  const spec = (purposes: Purpose[], requiresConsent = false, effectiveAt = day(20)) => ({ requiresConsent, effectiveAt, purposes });

  it("refuses with CONSENT_REQUIRED_CHANGE and the changes; requiresConsent: true publishes", () => {
    const e = refusal(() => checkConsentRequiredChange(policy, spec([purpose("in", "OPT_OUT")])));
    expect(e).toMatchObject({
      code: "CONSENT_REQUIRED_CHANGE",
      message: "this version changes how consent is given (in: OPT_IN_TO_OPT_OUT): publish it with requiresConsent: true",
      details: { changes: [{ purposeId: "in", change: "OPT_IN_TO_OPT_OUT" }] },
    });
    expect(() => checkConsentRequiredChange(policy, spec([purpose("in", "OPT_OUT")], true))).not.toThrow();
    expect(refusal(() => checkConsentRequiredChange(policy, spec([purpose("in", "REQUIRED"), purpose("out", "REQUIRED")], false, day(5)))).message).toBe(
      "this version changes how consent is given (in: OPT_IN_TO_REQUIRED, out: OPT_OUT_TO_REQUIRED): publish it with requiresConsent: true",
    );
    expect(() => checkConsentRequiredChange(policy, spec([purpose("in", "OPT_IN")]))).not.toThrow();
  });

  it("compares with the version in effect just before the new one's effectiveAt", () => {
    // Before day 10, v1 had "out" OPT_OUT: keeping it so is no change; from day 10, v2 has no "out": it would be added.
    expect(() => checkConsentRequiredChange(policy, spec([purpose("out", "OPT_OUT")], false, day(5)))).not.toThrow();
    expect(refusal(() => checkConsentRequiredChange(policy, spec([purpose("out", "OPT_OUT")], false, day(10))))).toMatchObject({ details: { changes: [{ change: "ADDED_OPT_OUT" }] } });
  });

  it("runs in decidePublish, also for a first version", () => {
    const cmd = { policyId: "fresh", title: "P", overrides: null, effectiveAt: day(0), requiresConsent: false, documentUrl: null, digest: "a".repeat(64), changeSummary: null, purposes: [purpose("out", "OPT_OUT")] };
    expect(refusal(() => decidePublish(cmd, new Catalog(), day(0)))).toMatchObject({ code: "CONSENT_REQUIRED_CHANGE" });
    expect(decidePublish({ ...cmd, requiresConsent: true }, new Catalog(), day(0)).type).toBe("PolicyVersionPublished");
  });
});
