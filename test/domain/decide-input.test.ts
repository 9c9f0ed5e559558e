// Every input check of recordConsent and publishPolicyVersion, at both sides of each limit, with the
// code, the field and the words of each refusal.
import { describe, expect, it } from "vitest";
import { Catalog, type Purpose, type Recipient } from "../../src/domain/catalog.js";
import {
  LIMITS,
  type PublishCommand,
  type RecordConsentCommand,
  checkExpectedVersion,
  checkId,
  checkText,
  decidePublish,
  decideRecordConsent,
  toPublishCommand,
} from "../../src/domain/decide.js";
import type { Evidence } from "../../src/domain/events.js";
import { P, accepted, baseCatalog, day, lifecycle, publishCommand, recordCommand, subjectOf } from "./fixtures.js";
import { refusal } from "../support/common.js";

const NOW = day(20);
/** Before version 2 of the fixture catalogue takes effect (day 10): accepting version 1 then is not accepting a superseded version. */
const BEFORE_V2 = day(5);
const fresh = subjectOf([]);
const acceptedV1 = subjectOf([accepted("base", 1, day(1))]);

const cmd = (over: Partial<RecordConsentCommand> = {}): RecordConsentCommand => recordCommand({ acceptPolicy: true, occurredAt: BEFORE_V2, ...over });
const record = (over: Partial<RecordConsentCommand> = {}, state = fresh, catalog = baseCatalog()) => decideRecordConsent(cmd(over), state, catalog, NOW);

const ids = (n: number, prefix = "p") => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

describe("an identifier", () => {
  it("of 1 and of 128 characters is accepted", () => {
    expect(() => checkId("purpose id", "a")).not.toThrow();
    expect(() => checkId("purpose id", "a".repeat(LIMITS.idLength))).not.toThrow();
    expect(LIMITS.idLength).toBe(128);
  });

  it("may use letters, digits and . _ : @ - after its first character", () => {
    for (const id of ["Z", "9", "a._:@-z", "urn:example:purpose-1", "user@example", "A1b2"]) expect(() => checkId("purpose id", id)).not.toThrow();
  });

  it.each([
    ["empty", ""],
    ["of 129 characters", "a".repeat(129)],
    ["starting with punctuation", "-abc"],
    ["starting with a space", " abc"],
    ["holding a space", "loc ation"],
    ["ending with a space", "abc "],
    ["ending with a newline", "abc\n"],
    ["holding a slash", "a/b"],
    ["holding a non-ASCII letter", "café"],
  ])("%s is refused with BAD_USER_INPUT naming the field and the rule", (_why, id) => {
    const e = refusal(() => checkId("purpose id", id));
    expect(e.code).toBe("BAD_USER_INPUT");
    expect(e.details).toEqual({ field: "purpose id" });
    expect(e.message).toBe("purpose id must be 1–128 characters of letters, digits and . _ : @ -");
  });
});

describe("a text", () => {
  it("at its limit is accepted, one character over is refused naming the field", () => {
    expect(() => checkText("note", "x".repeat(10), 10)).not.toThrow();
    const e = refusal(() => checkText("note", "x".repeat(11), 10));
    expect(e).toMatchObject({ code: "BAD_USER_INPUT", details: { field: "note" }, message: "note is longer than 10 characters" });
  });

  it("is limited to 4096 characters unless said otherwise", () => {
    expect(() => checkText("note", "x".repeat(4_096))).not.toThrow();
    expect(refusal(() => checkText("note", "x".repeat(4_097))).message).toBe("note is longer than 4096 characters");
  });

  it("may be left out (null or undefined)", () => {
    expect(() => checkText("note", null, 0)).not.toThrow();
    expect(() => checkText("note", undefined, 0)).not.toThrow();
  });
});

describe("recordConsent's lists", () => {
  it("take 200 purposes to grant or withdraw", () => {
    // 200 valid ids that are not purposes of the policy: the list passes its size check and
    // reaches the purpose check, which names them.
    expect(refusal(() => record({ grant: ids(200) })).code).toBe("UNKNOWN_PURPOSE");
    expect(refusal(() => record({ withdraw: ids(200) })).code).toBe("UNKNOWN_PURPOSE");
  });

  it.each(["grant", "withdraw"] as const)("refuse 201 purposes in %s, naming the list", (field) => {
    const e = refusal(() => record({ [field]: ids(201) }));
    expect(e).toMatchObject({ code: "BAD_USER_INPUT", details: { field }, message: `${field} has more than 200 items` });
  });

  it("check every purpose id, granted or withdrawn", () => {
    expect(refusal(() => record({ grant: ["ads", "bad id"] })).details).toEqual({ field: "purpose id" });
    expect(refusal(() => record({ withdraw: ["analytics", "bad id"] })).details).toEqual({ field: "purpose id" });
  });
});

