// Actor ids are visible characters only; subject ids shaped like contact data are recognised.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkPseudonymousSubject, identifyingShape, isValidActorId, MAX_ACTOR_ID_LENGTH } from "../../src/domain/identifiers.js";

describe("finding 11: isValidActorId", () => {
  it("accepts the sub shapes identity providers issue", () => {
    for (const id of ["alice", "auth0|5f7c8ec7c33c6c004bbafe82", "svc@clients", "4f1c2b8e-8d6a-4c2e-9b1f-0a2b3c4d5e6f", "ユーザー1", "e\u0301cole"]) expect(isValidActorId(id), id).toBe(true);
  });
  it("refuses empty, overlong, and any id with a control, format (bidi, zero-width) or separator character", () => {
    expect(isValidActorId("")).toBe(false);
    expect(isValidActorId("a".repeat(MAX_ACTOR_ID_LENGTH))).toBe(true);
    expect(isValidActorId("a".repeat(MAX_ACTOR_ID_LENGTH + 1))).toBe(false);
    const bad = fc.constantFrom("\u0000", "\n", "\u007f", "\u202e", "\u2066", "\u200b", "\u200f", "\ufeff", " ", "\u00a0", "\u2028", "\u3000");
    fc.assert(
      fc.property(fc.string({ maxLength: 20 }), bad, fc.string({ maxLength: 20 }), (before, c, after) => {
        expect(isValidActorId(`${before}${c}${after}`)).toBe(false);
      }),
    );
  });
});

describe("finding 9: isValidActorId refuses characters that draw nothing", () => {
  it("refuses a Hangul filler, a blank braille pattern or any default-ignorable code point anywhere in the id", () => {
    const invisible = fc.constantFrom("\u3164", "\u2800", "\u115f", "\u1160", "\uffa0", "\u200b", "\u200c", "\u200d", "\u200e", "\u200f", "\u2060", "\u2064", "\u206f", "\ufeff", "\u180e", "\ufe0f", "\u00ad", "\u034f");
    fc.assert(
      fc.property(fc.string({ maxLength: 20 }), invisible, fc.string({ maxLength: 20 }), (before, c, after) => {
        expect(isValidActorId(`${before}${c}${after}`)).toBe(false);
      }),
    );
  });
  it("still accepts Hangul, kana and kanji ids", () => {
    for (const id of ["관리자", "ユーザー", "管理者", "ㄱㄴ"]) expect(isValidActorId(id), id).toBe(true);
  });
});

describe("finding 11: identifyingShape", () => {
  it("recognises email addresses and phone numbers", () => {
    expect(identifyingShape("hana.sato@example.co.jp")).toBe("email address");
    for (const p of ["090-1234-5678", "03-1234-5678", "0312345678", "0120.123.456", "00819012345678"]) expect(identifyingShape(p), p).toBe("phone number");
  });
  it("lets pseudonymous ids through", () => {
    for (const id of ["alice", "u-3f9a", "12345678901", "svc@clients", "0", "007", "a@b", "2024-06-01"]) expect(identifyingShape(id), id).toBeNull();
  });
  it("refuses only new subjects, and not when identifying ids are allowed", () => {
    expect(() => checkPseudonymousSubject("a@example.com", true, false)).toThrow(expect.objectContaining({ code: "BAD_USER_INPUT" }));
    expect(() => checkPseudonymousSubject("a@example.com", false, false)).not.toThrow();
    expect(() => checkPseudonymousSubject("a@example.com", true, true)).not.toThrow();
  });
});

describe("identifyingShape's bounds", () => {
  it("counts 9 to 15 digits as a phone number, separators aside, and not 8 or 16", () => {
    expect(identifyingShape("012345678")).toBe("phone number");
    expect(identifyingShape("012-345-678")).toBe("phone number");
    expect(identifyingShape("012345678901234")).toBe("phone number");
    expect(identifyingShape("01234567")).toBeNull();
    expect(identifyingShape("0123456789012345")).toBeNull();
    expect(identifyingShape("0123-4567-8901-2345")).toBeNull();
  });

  it("needs a leading 0, digits only and single separators between groups", () => {
    for (const id of ["112345678", "0123456789x", "x0123456789", "0123--456789", "0123456789-", "-0123456789"]) expect(identifyingShape(id), id).toBeNull();
  });

  it("needs one @, something either side and a top-level domain of two letters or more", () => {
    expect(identifyingShape("a@b.jp")).toBe("email address");
    // A domain written with the root's trailing dot is the same address.
    expect(identifyingShape("a@b.jp.")).toBe("email address");
    for (const id of ["a@b.c", "@b.jp", "a@.jp", "a@b@c.jp", "a@b.j2", "a@b.jp..", "a@b.", "xa@b.jp1"]) expect(identifyingShape(id), id).toBeNull();
  });
});

describe("checkPseudonymousSubject's refusal", () => {
  it("says which kind of contact data the id looks like and names the field", () => {
    const refusal = (id: string) => {
      try {
        checkPseudonymousSubject(id, true, false);
      } catch (e) {
        return e;
      }
      throw new Error("expected a refusal");
    };
    expect(refusal("hana@example.jp")).toMatchObject({
      code: "BAD_USER_INPUT",
      details: { field: "subjectId" },
      message: "subjectId looks like an email address; subject ids must be pseudonymous (an id from your user table, not contact data)",
    });
    expect(refusal("090-1234-5678")).toMatchObject({ message: expect.stringMatching(/^subjectId looks like a phone number;/) });
  });

  it("lets a pseudonymous new subject through", () => {
    expect(() => checkPseudonymousSubject("u-4f1c", true, false)).not.toThrow();
  });
});

describe("isValidActorId's characters", () => {
  it("may start with a letter, digit, punctuation or symbol, and carry combining marks only after the first", () => {
    for (const id of ["a", "1", "-x", "$x", "x\u0301"]) expect(isValidActorId(id), id).toBe(true);
    expect(isValidActorId("\u0301x")).toBe(false);
  });
});
