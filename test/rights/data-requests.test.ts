// Data requests (APPI Arts. 33-35) through the API: open, verify identity, close; due dates, the overdue queue, fulfilment.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DAY_MS } from "../../src/domain/time.js";
import { type TestServer, startTestServer } from "../support/harness.js";
import { CLOSE_REQUEST, HISTORY, OPEN_REQUEST, PERMISSION, RECORD, REQUEST_QUEUE, VERIFY_REQUEST, tokens } from "./support.js";
import { sqlite } from "../support/ledger-commands.js";

interface Req {
  id: string;
  subjectId: string;
  kind: string;
  status: string;
  openedAt: string;
  dueAt: string;
  closedAt: string | null;
  note: string | null;
}

const START = Date.parse("2025-04-01T09:00:00.000Z");
let now = START;
let srv: TestServer;
let token: ReturnType<typeof tokens>;
const OFFICER = "subject:admin";

beforeAll(async () => {
  srv = await startTestServer({ clock: () => now, env: { DATA_REQUEST_DUE_DAYS: "10" } });
  token = tokens(srv);
});
afterAll(() => srv.close());

async function open(subject: string, kind: string, note?: string): Promise<Req> {
  const r = await srv.gql<{ openDataRequest: Req }>(OPEN_REQUEST, { input: { kind, ...(note ? { note } : {}) } }, await token(subject, "consent:self"));
  expect(r.errors).toBeUndefined();
  return r.data!.openDataRequest;
}
const verify = async (id: string, m = "my number card at the counter") =>
  srv.gql<{ verifyDataRequestIdentity: Req }>(VERIFY_REQUEST, { id, m }, await token("officer", OFFICER));
const close = async (id: string, f: boolean, n?: string) => srv.gql<{ closeDataRequest: Req }>(CLOSE_REQUEST, { id, f, ...(n ? { n } : {}) }, await token("officer", OFFICER));
const queue = async (vars: { st?: string; o?: boolean }) =>
  (await srv.gql<{ dataRequests: Req[] }>(REQUEST_QUEUE, vars, await token("officer", OFFICER))).data!.dataRequests;
type History = { status: string; history: { edges: { node: { type: string; actor: { kind: string; id: string }; data: Record<string, unknown> } }[] } };
/** The subject's history without the PersonalDataAccessed notes that officers' reads append (those are tested in test/compliance). */
const historyOf = async (s: string): Promise<History> => {
  const subject = (await srv.gql<{ subject: History }>(HISTORY, { s }, await token("officer", "ledger:read"))).data!.subject;
  return { ...subject, history: { edges: subject.history.edges.filter((e) => e.node.type !== "PersonalDataAccessed") } };
};

describe("a disclosure request's whole path", () => {
  it("opens with a due date, refuses early fulfilment, goes overdue, then is fulfilled; every step is an event with its actor", async () => {
    now = START;
    const r = await open("hana", "DISCLOSURE", "please send me everything you hold");
    expect(r).toMatchObject({ subjectId: "hana", kind: "DISCLOSURE", status: "OPEN", openedAt: new Date(START).toISOString(), closedAt: null, note: "please send me everything you hold" });
    expect(Date.parse(r.dueAt) - Date.parse(r.openedAt)).toBe(10 * DAY_MS);

    // Fulfilling before the requester's identity is verified is refused and records nothing.
    const early = await close(r.id, true);
    expect(early.code).toBe("IDENTITY_NOT_VERIFIED");
    expect((await historyOf("hana")).history.edges).toHaveLength(1);

    now = START + 2 * DAY_MS;
    const v = await verify(r.id);
    expect(v.data?.verifyDataRequestIdentity.status).toBe("IDENTITY_VERIFIED");
    expect((await verify(r.id)).code).toBe("INVALID_STATE");

    expect((await queue({ o: true })).map((x) => x.id)).not.toContain(r.id);
    now = START + 10 * DAY_MS + 1;
    expect((await queue({ o: true })).map((x) => x.id)).toContain(r.id);
    expect((await queue({ o: false })).map((x) => x.id)).not.toContain(r.id);
    expect((await queue({ st: "IDENTITY_VERIFIED", o: true })).map((x) => x.id)).toContain(r.id);
    expect((await queue({ st: "OPEN" })).map((x) => x.id)).not.toContain(r.id);

    const done = await close(r.id, true, "sent the export by registered mail");
    expect(done.data?.closeDataRequest).toMatchObject({ status: "FULFILLED", closedAt: new Date(now).toISOString(), note: "sent the export by registered mail" });
    expect((await queue({ o: true })).map((x) => x.id)).not.toContain(r.id);
    expect((await queue({ st: "FULFILLED" })).map((x) => x.id)).toContain(r.id);
    expect((await close(r.id, false)).code).toBe("INVALID_STATE");

    const h = await historyOf("hana");
    expect(h.status).toBe("ACTIVE");
    expect(h.history.edges.map((e) => e.node)).toMatchObject([
      { type: "DataRequestOpened", actor: { kind: "SUBJECT", id: "hana" }, data: { requestId: r.id, kind: "DISCLOSURE" } },
      { type: "DataRequestIdentityVerified", actor: { kind: "OFFICER", id: "officer" }, data: { requestId: r.id, method: "my number card at the counter" } },
      { type: "DataRequestClosed", actor: { kind: "OFFICER", id: "officer" }, data: { requestId: r.id, fulfilled: true } },
    ]);
  });

  it("a rejected request needs no identity check and is closed as REJECTED", async () => {
    now = START;
    const r = await open("ivo", "CORRECTION");
    const rejected = await close(r.id, false, "nothing to correct");
    expect(rejected.data?.closeDataRequest).toMatchObject({ status: "REJECTED", note: "nothing to correct" });
  });
});

