// Suspension, resumption, leaving and erasure through the API: who may do each, and what each status permits.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestServer, startTestServer } from "../support/harness.js";
import { ERASE, HISTORY, LEAVE, OPEN_REQUEST, PERMISSION, RECORD, RESUME, SUSPEND, tokens } from "./support.js";

let srv: TestServer;
let token: ReturnType<typeof tokens>;
const ADMIN = "subject:admin consent:read ledger:read";

beforeAll(async () => {
  srv = await startTestServer();
  token = tokens(srv);
});
afterAll(() => srv.close());

/** A subject who accepted v1 and granted location. */
async function enrol(id: string) {
  const r = await srv.gql(RECORD, { input: { policyVersion: 1, acceptPolicy: true, grant: ["location"] } }, await token(id, "consent:self"));
  expect(r.errors).toBeUndefined();
}

const permission = async (s: string, p: string) =>
  (await srv.gql<{ permission: { permitted: boolean; reason: string } }>(PERMISSION, { s, p }, await token("reader", "consent:read"))).data!.permission;

describe("suspendProcessing and resumeProcessing", () => {
  it("need subject:admin: the subject itself, a reader or no token are refused", async () => {
    await enrol("sam");
    expect((await srv.gql(SUSPEND, { s: "sam" }, await token("sam", "consent:self"))).code).toBe("FORBIDDEN");
    expect((await srv.gql(SUSPEND, { s: "sam" }, await token("reader", "consent:read consent:write ledger:read"))).code).toBe("FORBIDDEN");
    expect((await srv.gql(SUSPEND, { s: "sam" })).code).toBe("UNAUTHENTICATED");
    expect((await srv.gql(RESUME, { s: "sam" }, await token("sam", "consent:self"))).code).toBe("FORBIDDEN");
    expect(await permission("sam", "location")).toMatchObject({ permitted: true });
  });

  it("suspension stops everything but processing required by law, and resumption restores it", async () => {
    await enrol("sue");
    const s = await srv.gql<{ suspendProcessing: { status: string; version: number } }>(SUSPEND, { s: "sue", r: "asked by phone" }, await token("officer", ADMIN));
    expect(s.data?.suspendProcessing).toMatchObject({ status: "SUSPENDED", version: 3 });
    expect(await permission("sue", "location")).toMatchObject({ permitted: false, reason: "SUBJECT_SUSPENDED" });
    expect(await permission("sue", "service-provision")).toMatchObject({ permitted: false, reason: "SUBJECT_SUSPENDED" });
    // policy-notices has the basis LEGAL_OBLIGATION.
    expect(await permission("sue", "policy-notices")).toMatchObject({ permitted: true, reason: "REQUIRED_FOR_SERVICE" });
    // Suspending twice records nothing more.
    expect((await srv.gql<{ suspendProcessing: { version: number } }>(SUSPEND, { s: "sue" }, await token("officer", ADMIN))).data?.suspendProcessing.version).toBe(3);

    const r = await srv.gql<{ resumeProcessing: { status: string; version: number } }>(RESUME, { s: "sue" }, await token("officer", ADMIN));
    expect(r.data?.resumeProcessing).toMatchObject({ status: "ACTIVE", version: 4 });
    expect(await permission("sue", "location")).toMatchObject({ permitted: true, reason: "GRANTED" });

    const h = await srv.gql<{ subject: { history: { edges: { node: { type: string; actor: { kind: string; id: string }; data: Record<string, unknown> } }[] } } }>(
      HISTORY,
      { s: "sue" },
      await token("officer", ADMIN),
    );
    expect(h.errors).toBeUndefined();
    const nodes = h.data!.subject.history.edges.map((e) => e.node);
    expect(nodes.slice(2)).toMatchObject([
      { type: "ProcessingSuspended", actor: { kind: "OFFICER", id: "officer" }, data: { reason: "asked by phone" } },
      { type: "ProcessingResumed", actor: { kind: "OFFICER", id: "officer" } },
    ]);
  });
});

