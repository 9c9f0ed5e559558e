// requireScope, subjectFor and actorFor: the who-may-do-what rules.
import { describe, expect, it } from "vitest";
import { NOTICE_SCOPES, actorFor, authenticated, noticeSubjectFor, readsAnothersData, requireScope, subjectFor } from "../../src/auth/authorize.js";
import { caller, refusal } from "./support.js";

describe("requireScope", () => {
  it("refuses no caller as UNAUTHENTICATED", () => {
    const e = refusal(() => requireScope(null, "ledger:read"));
    expect(e.code).toBe("UNAUTHENTICATED");
    expect(e.message).toBe("authentication required");
  });
  it("returns the caller holding any one of the scopes", () => {
    const c = caller("alice", "consent:read");
    expect(requireScope(c, "ledger:read", "consent:read")).toBe(c);
  });
  it("refuses a caller without the scope as FORBIDDEN, naming the scopes needed", () => {
    const e = refusal(() => requireScope(caller("alice", "consent:self"), "ledger:read", "subject:admin"));
    expect(e.code).toBe("FORBIDDEN");
    expect(e.message).toContain("ledger:read or subject:admin");
  });
});

describe("authenticated", () => {
  it("returns the caller, and refuses none as UNAUTHENTICATED", () => {
    const c = caller("alice");
    expect(authenticated(c)).toBe(c);
    expect(refusal(() => authenticated(null)).code).toBe("UNAUTHENTICATED");
  });
  it("requireScope with no scope named only asks for a caller", () => {
    const c = caller("alice");
    expect(requireScope(c)).toBe(c);
    expect(refusal(() => requireScope(null)).code).toBe("UNAUTHENTICATED");
  });
});

describe("subjectFor", () => {
  it("refuses no caller as UNAUTHENTICATED", () => {
    expect(refusal(() => subjectFor(null, "alice", ["consent:read"])).code).toBe("UNAUTHENTICATED");
  });
  it("gives a consent:self caller its own id when subjectId is omitted", () => {
    expect(subjectFor(caller("alice", "consent:self"), undefined, ["consent:read"])).toBe("alice");
    expect(subjectFor(caller("alice", "consent:self"), null, ["consent:read"])).toBe("alice");
  });
  it("lets a consent:self caller name itself", () => {
    expect(subjectFor(caller("alice", "consent:self"), "alice", ["consent:read"])).toBe("alice");
  });
  it("lets a caller with the others-scope name itself", () => {
    expect(subjectFor(caller("svc", "consent:read"), "svc", ["consent:read"])).toBe("svc");
  });
  it("lets a caller with the others-scope name another subject", () => {
    expect(subjectFor(caller("svc", "consent:read"), "bob", ["consent:read"])).toBe("bob");
  });
  it("refuses a consent:self caller naming another subject, without revealing anything about it", () => {
    const e = refusal(() => subjectFor(caller("alice", "consent:self"), "bob-secret-id", ["consent:read"]));
    expect(e.code).toBe("FORBIDDEN");
    expect(e.message).not.toContain("bob");
    expect(e.message).toContain("consent:read");
    expect(e.details).toBeUndefined();
  });
  it("asks a caller with only the others-scope to name the subject", () => {
    const e = refusal(() => subjectFor(caller("svc", "subject:admin"), undefined, ["subject:admin"]));
    expect(e.code).toBe("BAD_USER_INPUT");
    expect(e.message).toBe("subjectId is required");
  });
  it("refuses a caller with neither scope as FORBIDDEN, whether or not it names a subject", () => {
    expect(refusal(() => subjectFor(caller("x", "ledger:read"), undefined, ["consent:read"])).code).toBe("FORBIDDEN");
    expect(refusal(() => subjectFor(caller("x", "ledger:read"), "x", ["consent:read"])).code).toBe("FORBIDDEN");
    expect(refusal(() => subjectFor(caller("x", "ledger:read"), "y", ["consent:read"])).code).toBe("FORBIDDEN");
  });
  it("refuses an empty subjectId as BAD_USER_INPUT", () => {
    expect(refusal(() => subjectFor(caller("alice", "consent:self"), "", ["consent:read"])).code).toBe("BAD_USER_INPUT");
  });
  it("accepts any one of several others-scopes", () => {
    expect(subjectFor(caller("officer", "ledger:read"), "bob", ["consent:read", "ledger:read"])).toBe("bob");
    expect(subjectFor(caller("officer", "consent:read"), "bob", ["consent:read", "ledger:read"])).toBe("bob");
    expect(refusal(() => subjectFor(caller("officer", "subject:admin"), "bob", ["consent:read", "ledger:read"])).code).toBe("FORBIDDEN");
  });
  it("names every scope that would do when refusing", () => {
    const e = refusal(() => subjectFor(caller("x", "policy:write"), undefined, ["subject:admin", "ledger:read"]));
    expect(e.code).toBe("FORBIDDEN");
    expect(e.message).toContain("consent:self or subject:admin or ledger:read");
  });
  it("with no others-scope, lets a caller act only on itself", () => {
    expect(subjectFor(caller("alice", "consent:self"), null, [])).toBe("alice");
    expect(refusal(() => subjectFor(caller("alice", "ledger:read"), null, [])).code).toBe("FORBIDDEN");
    const e = refusal(() => subjectFor(caller("alice", "consent:self", "consent:read"), "bob-secret-id", []));
    expect(e.code).toBe("FORBIDDEN");
    expect(e.message).not.toContain("bob");
  });
});

describe("actorFor", () => {
  it("records the subject itself when it acts on itself with consent:self", () => {
    expect(actorFor(caller("alice", "consent:self"), "alice")).toEqual({ kind: "SUBJECT", id: "alice" });
  });
  it("records an officer for subject:admin or policy:write acting on others", () => {
    expect(actorFor(caller("olga", "subject:admin"), "bob")).toEqual({ kind: "OFFICER", id: "olga" });
    expect(actorFor(caller("olga", "policy:write"), null)).toEqual({ kind: "OFFICER", id: "olga" });
  });
  it("records a service otherwise", () => {
    expect(actorFor(caller("crm", "consent:write"), "bob")).toEqual({ kind: "SERVICE", id: "crm" });
    expect(actorFor(caller("alice", "consent:self", "consent:write"), "bob")).toEqual({ kind: "SERVICE", id: "alice" });
  });
});

describe("noticeSubjectFor", () => {
  it("records a notice for oneself with consent:self, for anyone with consent:write", () => {
    expect(NOTICE_SCOPES).toEqual(["consent:write"]);
    expect(noticeSubjectFor(caller("alice", "consent:self"), null)).toBe("alice");
    expect(noticeSubjectFor(caller("svc", "consent:write"), "bob")).toBe("bob");
    expect(refusal(() => noticeSubjectFor(caller("alice", "consent:self"), "bob"))).toMatchObject({ code: "FORBIDDEN", message: "acting on another subject needs the scope consent:write" });
    expect(refusal(() => noticeSubjectFor(caller("svc", "consent:read"), "bob")).code).toBe("FORBIDDEN");
  });
});

describe("readsAnothersData", () => {
  it("is a read by a caller of a subject other than itself", () => {
    expect(readsAnothersData(caller("auditor", "ledger:read"), "alice")).toBe(true);
    expect(readsAnothersData(caller("alice", "consent:self"), "alice")).toBe(false);
    expect(readsAnothersData(caller("auditor", "ledger:read"), null)).toBe(false);
    expect(readsAnothersData(null, "alice")).toBe(false);
  });
});
