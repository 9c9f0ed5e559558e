// Third-party transfer records (APPI Arts. 29, 30): the command's checks, the permission a provision
// on the basis of consent needs, the record and how long it is kept.
import { describe, expect, it } from "vitest";
import { Catalog, type Recipient } from "../../src/domain/catalog.js";
import { DAY_MS } from "../../src/domain/time.js";
import { type TransferCommand, type TransferContext, TRANSFER_RETENTION_YEARS, checkTransfer, decideTransfer, findRecipient, retainUntil } from "../../src/domain/transfer.js";
import { P, accepted, day, granted, purpose, subjectOf, version, viewOf } from "./fixtures.js";
import { refusal } from "../support/common.js";

const NOW = day(20);

const mailer = (over: Partial<Recipient> = {}): Recipient => ({ id: "mailer", name: "Mailer Inc.", kind: "THIRD_PARTY", country: "DE", privacyPolicyUrl: null, ...over });
const ads = { ...purpose("ads", "OPT_IN"), recipients: [mailer()] };

/** base v1 lists "mailer" for "ads"; v2 renames it; "other" names "partner". */
const catalog = () =>
  Catalog.of([
    version("base", 1, { requiresConsent: false, effectiveAt: day(0), purposes: [P.service, ads] }),
    version("base", 2, { requiresConsent: false, effectiveAt: day(10), purposes: [P.service, { ...ads, recipients: [mailer({ name: "Mailer GmbH" })] }] }),
    version("other", 1, { requiresConsent: false, effectiveAt: day(0), purposes: [{ ...purpose("x", "OPT_IN"), recipients: [mailer({ id: "partner", name: "Partner" })] }] }),
  ]);

const cmd = (over: Partial<TransferCommand> = {}): TransferCommand => ({
  subjectIds: ["s"],
  direction: "PROVIDED",
  counterpartyId: "mailer",
  purposeId: "ads",
  dataCategories: ["profile"],
  basis: "CONSENT",
  occurredAt: NOW,
  note: null,
  ...over,
});

const check = (over: Partial<TransferCommand> = {}) => checkTransfer(cmd(over), catalog(), NOW);
const ids = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

describe("retainUntil", () => {
  it("is three calendar years after the transfer, in UTC", () => {
    expect(TRANSFER_RETENTION_YEARS).toBe(3);
    expect(retainUntil(Date.parse("2024-01-15T10:20:30.456Z"))).toBe(Date.parse("2027-01-15T10:20:30.456Z"));
    // A leap day rolls over to 1 March of a year that has none.
    expect(retainUntil(Date.parse("2024-02-29T00:00:00.000Z"))).toBe(Date.parse("2027-03-01T00:00:00.000Z"));
  });
});

describe("findRecipient", () => {
  it("finds a recipient of any policy, as the latest publication describes it", () => {
    expect(findRecipient(catalog(), "mailer")).toMatchObject({ id: "mailer", name: "Mailer GmbH" });
    expect(findRecipient(catalog(), "partner")).toMatchObject({ id: "partner", name: "Partner" });
  });

  it("finds none that no publication names", () => {
    expect(findRecipient(catalog(), "nobody")).toBeUndefined();
  });
});