describe("leaveService", () => {
  it("the subject leaves itself with consent:self; another subject's id is refused", async () => {
    await enrol("leo");
    expect((await srv.gql(LEAVE, { s: "sam" }, await token("leo", "consent:self"))).code).toBe("FORBIDDEN");
    expect((await srv.gql(LEAVE, {}, await token("leo", "consent:read"))).code).toBe("FORBIDDEN");
    const r = await srv.gql<{ leaveService: { id: string; status: string } }>(LEAVE, {}, await token("leo", "consent:self"));
    expect(r.data?.leaveService).toMatchObject({ id: "leo", status: "LEFT" });
    expect(await permission("leo", "service-provision")).toMatchObject({ permitted: false, reason: "SUBJECT_LEFT" });
    expect(await permission("leo", "policy-notices")).toMatchObject({ permitted: false, reason: "SUBJECT_LEFT" });
  });

  it("an officer may make any subject leave; the event names the officer", async () => {
    await enrol("lea");
    const r = await srv.gql<{ leaveService: { status: string } }>(LEAVE, { s: "lea" }, await token("officer", ADMIN));
    expect(r.data?.leaveService.status).toBe("LEFT");
    const h = await srv.gql<{ subject: { history: { edges: { node: { type: string; actor: { kind: string } } }[] } } }>(HISTORY, { s: "lea" }, await token("officer", ADMIN));
    expect(h.data!.subject.history.edges.at(-1)!.node).toMatchObject({ type: "SubjectLeft", actor: { kind: "OFFICER" } });
  });

  it("a subject who left records nothing more, but may still open a data request and be erased", async () => {
    await enrol("lou");
    await srv.gql(LEAVE, {}, await token("lou", "consent:self"));
    const self = await token("lou", "consent:self");
    expect((await srv.gql(RECORD, { input: { policyVersion: 1, grant: ["location"] } }, self)).code).toBe("SUBJECT_INACTIVE");
    expect((await srv.gql(SUSPEND, { s: "lou" }, await token("officer", ADMIN))).code).toBe("SUBJECT_INACTIVE");
    expect((await srv.gql(RESUME, { s: "lou" }, await token("officer", ADMIN))).code).toBe("SUBJECT_INACTIVE");
    const again = await srv.gql<{ leaveService: { version: number } }>(LEAVE, {}, self);
    expect(again.data?.leaveService.version).toBe(3);
    expect((await srv.gql(OPEN_REQUEST, { input: { kind: "DISCLOSURE" } }, self)).errors).toBeUndefined();
    expect((await srv.gql<{ eraseSubject: { status: string } }>(ERASE, { s: "lou" }, await token("officer", ADMIN))).data?.eraseSubject.status).toBe("ERASED");
  });
});

describe("eraseSubject", () => {
  it("needs subject:admin; the subject itself may not erase", async () => {
    await enrol("eve");
    expect((await srv.gql(ERASE, { s: "eve" }, await token("eve", "consent:self"))).code).toBe("FORBIDDEN");
    expect((await srv.gql(ERASE, { s: "eve" }, await token("reader", "consent:read consent:write ledger:read policy:write"))).code).toBe("FORBIDDEN");
  });

  it("an erased subject is permitted nothing and records nothing more", async () => {
    await enrol("ezra");
    const r = await srv.gql<{ eraseSubject: { status: string; version: number } }>(ERASE, { s: "ezra", r: "court order" }, await token("officer", ADMIN));
    expect(r.data?.eraseSubject).toMatchObject({ status: "ERASED", version: 3 });
    for (const p of ["location", "service-provision", "policy-notices", "access-analytics"])
      expect(await permission("ezra", p)).toMatchObject({ permitted: false, reason: "SUBJECT_ERASED" });
    const self = await token("ezra", "consent:self");
    expect((await srv.gql(RECORD, { input: { policyVersion: 1, withdraw: ["location"] } }, self)).code).toBe("SUBJECT_INACTIVE");
    expect((await srv.gql(LEAVE, {}, self)).code).toBe("SUBJECT_INACTIVE");
    expect((await srv.gql(OPEN_REQUEST, { input: { kind: "DISCLOSURE" } }, self)).code).toBe("SUBJECT_INACTIVE");
    expect((await srv.gql(SUSPEND, { s: "ezra" }, await token("officer", ADMIN))).code).toBe("SUBJECT_INACTIVE");
    expect((await srv.gql(RESUME, { s: "ezra" }, await token("officer", ADMIN))).code).toBe("SUBJECT_INACTIVE");
    // Erasing again is a no-op, not an error: the officer's intent already holds.
    expect((await srv.gql<{ eraseSubject: { version: number } }>(ERASE, { s: "ezra" }, await token("officer", ADMIN))).data?.eraseSubject.version).toBe(3);
    const h = await srv.gql<{ subject: { status: string; history: { edges: { node: { type: string; actor: { kind: string }; data: Record<string, unknown> } }[] } } }>(
      HISTORY,
      { s: "ezra" },
      await token("officer", ADMIN),
    );
    expect(h.data!.subject.status).toBe("ERASED");
    expect(h.data!.subject.history.edges.at(-1)!.node).toEqual({ type: "SubjectErased", actor: { kind: "OFFICER", id: "officer" }, data: { reason: { erased: true } } });
  });
});
