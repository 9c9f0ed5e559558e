// Provisions checked, not only recorded (APPI Arts. 27, 28): the recipient in effect, joint users,
// equivalent measures abroad, suspensions, the data categories a grant covers; receipts' providers.
import { describe, expect, it } from "vitest";
import { Catalog, type Recipient } from "../../src/domain/catalog.js";
import { DEFAULT_ADEQUATE_COUNTRIES, type TransferCommand, type TransferContext, checkProvision, checkTransfer, recipientInEffect } from "../../src/domain/transfer.js";
import { type Fact, P, accepted, day, granted, purpose, subjectOf, version, viewOf } from "./fixtures.js";
import { refusal } from "../support/common.js";

const NOW = day(20);
const rec = (id: string, kind: Recipient["kind"], country: string | null, equivalentMeasures = false): Recipient => ({
  id,
  name: id,
  kind,
  country,
  privacyPolicyUrl: null,
  countryProtectionSystem: null,
  measures: null,
  recipientPurpose: null,
  equivalentMeasures,
});
const ads = { ...purpose("ads", "OPT_IN"), dataCategories: ["profile", "contact"], recipients: [rec("partner", "THIRD_PARTY", "SG")] };
const service = {
  ...P.service,
  recipients: [rec("sg", "PROCESSOR", "SG"), rec("sg-em", "PROCESSOR", "SG", true), rec("de", "PROCESSOR", "DE"), rec("jp", "PROCESSOR", "JP"), rec("nowhere", "PROCESSOR", null), rec("joint-sg", "JOINT_USER", "SG"), rec("joint-jp", "JOINT_USER", "JP")],
};
/** v1 from day 0; v2, published on day 1, in effect from day 30, adds "later". */
const catalog = Catalog.of([
  version("base", 1, { requiresConsent: true, effectiveAt: day(0), publishedAt: day(0), purposes: [service, ads] }),
  version("base", 2, { requiresConsent: true, effectiveAt: day(30), publishedAt: day(1), purposes: [service, { ...ads, recipients: [...ads.recipients, rec("later", "THIRD_PARTY", "JP")] }] }),
]);

const cmd = (over: Partial<TransferCommand> = {}): TransferCommand => ({
  subjectIds: ["s"],
  direction: "PROVIDED",
  counterpartyId: "jp",
  purposeId: "service",
  dataCategories: ["profile"],
  basis: "OUTSOURCING",
  occurredAt: NOW,
  note: null,
  ...over,
});
const ctx = (facts: Parameters<typeof subjectOf>[0] = [accepted("base", 1, day(1))], over: Partial<TransferContext> = {}): TransferContext => ({
  catalog,
  view: viewOf(subjectOf(facts)),
  now: NOW,
  ...over,
});
const reasonOf = (c: TransferCommand, x: TransferContext = ctx()) => {
  const e = refusal(() => checkProvision(c, x));
  expect(e.code).toBe("TRANSFER_NOT_PERMITTED");
  return (e.details as { reason: string }).reason;
};
const suspended = (purposeIds?: string[]): Fact => ({ type: "ProcessingSuspended", occurredAt: day(2), data: purposeIds ? { purposeIds } : {} });

describe("the adequate countries", () => {
  it("are the EEA states and the United Kingdom by default", () => {
    expect([...DEFAULT_ADEQUATE_COUNTRIES].sort()).toEqual(
      // The 27 EU states, Iceland, Liechtenstein and Norway (the EEA), and the United Kingdom.
      ["AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GB", "GR", "HR", "HU", "IE", "IS", "IT", "LI", "LT", "LU", "LV", "MT", "NL", "NO", "PL", "PT", "RO", "SE", "SI", "SK"],
    );
    for (const c of ["JP", "US", "SG", "CH", "CN"]) expect(DEFAULT_ADEQUATE_COUNTRIES, c).not.toContain(c);
  });
});

