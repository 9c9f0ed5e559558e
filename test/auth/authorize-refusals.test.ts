// What each refusal of the authorization rules says, and the actor recorded for each kind of caller.
import { describe, expect, it } from "vitest";
import { actorFor, requireScope, subjectFor } from "../../src/auth/authorize.js";
import { caller, refusal } from "./support.js";

describe("the refusals of subjectFor say what would do", () => {
  it("an empty subjectId", () => {
    expect(refusal(() => subjectFor(caller("svc", "consent:read"), "", ["consent:read"]))).toMatchObject({
      code: "BAD_USER_INPUT",
      message: "subjectId must not be empty",
    });
  });

  it("a caller without consent:self or another's scope, naming itself", () => {
    expect(refusal(() => subjectFor(caller("x", "ledger:read"), "x", ["consent:read", "subject:admin"]))).toMatchObject({
      code: "FORBIDDEN",
      message: "this operation needs the scope consent:self or consent:read or subject:admin",
    });
  });

  it("a caller naming another subject, without naming it", () => {
    expect(refusal(() => subjectFor(caller("alice", "consent:self"), "bob", ["consent:read", "subject:admin"]))).toMatchObject({
      code: "FORBIDDEN",
      message: "acting on another subject needs the scope consent:read or subject:admin",
    });
  });

  it("a caller naming another subject where nobody may", () => {
    expect(refusal(() => subjectFor(caller("alice", "consent:self", "subject:admin"), "bob", []))).toMatchObject({
      code: "FORBIDDEN",
      message: "a caller may act only on itself here",
    });
  });

  it("a caller with only another's scope and no subjectId is asked for one, not refused", () => {
    expect(refusal(() => subjectFor(caller("svc", "consent:read"), null, ["consent:read"])).code).toBe("BAD_USER_INPUT");
  });
});

describe("requireScope", () => {
  it("names the one scope needed", () => {
    expect(refusal(() => requireScope(caller("x", "consent:self"), "policy:write")).message).toBe("this operation needs the scope policy:write");
  });

  it("accepts a caller holding the last of several scopes", () => {
    const c = caller("x", "subject:admin");
    expect(requireScope(c, "policy:write", "ledger:read", "subject:admin")).toBe(c);
  });
});

describe("actorFor", () => {
  it("records an officer acting on itself without consent:self", () => {
    expect(actorFor(caller("olga", "subject:admin"), "olga")).toEqual({ kind: "OFFICER", id: "olga" });
  });

  it("records a subject acting on itself as the subject, even with an officer's scope", () => {
    expect(actorFor(caller("alice", "consent:self", "subject:admin"), "alice")).toEqual({ kind: "SUBJECT", id: "alice" });
  });

  it("records a consent:self caller naming no subject by its scopes, not as the subject", () => {
    expect(actorFor(caller("alice", "consent:self"), null)).toEqual({ kind: "SERVICE", id: "alice" });
  });

  it("takes the officer scopes it is given", () => {
    expect(actorFor(caller("olga", "ledger:read"), "bob", ["ledger:read"])).toEqual({ kind: "OFFICER", id: "olga" });
    expect(actorFor(caller("olga", "subject:admin"), "bob", ["ledger:read"])).toEqual({ kind: "SERVICE", id: "olga" });
  });
});