describe("recordConsent's evidence", () => {
  const limits: [keyof Evidence, number][] = [
    ["channel", 256],
    ["formId", 256],
    ["locale", 256],
    ["ipAddress", 256],
    ["userAgent", 1_024],
  ];

  it.each(limits)("takes a %s of %i characters", (field, max) => {
    const [e] = record({ evidence: { [field]: "x".repeat(max) } });
    expect(e!.data).toMatchObject({ evidence: { plain: { [field]: "x".repeat(max) } } });
  });

  it.each(limits)("refuses a %s over %i characters, naming it", (field, max) => {
    const e = refusal(() => record({ evidence: { [field]: "x".repeat(max + 1) } }));
    expect(e).toMatchObject({ code: "BAD_USER_INPUT", details: { field: `evidence.${field}` }, message: `evidence.${field} is longer than ${max} characters` });
  });

  it("may be left out, and then no event carries any", () => {
    for (const e of record({ grant: ["ads"] })) expect(e.data).not.toHaveProperty("evidence");
  });
});

describe("recordConsent refuses", () => {
  it("an empty call, saying what to do", () => {
    const e = refusal(() => record({ acceptPolicy: false }));
    expect(e.code).toBe("BAD_USER_INPUT");
    expect(e.message).toMatch(/nothing to record/);
  });

  it("a purpose both granted and withdrawn, naming it", () => {
    const e = refusal(() => record({ grant: ["ads", "location"], withdraw: ["location", "analytics"] }));
    expect(e).toMatchObject({ code: "BAD_USER_INPUT", details: { purposeIds: ["location"] } });
    expect(e.message).toMatch(/granted and withdrawn/);
  });

  it.each([
    ["granted", { grant: ["ads", "ads"] }],
    ["withdrawn", { withdraw: ["analytics", "analytics"] }],
  ])("a purpose %s twice", (_why, over) => {
    const e = refusal(() => record(over));
    expect(e.code).toBe("BAD_USER_INPUT");
    expect(e.message).toMatch(/named twice/);
  });

  it.each([0, -1, 1.5, Number.NaN])("policyVersion %s", (policyVersion) => {
    const e = refusal(() => record({ policyVersion }));
    expect(e.code).toBe("BAD_USER_INPUT");
    expect(e.message).toMatch(/positive integer/);
  });

  it("an occurredAt more than 5 minutes ahead of the clock, saying so", () => {
    const e = refusal(() => record({ occurredAt: NOW + 5 * 60_000 + 1 }));
    expect(e.code).toBe("BAD_USER_INPUT");
    expect(e.message).toMatch(/5 minutes in the future/);
  });

  it("a version the policy does not have, naming both", () => {
    const e = refusal(() => record({ policyVersion: 3 }));
    expect(e).toMatchObject({ code: "UNKNOWN_POLICY_VERSION", message: "policy base has no version 3" });
  });

  it("purposes the version does not define, naming each", () => {
    const e = refusal(() => record({ grant: ["ads", "telepathy"], withdraw: ["clairvoyance"] }));
    expect(e).toMatchObject({ code: "UNKNOWN_PURPOSE", details: { purposeIds: ["telepathy", "clairvoyance"] } });
    expect(e.message).toMatch(/telepathy, clairvoyance/);
  });

  it("withdrawing required purposes, naming them", () => {
    const e = refusal(() => record({ acceptPolicy: false, withdraw: ["analytics", "service", "notices"] }, acceptedV1));
    expect(e).toMatchObject({ code: "REQUIRED_PURPOSE", details: { purposeIds: ["service", "notices"] } });
    expect(e.message).toMatch(/service, notices/);
  });

  it("a grant under a version that requires consent, naming the version", () => {
    const e = refusal(() => record({ acceptPolicy: false, grant: ["ads"] }));
    expect(e).toMatchObject({ code: "POLICY_NOT_ACCEPTED" });
    expect(e.message).toMatch(/version 1 of base requires consent/);
  });

  it("a subject who left, or was erased, saying which", () => {
    // Accepting the policy again is how a subject who left comes back; anything else is refused.
    expect(refusal(() => record({ acceptPolicy: false, withdraw: ["ads"] }, subjectOf([lifecycle("SubjectLeft", day(1))])))).toMatchObject({
      code: "SUBJECT_INACTIVE",
      message: "the subject has left the service",
    });
    expect(refusal(() => record({}, subjectOf([lifecycle("SubjectErased", day(1))])))).toMatchObject({
      code: "SUBJECT_INACTIVE",
      message: "the subject has been erased",
    });
  });

  it("an expected version that is not the subject's, with both versions", () => {
    const e = refusal(() => record({ expectedVersion: 3 }, acceptedV1));
    expect(e).toMatchObject({ code: "VERSION_CONFLICT", details: { expectedVersion: 3, actualVersion: 1 } });
    expect(e.message).toBe("expected version 3, the subject is at 1");
  });
});