describe("recipientInEffect", () => {
  it("is the recipient as a version in effect at the instant, and published by knownAt, names it", () => {
    expect(recipientInEffect(catalog, "later", day(29), NOW)).toBeUndefined();
    expect(recipientInEffect(catalog, "later", day(30), NOW)).toMatchObject({ id: "later" });
    expect(recipientInEffect(catalog, "later", day(30), day(0))).toBeUndefined();
    expect(recipientInEffect(catalog, "partner", day(0), day(0))).toMatchObject({ id: "partner" });
    expect(recipientInEffect(catalog, "partner", day(-1), NOW)).toBeUndefined();
    expect(recipientInEffect(catalog, "nobody", NOW, NOW)).toBeUndefined();
  });
});

describe("checkProvision", () => {
  it("refuses a recipient no version in effect at occurredAt names", () => {
    expect(reasonOf(cmd({ counterpartyId: "later" }))).toBe("RECIPIENT_NOT_IN_EFFECT");
    expect(refusal(() => checkProvision(cmd({ counterpartyId: "later" }), ctx())).message).toBe("no version in effect at that time names the recipient later");
    expect(() => checkProvision(cmd({ counterpartyId: "later", basis: "LAW", occurredAt: day(30) }), ctx([], { now: day(31) }))).not.toThrow();
  });

  it("sends joint use only to a JOINT_USER", () => {
    expect(reasonOf(cmd({ counterpartyId: "jp", basis: "JOINT_USE" }))).toBe("NOT_A_JOINT_USER");
    expect(refusal(() => checkProvision(cmd({ counterpartyId: "jp", basis: "JOINT_USE" }), ctx())).message).toBe("jp is not declared a joint user (JOINT_USER)");
    expect(() => checkProvision(cmd({ counterpartyId: "joint-jp", basis: "JOINT_USE" }), ctx())).not.toThrow();
  });

  it("refuses outsourcing, joint use or business succession abroad without equivalent measures or an adequate country", () => {
    for (const basis of ["OUTSOURCING", "BUSINESS_SUCCESSION"] as const) expect(reasonOf(cmd({ counterpartyId: "sg", basis }))).toBe("NO_EQUIVALENT_MEASURES");
    expect(reasonOf(cmd({ counterpartyId: "joint-sg", basis: "JOINT_USE" }))).toBe("NO_EQUIVALENT_MEASURES");
    expect(refusal(() => checkProvision(cmd({ counterpartyId: "sg" }), ctx())).message).toBe(
      "sg is outside Japan with neither equivalent measures nor an adequate country: OUTSOURCING needs consent instead",
    );
    for (const counterpartyId of ["sg-em", "de", "jp", "nowhere"]) expect(() => checkProvision(cmd({ counterpartyId }), ctx()), counterpartyId).not.toThrow();
    // A recipient naming no country is in Japan even when the list names no country at all.
    expect(() => checkProvision(cmd({ counterpartyId: "nowhere" }), ctx(undefined, { adequateCountries: [] }))).not.toThrow();
    // The setting replaces the list: SG adequate, DE not.
    expect(() => checkProvision(cmd({ counterpartyId: "sg" }), ctx(undefined, { adequateCountries: ["SG"] }))).not.toThrow();
    expect(reasonOf(cmd({ counterpartyId: "de" }), ctx(undefined, { adequateCountries: ["SG"] }))).toBe("NO_EQUIVALENT_MEASURES");
    // Other bases are not these exceptions (consent or the law decide them).
    expect(() => checkProvision(cmd({ counterpartyId: "sg", basis: "LAW" }), ctx())).not.toThrow();
  });

  it("stops every provision for a suspended subject, or a suspended purpose, but those the law asks for", () => {
    const all = ctx([accepted("base", 1, day(1)), suspended()]);
    expect(reasonOf(cmd(), all)).toBe("SUBJECT_SUSPENDED");
    expect(refusal(() => checkProvision(cmd(), all)).message).toBe("a subject's processing was suspended at that time");
    expect(reasonOf(cmd({ purposeId: null }), all)).toBe("SUBJECT_SUSPENDED");
    for (const basis of ["LAW", "VITAL_INTEREST", "PUBLIC_HEALTH", "GOVERNMENT"] as const) expect(() => checkProvision(cmd({ basis }), all), basis).not.toThrow();
    const scoped = ctx([accepted("base", 1, day(1)), suspended(["service"])]);
    expect(reasonOf(cmd(), scoped)).toBe("SUBJECT_SUSPENDED");
    expect(() => checkProvision(cmd({ purposeId: "ads", counterpartyId: "partner", basis: "LAW" }), scoped)).not.toThrow();
    expect(() => checkProvision(cmd({ purposeId: null }), scoped)).not.toThrow();
    expect(() => checkProvision(cmd({ purposeId: "ads" }), scoped)).not.toThrow();
  });

  it("on consent: the grant must cover the recipient and every data category named", () => {
    const c = cmd({ counterpartyId: "partner", purposeId: "ads", basis: "CONSENT", dataCategories: ["profile", "contact"] });
    const grantedAds = ctx([accepted("base", 1, day(1)), granted("base", 1, "ads", day(1))]);
    expect(() => checkProvision(c, grantedAds)).not.toThrow();
    const e = refusal(() => checkProvision({ ...c, dataCategories: ["profile", "location", "health"] }, grantedAds));
    expect(e).toMatchObject({
      code: "TRANSFER_NOT_PERMITTED",
      message: "a subject's consent does not cover the data categories location, health",
      details: { reason: "CATEGORY_NOT_COVERED", dataCategories: ["location", "health"] },
    });
    expect(reasonOf(c)).toBe("NOT_GRANTED");
    expect(refusal(() => checkProvision(c, ctx())).message).toBe("a subject's consent does not cover providing data to partner for ads at that time");
    expect(reasonOf(c, { ...grantedAds, view: null })).toBe("NOT_GRANTED");
  });
});

