// The external-transmission notice (Telecommunications Business Act Art. 27-12) built from the catalogue.
import { describe, expect, it } from "vitest";
import { Catalog, type Purpose, type Recipient } from "../../src/domain/catalog.js";
import { externalTransmissions } from "../../src/domain/external-transmissions.js";
import { P, day, purpose, version } from "./fixtures.js";

const module_ = (id: string, over: Partial<Recipient> = {}): Recipient => ({ id, name: id, kind: "EXTERNAL_MODULE", country: null, privacyPolicyUrl: null, ...over });
const withRecipients = (p: Purpose, recipients: Recipient[], over: Partial<Purpose> = {}): Purpose => ({ ...p, ...over, recipients });

const analyticsV1 = withRecipients(purpose("analytics", "OPT_OUT", "LEGITIMATE_INTEREST"), [module_("tagmanager", { recipientPurpose: "page views" })], {
  dataCategories: ["page-url", "cookie-id"],
});
const adsV1 = withRecipients(purpose("ads", "OPT_IN"), [module_("pixel"), { ...module_("dsp"), kind: "THIRD_PARTY" }], { description: "ad measurement" });
const adsV2 = withRecipients(purpose("ads", "OPT_IN"), [module_("pixel2")], { title: "Advertising" });

/** base v1 in effect from day 0, v2 from day 10 (published day 5); "jp" published for day 30 only. */
const catalog = () =>
  Catalog.of([
    version("base", 1, { requiresConsent: true, effectiveAt: day(0), purposes: [P.service, analyticsV1, adsV1] }),
    version("base", 2, { requiresConsent: false, effectiveAt: day(10), publishedAt: day(5), purposes: [P.service, adsV2] }),
    version("jp", 1, { requiresConsent: false, effectiveAt: day(30), publishedAt: day(1), overrides: "base", purposes: [withRecipients(P.location, [module_("maps")])] }),
  ]);

describe("externalTransmissions", () => {
  it("lists the external modules of the version in effect, with what is sent and how to stop it", () => {
    expect(externalTransmissions(catalog(), "base", day(5))).toEqual([
      {
        purposeId: "analytics",
        policyId: "base",
        purposeTitle: "analytics",
        recipient: module_("tagmanager", { recipientPurpose: "page views" }),
        dataCategories: ["page-url", "cookie-id"],
        // A catalogue built without labels shows the ids.
        dataCategoryLabels: ["page-url", "cookie-id"],
        recipientPurpose: "page views",
        optOutPurposeId: "analytics",
      },
      {
        purposeId: "ads",
        policyId: "base",
        purposeTitle: "ads",
        recipient: module_("pixel"),
        dataCategories: ["profile"],
        dataCategoryLabels: ["profile"],
        // Without its own purpose, a recipient's is the purpose's description.
        recipientPurpose: "ad measurement",
        optOutPurposeId: "ads",
      },
    ]);
  });

  it("follows the catalogue to the version in effect at that instant", () => {
    expect(externalTransmissions(catalog(), "base", day(10))).toEqual([
      // Without a description either, the purpose's title stands for it.
      expect.objectContaining({ purposeId: "ads", recipient: module_("pixel2"), purposeTitle: "Advertising", recipientPurpose: "Advertising" }),
    ]);
  });

  it("shows a policy none of whose versions is in effect yet by its latest version", () => {
    expect(externalTransmissions(catalog(), "jp", day(5)).map((t) => [t.policyId, t.recipient.id])).toEqual([["jp", "maps"]]);
  });

  it("covers every policy when none is named, and none for an unknown one", () => {
    expect(externalTransmissions(catalog(), null, day(5)).map((t) => `${t.policyId}/${t.recipient.id}`)).toEqual(["base/tagmanager", "base/pixel", "jp/maps"]);
    expect(externalTransmissions(catalog(), "nope", day(5))).toEqual([]);
  });

  it("copies the data categories rather than sharing the catalogue's list", () => {
    const c = catalog();
    const [t] = externalTransmissions(c, "base", day(5));
    expect(t!.dataCategories).not.toBe(c.get("base")!.versions[0]!.purposes[1]!.dataCategories);
  });
});