describe("recordConsent accepts", () => {
  it("an acceptance alone, a grant alone and a withdrawal alone", () => {
    expect(record({}).map((e) => e.type)).toEqual(["PolicyAccepted"]);
    expect(record({ acceptPolicy: false, grant: ["ads"] }, acceptedV1).map((e) => e.type)).toEqual(["ConsentGranted"]);
    expect(record({ acceptPolicy: false, withdraw: ["ads"] }).map((e) => e.type)).toEqual(["ConsentWithdrawn"]);
  });

  it("an occurredAt exactly 5 minutes ahead of the clock", () => {
    expect(record({ policyVersion: 2, occurredAt: NOW + 5 * 60_000 })[0]!.occurredAt).toBe(NOW + 5 * 60_000);
  });

  it("policy version 1, the first", () => {
    expect(record({ policyVersion: 1 })[0]!.data).toMatchObject({ version: 1 });
  });

  it("a grant under a later version than the one accepted, when that version needs no consent", () => {
    expect(record({ acceptPolicy: false, policyVersion: 2, grant: ["location"], occurredAt: NOW }, acceptedV1)[0]!.data).toMatchObject({ version: 2 });
  });

  it("any expected version when none is given, and the subject's own", () => {
    expect(() => checkExpectedVersion(acceptedV1, null)).not.toThrow();
    expect(() => checkExpectedVersion(acceptedV1, 1)).not.toThrow();
    expect(() => checkExpectedVersion(fresh, 0)).not.toThrow();
  });
});

const recipient = (over: Partial<Recipient> = {}): Recipient => ({ id: "mailer", name: "Mailer Inc.", kind: "PROCESSOR", country: null, privacyPolicyUrl: null, ...over });
const purposeOf = (over: Partial<Purpose> = {}): Purpose => ({ ...P.ads, ...over });
const spec = publishCommand;
const publish = (over: Partial<PublishCommand> = {}, catalog = baseCatalog()) => decidePublish(spec(over), catalog, NOW);
const withPurpose = (over: Partial<Purpose>) => publish({ purposes: [purposeOf(over)] });

describe("publishPolicyVersion records", () => {
  it("the publication as given, numbered next, at the server's clock", () => {
    const e = publish({ documentUrl: "https://example.com/p", changeSummary: "clearer", purposes: [purposeOf({ dataCategories: ["contact", "ad-id"], recipients: [recipient()] })] });
    expect(e).toEqual({ type: "PolicyVersionPublished", occurredAt: NOW, data: { ...spec(), documentUrl: "https://example.com/p", changeSummary: "clearer", purposes: [purposeOf({ dataCategories: ["contact", "ad-id"], recipients: [recipient()] })], number: 3 } });
  });

  it("a policy that overrides a published one, and its next version overriding the same", () => {
    const first = publish({ policyId: "jp", overrides: "base" });
    expect(first.data).toMatchObject({ policyId: "jp", overrides: "base", number: 1 });
    const catalog = baseCatalog();
    catalog.add({ ...(first.data as PublishCommand & { number: number }), publishedAt: NOW });
    expect(publish({ policyId: "jp", overrides: "base" }, catalog).data).toMatchObject({ number: 2 });
  });
});

