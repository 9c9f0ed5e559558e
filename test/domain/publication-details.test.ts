// A publication's optional details: Consent Mode types, the GPC signal and data-category labels,
// filled in by toPublishCommand and checked by decidePublish.
import { describe, expect, it } from "vitest";
import { Catalog } from "../../src/domain/catalog.js";
import { decidePublish, toPublishCommand } from "../../src/domain/decide.js";
import { LedgerError } from "../../src/domain/errors.js";
import { P, day, publishCommand } from "./fixtures.js";

const empty = new Catalog();
const refusal = (f: () => unknown): LedgerError => {
  try {
    f();
  } catch (e) {
    if (e instanceof LedgerError) return e;
    throw e;
  }
  throw new Error("not refused");
};

describe("toPublishCommand", () => {
  it("keeps Consent Mode types, the GPC flag and data-category labels that are given", () => {
    const c = toPublishCommand({
      ...publishCommand(),
      purposes: [{ ...P.analytics, consentModeTypes: ["analytics_storage"], gpcApplies: true }],
      dataCategories: [{ id: "profile", label: "Profile" }],
    });
    expect(c.purposes[0]!.consentModeTypes).toEqual(["analytics_storage"]);
    expect(c.purposes[0]!.gpcApplies).toBe(true);
    expect(c.dataCategories).toEqual([{ id: "profile", label: "Profile" }]);
  });

  it("leaves them out when empty or false, so older publications read as they did", () => {
    const c = toPublishCommand({ ...publishCommand(), purposes: [{ ...P.analytics, consentModeTypes: [], gpcApplies: false }], dataCategories: [] });
    expect("consentModeTypes" in c.purposes[0]!).toBe(false);
    expect("gpcApplies" in c.purposes[0]!).toBe(false);
    expect("dataCategories" in c).toBe(false);
  });

  it("fills a recipient's and a controller's left-out members with null", () => {
    const c = toPublishCommand({ ...publishCommand(), purposes: [{ ...P.analytics, recipients: [{ id: "r", name: "R", kind: "PROCESSOR" }] }], controller: { name: "Acme" } });
    expect(c.purposes[0]!.recipients[0]).toEqual({ id: "r", name: "R", kind: "PROCESSOR", country: null, privacyPolicyUrl: null, countryProtectionSystem: null, measures: null, recipientPurpose: null, equivalentMeasures: false });
    expect(c.controller).toEqual({ name: "Acme", address: null, representative: null, contact: null, email: null, phone: null, url: null, requestProcedure: null });
  });
});

describe("decidePublish, on a publication's details", () => {
  const publish = (over: Parameters<typeof publishCommand>[0]) => decidePublish(publishCommand(over), empty, day(0));

  it("accepts known Consent Mode types and GPC on an OPT_OUT purpose", () => {
    expect(publish({ purposes: [P.service, { ...P.analytics, consentModeTypes: ["analytics_storage", "ad_storage"], gpcApplies: true }] }).type).toBe("PolicyVersionPublished");
  });

  it("refuses an unknown Consent Mode type, one named twice, and GPC on a purpose that is not OPT_OUT", () => {
    const unknown = refusal(() => publish({ purposes: [{ ...P.analytics, consentModeTypes: ["cookie_storage" as never] }] }));
    expect(unknown.code).toBe("BAD_USER_INPUT");
    expect(unknown.message).toContain("cookie_storage");
    expect(refusal(() => publish({ purposes: [{ ...P.analytics, consentModeTypes: ["ad_storage", "ad_storage"] }] })).message).toContain("twice");
    expect(refusal(() => publish({ purposes: [{ ...P.ads, gpcApplies: true }] })).message).toContain("gpcApplies needs mode OPT_OUT");
  });

  it("accepts a label for a category a purpose lists, and refuses one for no purpose's category, one twice, and an empty one", () => {
    expect(publish({ dataCategories: [{ id: "profile", label: "Profile" }] }).type).toBe("PolicyVersionPublished");
    expect(refusal(() => publish({ dataCategories: [{ id: "health", label: "Health" }] })).message).toContain("which no purpose lists");
    expect(refusal(() => publish({ dataCategories: [{ id: "profile", label: "A" }, { id: "profile", label: "B" }] })).message).toContain("labelled twice");
    expect(refusal(() => publish({ dataCategories: [{ id: "profile", label: "  " }] })).message).toContain("needs a label");
    expect(refusal(() => publish({ dataCategories: [{ id: "profile", label: "x".repeat(257) }] })).details).toEqual({ field: "data category profile label" });
  });

  it("names the controller's member that is too long", () => {
    expect(refusal(() => publish({ controller: { name: "Acme", address: "x".repeat(2_049), representative: null, contact: null, email: null, phone: null, url: null, requestProcedure: null } })).details).toEqual({
      field: "controller.address",
    });
  });
});