describe("who may work data requests", () => {
  it("a subject opens its own requests only; only an officer verifies and closes", async () => {
    now = START;
    const self = await token("jun", "consent:self");
    expect((await srv.gql(OPEN_REQUEST, { input: { subjectId: "hana", kind: "DISCLOSURE" } }, self)).code).toBe("FORBIDDEN");
    const r = await open("jun", "DISCLOSURE");
    expect((await srv.gql(VERIFY_REQUEST, { id: r.id, m: "selfie" }, self)).code).toBe("FORBIDDEN");
    expect((await srv.gql(CLOSE_REQUEST, { id: r.id, f: false }, self)).code).toBe("FORBIDDEN");
    expect((await srv.gql(REQUEST_QUEUE, {}, self)).code).toBe("FORBIDDEN");
    expect((await srv.gql(REQUEST_QUEUE, {}, await token("reader", "consent:read"))).code).toBe("FORBIDDEN");
    expect((await srv.gql(VERIFY_REQUEST, { id: "no-such-request", m: "x" }, await token("officer", OFFICER))).code).toBe("NOT_FOUND");
    // An officer opens a request on a subject's behalf (a letter, a phone call); the event names the officer.
    const byOfficer = await srv.gql<{ openDataRequest: Req }>(OPEN_REQUEST, { input: { subjectId: "jun", kind: "SUSPENSION" } }, await token("officer", OFFICER));
    expect(byOfficer.data?.openDataRequest.subjectId).toBe("jun");
    expect((await historyOf("jun")).history.edges.at(-1)!.node.actor).toEqual({ kind: "OFFICER", id: "officer" });
  });
});

describe("fulfilment acts", () => {
  it("fulfilling a SUSPENSION suspends processing", async () => {
    now = START;
    await srv.gql(RECORD, { input: { policyVersion: 1, acceptPolicy: true, grant: ["location"] } }, await token("kai", "consent:self"));
    const r = await open("kai", "SUSPENSION");
    await verify(r.id);
    expect((await close(r.id, true)).data?.closeDataRequest.status).toBe("FULFILLED");
    const h = await historyOf("kai");
    expect(h.status).toBe("SUSPENDED");
    expect(h.history.edges.at(-1)!.node).toMatchObject({ type: "ProcessingSuspended", actor: { kind: "OFFICER" }, data: { dataRequestId: r.id } });
    const p = await srv.gql<{ permission: { reason: string } }>(PERMISSION, { s: "kai", p: "location" }, await token("reader", "consent:read"));
    expect(p.data?.permission.reason).toBe("SUBJECT_SUSPENDED");
  });

  it("fulfilling a DELETION erases the subject", async () => {
    now = START;
    await srv.gql(RECORD, { input: { policyVersion: 1, acceptPolicy: true, evidence: { ipAddress: "192.0.2.44" } } }, await token("lin", "consent:self"));
    const r = await open("lin", "DELETION", "delete me");
    await verify(r.id);
    const done = await close(r.id, true);
    expect(done.data?.closeDataRequest).toMatchObject({ status: "FULFILLED", note: "[erased]" });
    const h = await historyOf("lin");
    expect(h.status).toBe("ERASED");
    expect(h.history.edges.at(-1)!.node).toMatchObject({ type: "SubjectErased", data: { dataRequestId: r.id } });
    expect(h.history.edges[0]!.node.data).toMatchObject({ evidence: { erased: true } });
    expect(sqlite(srv.app.services.ledger).vault.hasKey("lin")).toBe(false);
  });
});