/** An https: address of exactly `n` characters. */
const urlOfLength = (n: number) => `https://example.jp/${"x".repeat(n - "https://example.jp/".length)}`;

describe("publishPolicyVersion refuses", () => {
  const refused = (over: Partial<PublishCommand>, catalog?: Catalog) => refusal(() => publish(over, catalog));

  it.each([
    ["an empty title", { title: "" }],
    ["a blank title", { title: "  \t" }],
  ])("%s", (_why, over) => {
    expect(refused(over)).toMatchObject({ code: "BAD_USER_INPUT", message: "a policy version needs a title" });
  });

  it.each([
    ["title", { title: "x".repeat(512) }, { title: "x".repeat(513) }],
    ["changeSummary", { changeSummary: "x".repeat(4_096) }, { changeSummary: "x".repeat(4_097) }],
    ["documentUrl", { documentUrl: urlOfLength(2_048) }, { documentUrl: urlOfLength(2_049) }],
  ] as const)("a %s over its limit, and takes one at it", (field, ok, over) => {
    expect(() => publish(ok)).not.toThrow();
    expect(refused(over)).toMatchObject({ code: "BAD_USER_INPUT", details: { field } });
  });

  it("an invalid policy id, naming the field", () => {
    expect(refused({ policyId: "no spaces" })).toMatchObject({ code: "BAD_USER_INPUT", details: { field: "policy id" } });
  });

  it.each([
    ["too short", "a".repeat(63)],
    ["too long", "a".repeat(65)],
    ["upper-case", "A".repeat(64)],
    ["not hex", "g".repeat(64)],
    ["prefixed with its algorithm", `sha256:${"a".repeat(64)}`],
    ["followed by more", `${"a".repeat(64)}\n`],
    ["empty", ""],
  ])("a digest %s", (_why, digest) => {
    expect(refused({ digest })).toMatchObject({ code: "BAD_USER_INPUT", message: expect.stringMatching(/64 lowercase hex digits/) });
  });

  it("no purposes", () => {
    expect(refused({ purposes: [] })).toMatchObject({ code: "BAD_USER_INPUT", message: "a policy version needs at least one purpose" });
  });

  it("takes 200 purposes and refuses 201", () => {
    const many = (n: number) => ids(n).map((id) => purposeOf({ id }));
    expect(publish({ purposes: many(200) }).data).toMatchObject({ purposes: expect.arrayContaining([expect.objectContaining({ id: "p199" })]) });
    expect(refused({ purposes: many(201) })).toMatchObject({ code: "BAD_USER_INPUT", details: { field: "purposes" } });
  });

  it("a purpose named twice, naming it", () => {
    expect(refused({ purposes: [P.service, P.ads, P.service] })).toMatchObject({ code: "BAD_USER_INPUT", message: "purpose service is named twice" });
  });

  it("a policy overriding itself", () => {
    expect(refused({ policyId: "x", overrides: "x" })).toMatchObject({ code: "BAD_USER_INPUT", message: "a policy cannot override itself" });
  });

  it("overriding a policy that is not published", () => {
    expect(refused({ policyId: "x", overrides: "nope" })).toMatchObject({ code: "UNKNOWN_POLICY", message: "policy nope is not published" });
  });

  it("overrides that would form a cycle", () => {
    const e = publish({ policyId: "jp", overrides: "base" });
    const catalog = baseCatalog();
    catalog.add({ ...(e.data as PublishCommand & { number: number }), publishedAt: NOW });
    expect(refused({ policyId: "base", overrides: "jp" }, catalog)).toMatchObject({ code: "BAD_USER_INPUT", message: "overrides would form a cycle" });
  });

  it("a later version changing what the policy overrides, saying what it overrides", () => {
    const catalog = Catalog.of([...baseCatalog().get("base")!.versions]);
    catalog.add({ ...(publish({ policyId: "other" }, catalog).data as PublishCommand & { number: number }), publishedAt: NOW });
    expect(refused({ overrides: "other" }, catalog)).toMatchObject({ message: "policy base overrides nothing; a later version cannot change that" });
    catalog.add({ ...(publish({ policyId: "jp", overrides: "base" }, catalog).data as PublishCommand & { number: number }), publishedAt: NOW });
    expect(refused({ policyId: "jp", overrides: null }, catalog)).toMatchObject({ code: "BAD_USER_INPUT", message: "policy jp overrides base; a later version cannot change that" });
    expect(refused({ policyId: "jp", overrides: "other" }, catalog)).toMatchObject({ code: "BAD_USER_INPUT" });
  });
});