describe("records of receipt", () => {
  const provider = { name: "Source K.K.", address: "東京都", representative: null, acquisition: "本人から取得" };
  const check = (over: Partial<TransferCommand>) => checkTransfer(cmd({ direction: "RECEIVED", ...over }), catalog, NOW);

  it("need the provider's name, address and how it obtained the data; the representative may be left out", () => {
    expect(refusal(() => check({}))).toMatchObject({
      code: "BAD_USER_INPUT",
      message: "a receipt (RECEIVED) needs provider: name, address, representative and acquisition",
      details: { field: "provider" },
    });
    expect(() => check({ provider })).not.toThrow();
    expect(() => check({ provider: { ...provider, representative: "代表" } })).not.toThrow();
    for (const field of ["name", "address", "acquisition"] as const)
      expect(refusal(() => check({ provider: { ...provider, [field]: " " } }))).toMatchObject({ code: "BAD_USER_INPUT", message: `provider.${field} must not be empty`, details: { field: `provider.${field}` } });
    expect(refusal(() => check({ provider: { ...provider, name: "x".repeat(513) } }))).toMatchObject({ details: { field: "provider.name" } });
    expect(() => check({ provider: { ...provider, name: "x".repeat(512), address: "x".repeat(1_024), representative: "x".repeat(512), acquisition: "x".repeat(4_096) } })).not.toThrow();
    expect(refusal(() => check({ provider: { ...provider, address: "x".repeat(1_025) } }))).toMatchObject({ details: { field: "provider.address" } });
    expect(refusal(() => check({ provider: { ...provider, representative: "x".repeat(513) } }))).toMatchObject({ details: { field: "provider.representative" } });
    expect(refusal(() => check({ provider: { ...provider, acquisition: "x".repeat(4_097) } }))).toMatchObject({ details: { field: "provider.acquisition" } });
  });

  it("a provision carries no provider", () => {
    expect(refusal(() => checkTransfer(cmd({ provider }), catalog, NOW))).toMatchObject({
      code: "BAD_USER_INPUT",
      message: "provider is recorded for a receipt (RECEIVED) only",
      details: { field: "provider" },
    });
    expect(() => checkTransfer(cmd({ provider: null }), catalog, NOW)).not.toThrow();
  });
});
