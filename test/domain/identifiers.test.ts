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