describe("publishPolicyVersion checks each purpose", () => {
  it("for a valid id", () => {
    expect(refusal(() => withPurpose({ id: "" }))).toMatchObject({ code: "BAD_USER_INPUT", details: { field: "purpose id" } });
  });

  it.each(["", "   "])("for a title (%j refused)", (title) => {
    expect(refusal(() => withPurpose({ title }))).toMatchObject({ code: "BAD_USER_INPUT", message: "purpose ads needs a title" });
  });

  it("for a title of at most 512 characters and a description of at most 4096", () => {
    expect(() => withPurpose({ title: "x".repeat(512), description: "x".repeat(4_096) })).not.toThrow();
    expect(refusal(() => withPurpose({ title: "x".repeat(513) }))).toMatchObject({ details: { field: "purpose ads title" } });
    expect(refusal(() => withPurpose({ description: "x".repeat(4_097) }))).toMatchObject({ details: { field: "purpose ads description" } });
  });

  it.each(["OPT_IN", "OPT_OUT", "REQUIRED"] as const)("takes the mode %s", (mode) => {
    expect(withPurpose({ mode }).data).toMatchObject({ purposes: [{ mode }] });
  });

  it("refuses an unknown mode, which the permission rule could not evaluate", () => {
    expect(refusal(() => withPurpose({ mode: "MAYBE" as Purpose["mode"] }))).toMatchObject({ code: "BAD_USER_INPUT", message: "purpose ads: unknown mode" });
  });

  it.each(["CONSENT", "CONTRACT", "LEGAL_OBLIGATION", "LEGITIMATE_INTEREST", "VITAL_INTEREST", "PUBLIC_TASK"] as const)("takes the basis %s", (basis) => {
    expect(withPurpose({ basis }).data).toMatchObject({ purposes: [{ basis }] });
  });

  it("refuses an unknown basis", () => {
    expect(refusal(() => withPurpose({ basis: "WHIM" as Purpose["basis"] }))).toMatchObject({ code: "BAD_USER_INPUT", message: "purpose ads: unknown basis" });
  });

  it("for at most 200 data categories, each a valid id", () => {
    expect(() => withPurpose({ dataCategories: ids(200, "c") })).not.toThrow();
    expect(refusal(() => withPurpose({ dataCategories: ids(201, "c") }))).toMatchObject({ details: { field: "purpose ads dataCategories" } });
    expect(refusal(() => withPurpose({ dataCategories: ["contact", "bad category"] }))).toMatchObject({ details: { field: "data category" } });
  });

  it("for at most 200 recipients", () => {
    const many = (n: number) => ids(n, "r").map((id) => recipient({ id }));
    expect(() => withPurpose({ recipients: many(200) })).not.toThrow();
    expect(refusal(() => withPurpose({ recipients: many(201) }))).toMatchObject({ details: { field: "purpose ads recipients" } });
  });

  it.each([1, 30, 36_500, null])("takes a consentTtlDays of %s", (consentTtlDays) => {
    expect(withPurpose({ consentTtlDays }).data).toMatchObject({ purposes: [{ consentTtlDays }] });
  });

  it.each([0, -1, 36_501, 1.5, Number.NaN, Number.POSITIVE_INFINITY])("refuses a consentTtlDays of %s", (consentTtlDays) => {
    expect(refusal(() => withPurpose({ consentTtlDays }))).toMatchObject({
      code: "BAD_USER_INPUT",
      message: "purpose ads: consentTtlDays must be a whole number of days from 1 to 36500",
    });
  });
});

