// authorizeEventProof and mayReadPersonal: who may see an event's proof and a subject's personal members.
import { describe, expect, it } from "vitest";
import { authorizeEventProof, mayReadPersonal } from "../../src/auth/authorize.js";
import { caller, refusal } from "./support.js";

describe("authorizeEventProof", () => {
  it("refuses no caller as UNAUTHENTICATED and a caller with neither scope as FORBIDDEN", () => {
    expect(refusal(() => authorizeEventProof(null, "alice")).code).toBe("UNAUTHENTICATED");
    expect(refusal(() => authorizeEventProof(caller("alice", "consent:read"), "alice"))).toMatchObject({
      code: "FORBIDDEN",
      message: "this operation needs the scope ledger:read or consent:self",
    });
  });

  it("with ledger:read, allows any subject's event and a policy event, and says NOT_FOUND for no event", () => {
    const auditor = caller("auditor", "ledger:read");
    expect(() => authorizeEventProof(auditor, "alice")).not.toThrow();
    expect(() => authorizeEventProof(auditor, null)).not.toThrow();
    expect(refusal(() => authorizeEventProof(auditor, undefined))).toMatchObject({ code: "NOT_FOUND", message: "no event has this id" });
    // Holding consent:self as well changes nothing for an auditor.
    expect(() => authorizeEventProof(caller("auditor", "ledger:read", "consent:self"), "bob")).not.toThrow();
  });

  it("with consent:self only, allows one's own event and gives one FORBIDDEN for another's, a policy's or none", () => {
    const alice = caller("alice", "consent:self");
    expect(() => authorizeEventProof(alice, "alice")).not.toThrow();
    for (const subjectId of ["bob", null, undefined]) {
      expect(refusal(() => authorizeEventProof(alice, subjectId))).toMatchObject({
        code: "FORBIDDEN",
        message: "with consent:self, a caller may ask only for proofs of its own events",
      });
    }
  });
});

describe("mayReadPersonal", () => {
  it("is false without a caller", () => {
    expect(mayReadPersonal(null, "alice")).toBe(false);
  });

  it("is true for an auditor with ledger:read, for any subject or none", () => {
    expect(mayReadPersonal(caller("auditor", "ledger:read"), "alice")).toBe(true);
    expect(mayReadPersonal(caller("auditor", "ledger:read"), null)).toBe(true);
  });

  it("is true for the subject itself with consent:self, and only then", () => {
    expect(mayReadPersonal(caller("alice", "consent:self"), "alice")).toBe(true);
    expect(mayReadPersonal(caller("alice", "consent:self"), "bob")).toBe(false);
    expect(mayReadPersonal(caller("alice", "consent:self"), null)).toBe(false);
    // consent:read asks "may I process", never for evidence; nor does an officer scope.
    expect(mayReadPersonal(caller("alice", "consent:read", "subject:admin"), "alice")).toBe(false);
  });
});