describe("checkTransfer", () => {
  it("returns the counterparty a valid command names", () => {
    expect(check()).toEqual(mailer({ name: "Mailer GmbH" }));
  });

  it("takes 1 and 200 subjects, and refuses none or 201", () => {
    expect(() => check({ subjectIds: ids(200, "s") })).not.toThrow();
    expect(refusal(() => check({ subjectIds: [] }))).toMatchObject({ code: "BAD_USER_INPUT", message: "subjectIds must name at least one subject" });
    expect(refusal(() => check({ subjectIds: ids(201, "s") }))).toMatchObject({ code: "BAD_USER_INPUT", message: "subjectIds has more than 200 items" });
  });

  it("checks each subject id and refuses one named twice", () => {
    expect(refusal(() => check({ subjectIds: ["s", "bad id"] }))).toMatchObject({ code: "BAD_USER_INPUT", details: { field: "subjectId" } });
    expect(refusal(() => check({ subjectIds: ["s", "t", "s"] }))).toMatchObject({ code: "BAD_USER_INPUT", message: "a subject is named twice" });
  });

  it("takes both directions and every basis, and refuses others", () => {
    expect(() => check({ direction: "RECEIVED", provider: { name: "Source K.K.", address: "東京都", representative: null, acquisition: "本人から取得" } })).not.toThrow();
    for (const basis of ["OUTSOURCING", "BUSINESS_SUCCESSION", "JOINT_USE", "LAW", "VITAL_INTEREST", "PUBLIC_HEALTH", "GOVERNMENT"] as const)
      expect(() => check({ basis })).not.toThrow();
    expect(refusal(() => check({ direction: "LENT" as TransferCommand["direction"] }))).toMatchObject({ code: "BAD_USER_INPUT", message: "unknown direction" });
    expect(refusal(() => check({ basis: "WHIM" as TransferCommand["basis"] }))).toMatchObject({ code: "BAD_USER_INPUT", message: "unknown basis" });
  });

  it("checks the counterparty and purpose ids", () => {
    expect(refusal(() => check({ counterpartyId: "" }))).toMatchObject({ code: "BAD_USER_INPUT", details: { field: "counterpartyId" } });
    expect(refusal(() => check({ purposeId: "a b" }))).toMatchObject({ code: "BAD_USER_INPUT", details: { field: "purposeId" } });
  });

  it("takes no purpose on a basis other than consent, and refuses none on consent", () => {
    expect(() => check({ purposeId: null, basis: "LAW" })).not.toThrow();
    expect(refusal(() => check({ purposeId: null }))).toMatchObject({
      code: "BAD_USER_INPUT",
      message: "a transfer on the basis of consent must name the purpose consented to",
    });
  });

  it("takes 1 and 200 data categories, each a valid id, and refuses none or 201", () => {
    expect(() => check({ dataCategories: ids(200, "c") })).not.toThrow();
    expect(refusal(() => check({ dataCategories: [] }))).toMatchObject({ code: "BAD_USER_INPUT", message: "dataCategories must name what was transferred" });
    expect(refusal(() => check({ dataCategories: ids(201, "c") }))).toMatchObject({ code: "BAD_USER_INPUT", message: "dataCategories has more than 200 items" });
    expect(refusal(() => check({ dataCategories: ["profile", "bad category"] }))).toMatchObject({ code: "BAD_USER_INPUT", details: { field: "data category" } });
  });

  it("takes a note of 4096 characters and refuses a longer one", () => {
    expect(() => check({ note: "x".repeat(4_096) })).not.toThrow();
    expect(refusal(() => check({ note: "x".repeat(4_097) }))).toMatchObject({ code: "BAD_USER_INPUT", details: { field: "note" } });
  });

  it("takes an occurredAt up to 5 minutes ahead of the clock and refuses one further", () => {
    expect(() => check({ occurredAt: NOW + 5 * 60_000 })).not.toThrow();
    expect(refusal(() => check({ occurredAt: NOW + 5 * 60_000 + 1 }))).toMatchObject({ code: "BAD_USER_INPUT", message: "occurredAt lies more than 5 minutes in the future" });
  });

  it("takes an occurredAt as far back as the records are kept, and refuses one further", () => {
    const limit = TRANSFER_RETENTION_YEARS * 366 * DAY_MS;
    expect(() => check({ occurredAt: NOW - limit })).not.toThrow();
    expect(refusal(() => check({ occurredAt: NOW - limit - 1 }))).toMatchObject({ code: "BAD_USER_INPUT", message: "occurredAt lies further back than the records are kept" });
  });

  it("refuses a counterparty no published policy names", () => {
    expect(refusal(() => check({ counterpartyId: "nobody" }))).toMatchObject({ code: "NOT_FOUND", message: "no published policy names the recipient nobody" });
  });
});

describe("decideTransfer", () => {
  const counterparty = mailer();
  /** The base policy alone (one base policy: the one a provision's purpose is decided under). */
  const base = () => Catalog.of(catalog().policies()[0]!.versions);
  const ctxOf = (facts: Parameters<typeof subjectOf>[0]): TransferContext => ({ catalog: base(), view: viewOf(subjectOf(facts)), now: NOW });
  const grantedAds = ctxOf([accepted("base", 1, day(1)), granted("base", 1, "ads", day(1))]);
  const notGranted = ctxOf([accepted("base", 1, day(1))]);

  it("records a permitted provision with the counterparty, the data and how long it is kept", () => {
    expect(decideTransfer(cmd({ note: "batch 7" }), counterparty, "t1", grantedAds)).toEqual({
      type: "ThirdPartyTransferRecorded",
      occurredAt: NOW,
      data: {
        transferId: "t1",
        direction: "PROVIDED",
        counterparty,
        purposeId: "ads",
        dataCategories: ["profile"],
        basis: "CONSENT",
        retainUntil: retainUntil(NOW),
        note: { plain: "batch 7" },
      },
    });
  });

  it("carries no note when none is given, and copies the data categories", () => {
    const c = cmd();
    const e = decideTransfer(c, counterparty, "t1", grantedAds);
    expect(e.data).not.toHaveProperty("note");
    expect((e.data as { dataCategories: string[] }).dataCategories).not.toBe(c.dataCategories);
  });

  it("refuses a provision on consent the subject did not give, with the rule's reason", () => {
    const e = refusal(() => decideTransfer(cmd(), counterparty, "t1", notGranted));
    expect(e).toMatchObject({
      code: "TRANSFER_NOT_PERMITTED",
      message: "a subject's consent does not cover providing data to mailer for ads at that time",
      details: { reason: "NOT_GRANTED" },
    });
  });

  it("refuses a provision on consent with no view of the subject, as not granted", () => {
    expect(refusal(() => decideTransfer(cmd(), counterparty, "t1", { ...grantedAds, view: null }))).toMatchObject({ code: "TRANSFER_NOT_PERMITTED", details: { reason: "NOT_GRANTED" } });
  });

  it("records a receipt with its provider, or a provision on another basis, without asking for consent", () => {
    const provider = { name: "Source K.K.", address: "東京都", representative: null, acquisition: "本人から取得" };
    expect(decideTransfer(cmd({ direction: "RECEIVED", provider }), counterparty, "t1", { ...notGranted, view: null }).data).toMatchObject({ direction: "RECEIVED", provider });
    expect(decideTransfer(cmd({ basis: "LAW" }), counterparty, "t1", notGranted).data).toMatchObject({ basis: "LAW" });
  });
});