describe("publishPolicyVersion checks each recipient", () => {
  const withRecipients = (...recipients: Recipient[]) => withPurpose({ recipients });

  it.each(["PROCESSOR", "THIRD_PARTY", "EXTERNAL_MODULE"] as const)("takes the kind %s", (kind) => {
    expect(withRecipients(recipient({ kind })).data).toMatchObject({ purposes: [{ recipients: [{ kind }] }] });
  });

  it("refuses an unknown kind", () => {
    expect(refusal(() => withRecipients(recipient({ kind: "FRIEND" as Recipient["kind"] })))).toMatchObject({ code: "BAD_USER_INPUT", message: "recipient mailer: unknown kind" });
  });

  it("refuses a recipient named twice in one purpose, but not the same one in two purposes", () => {
    expect(refusal(() => withRecipients(recipient(), recipient({ kind: "THIRD_PARTY" })))).toMatchObject({
      code: "BAD_USER_INPUT",
      message: "purpose ads names recipient mailer twice",
    });
    expect(() => publish({ purposes: [purposeOf({ recipients: [recipient()] }), purposeOf({ id: "ads2", recipients: [recipient()] })] })).not.toThrow();
  });

  it("refuses an invalid recipient id", () => {
    expect(refusal(() => withRecipients(recipient({ id: "a b" })))).toMatchObject({ details: { field: "recipient id" } });
  });

  it.each(["DE", "JP", "US", null])("takes the country %s", (country) => {
    expect(() => withRecipients(recipient({ country }))).not.toThrow();
  });

  it.each(["de", "DEU", "D", "", "xDE", "DEx", "1DE", "D1", "D E"])("refuses the country %j (not ISO 3166-1 alpha-2)", (country) => {
    expect(refusal(() => withRecipients(recipient({ country })))).toMatchObject({
      code: "BAD_USER_INPUT",
      message: "recipient mailer: country must be an ISO 3166-1 alpha-2 code",
    });
  });

  it("takes a name of 512 characters and a privacy policy address of 2048, and refuses longer", () => {
    expect(() => withRecipients(recipient({ name: "x".repeat(512), privacyPolicyUrl: urlOfLength(2_048) }))).not.toThrow();
    expect(refusal(() => withRecipients(recipient({ name: "x".repeat(513) })))).toMatchObject({ details: { field: "recipient mailer name" } });
    expect(refusal(() => withRecipients(recipient({ privacyPolicyUrl: urlOfLength(2_049) })))).toMatchObject({ details: { field: "recipient mailer privacyPolicyUrl" } });
  });
});

describe("toPublishCommand", () => {
  it("keeps everything given, data categories and recipients included", () => {
    const full = spec({
      overrides: "base",
      documentUrl: "https://example.com/p",
      changeSummary: "clearer",
      purposes: [purposeOf({ description: "ads", dataCategories: ["contact", "ad-id"], consentTtlDays: 30, recipients: [recipient({ country: "DE", privacyPolicyUrl: "https://mailer.example/p" })] })],
    });
    // Recipients' Art. 28 details and the controller are filled with null when left out.
    expect(toPublishCommand(full)).toEqual({
      ...full,
      controller: null,
      documentText: null,
      purposes: full.purposes.map((p) => ({ ...p, recipients: p.recipients.map((r) => ({ ...r, countryProtectionSystem: null, measures: null, recipientPurpose: null, equivalentMeasures: false })) })),
    });
  });

  it("copies the lists rather than sharing them with the input", () => {
    const input = spec({ purposes: [purposeOf({ dataCategories: ["contact"] })] });
    const out = toPublishCommand(input);
    expect(out.purposes[0]!.dataCategories).not.toBe(input.purposes[0]!.dataCategories);
  });

  it("fills members left out with null and no recipients", () => {
    const { overrides: _o, documentUrl: _d, changeSummary: _c, ...rest } = spec();
    const bare = { ...rest, purposes: [{ id: "ads", title: "Ads", mode: "OPT_IN" as const, basis: "CONSENT" as const, dataCategories: ["ad-id"] }] };
    expect(toPublishCommand(bare)).toEqual({
      ...spec(),
      controller: null,
      documentText: null,
      purposes: [{ id: "ads", title: "Ads", description: null, mode: "OPT_IN", basis: "CONSENT", dataCategories: ["ad-id"], recipients: [], consentTtlDays: null }],
    });
    const r = toPublishCommand({ ...bare, purposes: [{ ...bare.purposes[0]!, recipients: [{ id: "m", name: "M", kind: "PROCESSOR" }] }] });
    expect(r.purposes[0]!.recipients).toEqual([
      { id: "m", name: "M", kind: "PROCESSOR", country: null, privacyPolicyUrl: null, countryProtectionSystem: null, measures: null, recipientPurpose: null, equivalentMeasures: false },
    ]);
  });
});
