// scopesFromClaims reads `scope` and `scp` and ignores junk.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isScope, SCOPES, scopesFromClaims } from "../../src/auth/scopes.js";

describe("scopesFromClaims", () => {
  it("reads a space-separated scope string", () => {
    expect([...scopesFromClaims({ scope: " consent:self  ledger:read " })]).toEqual(["consent:self", "ledger:read"]);
  });
  it("reads scp as an array and as a string", () => {
    expect([...scopesFromClaims({ scp: ["consent:read", "policy:write"] })]).toEqual(["consent:read", "policy:write"]);
    expect([...scopesFromClaims({ scp: "consent:read policy:write" })]).toEqual(["consent:read", "policy:write"]);
  });
  it("unions scope and scp", () => {
    expect(scopesFromClaims({ scope: "consent:self", scp: ["ledger:read"] })).toEqual(new Set(["consent:self", "ledger:read"]));
  });
  it("finding 10: splits on U+0020 only, so no other whitespace joins two scopes into a grant", () => {
    expect([...scopesFromClaims({ scope: "consent:self\u3000consent:read" })]).toEqual(["consent:self\u3000consent:read"]);
    const otherSpace = fc.constantFrom("\t", "\n", "\r", "\u00a0", "\u2003", "\u3000", "\u2028", "\ufeff");
    fc.assert(
      fc.property(fc.constantFrom(...SCOPES), fc.constantFrom(...SCOPES), otherSpace, (a, b, sep) => {
        const got = scopesFromClaims({ scope: `${a}${sep}${b}`, scp: `${b}${sep}${a}` });
        expect([...got].some(isScope)).toBe(false);
      }),
    );
  });
  it("ignores values of other types", () => {
    expect(scopesFromClaims({ scope: 42, scp: [1, null, { a: 1 }, "subject:admin"] })).toEqual(new Set(["subject:admin"]));
    expect(scopesFromClaims({ scope: null, scp: { x: "consent:self" } }).size).toBe(0);
    expect(scopesFromClaims({}).size).toBe(0);
  });
});

describe("SCOPES", () => {
  it("are the six original scopes and transfer:write", () => {
    expect(SCOPES).toEqual(["consent:self", "consent:read", "consent:write", "ledger:read", "policy:write", "subject:admin", "transfer:write"]);
    expect(isScope("consent:self")).toBe(true);
    expect(isScope("admin")).toBe(false);
  });
});
