// Versions of a policy: by number, superseded at an instant, the controller each names, and the
// version a publication event records.
import { describe, expect, it } from "vitest";
import { Catalog, type Controller, controllerOf, supersededAt, toPolicyVersion, versionOf } from "../../src/domain/catalog.js";
import type { LedgerEvent } from "../../src/domain/events.js";
import { P, day, version } from "./fixtures.js";

const controller = (name: string): Controller => ({ name, address: null, contact: null, email: null, phone: null, url: null, requestProcedure: null });
const v1 = { ...version("base", 1, { requiresConsent: true, effectiveAt: day(0), purposes: [P.service] }), controller: controller("Acme KK") };
const v2 = version("base", 2, { requiresConsent: false, effectiveAt: day(10), publishedAt: day(5), purposes: [P.service] });
const v3 = { ...version("base", 3, { requiresConsent: false, effectiveAt: day(20), purposes: [P.service] }), controller: controller("Acme Holdings") };
const policy = Catalog.of([v1, v2, v3]).get("base")!;

describe("versionOf and Catalog.version", () => {
  it("find a version by its number, counting from 1", () => {
    expect(versionOf(policy, 1)).toBe(v1);
    expect(versionOf(policy, 3)).toBe(v3);
    expect(Catalog.of([v1, v2]).version("base", 2)).toBe(v2);
  });

  it("find none for 0, a number not yet published, or a policy not published", () => {
    expect(versionOf(policy, 0)).toBeUndefined();
    expect(versionOf(policy, 4)).toBeUndefined();
    expect(Catalog.of([v1]).version("nope", 1)).toBeUndefined();
  });
});

describe("supersededAt", () => {
  it("is the first later version already in effect at that instant, from its effectiveAt on", () => {
    expect(supersededAt(policy, 1, day(10) - 1)).toBeUndefined();
    expect(supersededAt(policy, 1, day(10))).toBe(v2);
    expect(supersededAt(policy, 1, day(25))).toBe(v2);
    expect(supersededAt(policy, 2, day(25))).toBe(v3);
  });

  it("is nothing for the latest version", () => {
    expect(supersededAt(policy, 3, day(99))).toBeUndefined();
  });
});

describe("controllerOf", () => {
  it("is the controller a version names, else the latest earlier one's", () => {
    expect(controllerOf(policy, 1)).toEqual(controller("Acme KK"));
    expect(controllerOf(policy, 2)).toEqual(controller("Acme KK"));
    expect(controllerOf(policy, 3)).toEqual(controller("Acme Holdings"));
    // A number beyond the published versions reads the latest.
    expect(controllerOf(policy, 9)).toEqual(controller("Acme Holdings"));
  });

  it("is null when no version up to it names one", () => {
    expect(controllerOf(Catalog.of([v2]).get("base")!, 1)).toBeNull();
    expect(controllerOf(policy, 0)).toBeNull();
  });
});

describe("toPolicyVersion", () => {
  const { publishedAt: _p, ...spec } = v1;
  const event = (data: object, type = "PolicyVersionPublished") => ({ type, data, recordedAt: day(-1), occurredAt: day(-1) }) as unknown as LedgerEvent;

  it("is the publication, published when it was recorded", () => {
    // A controller published before it named a representative reads one as null.
    expect(toPolicyVersion(event(spec))).toEqual({ ...spec, controller: { ...spec.controller, representative: null }, documentText: null, publishedAt: day(-1) });
    const named = { ...spec, controller: { ...spec.controller!, representative: "代表取締役 山田太郎" }, documentText: "本文" };
    expect(toPolicyVersion(event(named))).toEqual({ ...named, publishedAt: day(-1) });
  });

  it("reads recipients' Art. 28 details and the controller of older publications as null, keeping those given", () => {
    const recipient = { id: "m", name: "M", kind: "PROCESSOR", country: null, privacyPolicyUrl: null };
    const { controller: _c, ...old } = { ...spec, purposes: [{ ...P.ads, recipients: [recipient, { ...recipient, id: "n", measures: "encryption" }] }] };
    expect(toPolicyVersion(event(old))).toEqual({
      ...old,
      controller: null,
      documentText: null,
      publishedAt: day(-1),
      purposes: [
        {
          ...P.ads,
          recipients: [
            { ...recipient, countryProtectionSystem: null, measures: null, recipientPurpose: null, equivalentMeasures: false },
            { ...recipient, id: "n", countryProtectionSystem: null, measures: "encryption", recipientPurpose: null, equivalentMeasures: false },
          ],
        },
      ],
    });
  });

  it("refuses an event that is not a publication, naming its type", () => {
    expect(() => toPolicyVersion(event({}, "PolicyAccepted"))).toThrow("not a publication: PolicyAccepted");
  });
});
