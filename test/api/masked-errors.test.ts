// Unexpected failures are masked: planted with spies on the serving process's objects (the ledger, the
// receipt signer), so this suite runs where the test's process serves (not with WORKERS > 1, whose
// workers are other processes); its log is the test's own.
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { type TestServer, startTestServer } from "../support/harness.js";
import { errorsOverWs, metricValue } from "../subscriptions/ws-client.js";
import { freshId, memoryLogger } from "./helpers.js";

let srv: TestServer;
let token: string;
const log = memoryLogger();

beforeAll(async () => {
  srv = await startTestServer({ logger: log.logger });
  token = await srv.token("reader", "consent:self consent:read ledger:read");
});
afterAll(() => srv.close());
afterEach(() => vi.restoreAllMocks());

const overWs = (token: string, query: string, field: string) => errorsOverWs(srv.url, token, query, field);
const metric = (line: string) => metricValue(srv.url, line);

async function post(body: string): Promise<{ status: number; text: string; json: () => { data?: unknown; errors?: { message: string; extensions?: { code?: string } }[] } }> {
  const res = await fetch(srv.url, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${token}` }, body });
  const text = await res.text();
  return { status: res.status, text, json: () => JSON.parse(text) };
}

describe("masked internal errors", () => {
  const SECRET = 'SQLITE_ERROR: near "DROP": syntax error in SELECT * FROM consents_secret_table WHERE subject_id = \'victim-42\'';

  it("an unexpected failure reads INTERNAL_SERVER_ERROR with an error id, no stack and no secret; the log holds the same id and the detail", async () => {
    vi.spyOn(srv.app.services.ledger, "permission").mockImplementation(() => {
      throw new Error(SECRET);
    });
    const res = await post(JSON.stringify({ query: `{ permission(subjectId: "${freshId()}", purposeId: "location") { permitted } }` }));
    const body = res.json();
    const err = body.errors?.[0] as { message: string; extensions: { code: string; errorId: string; stacktrace?: unknown } };
    expect(err.extensions.code).toBe("INTERNAL_SERVER_ERROR");
    expect(err.extensions.errorId).toMatch(/^[0-9a-f-]{36}$/);
    expect(err.extensions.stacktrace).toBeUndefined();
    for (const leak of ["SQLITE", "consents_secret_table", "victim-42", "DROP", "at ", ".ts:", "node_modules"]) expect(res.text).not.toContain(leak);
    const logged = log.lines().find((l) => l["errorId"] === err.extensions.errorId);
    expect(logged, "the log holds the error id").toBeDefined();
    expect(JSON.stringify(logged)).toContain("consents_secret_table");
  });

  it("a failure inside a mutation is masked the same way", async () => {
    vi.spyOn(srv.app.services.receipts, "sign").mockRejectedValue(new Error(`key material at /secret/path/receipt.jwk: ${SECRET}`));
    const me = freshId();
    const t = await srv.token(me, "consent:self");
    const res = await fetch(srv.url, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${t}` },
      body: JSON.stringify({ query: `mutation { recordConsent(input: { policyVersion: 1, acceptPolicy: true }) { receipt } }` }),
    });
    const text = await res.text();
    expect(text).toContain("INTERNAL_SERVER_ERROR");
    expect(text).not.toContain("/secret/path");
    expect(text).not.toContain("consents_secret_table");
    const errorId = (JSON.parse(text) as { errors: { extensions: { errorId: string } }[] }).errors[0]!.extensions.errorId;
    expect(log.lines().some((l) => l["errorId"] === errorId)).toBe(true);
  });

  it("masks an internal error the same way on both: an error id, never the cause", async () => {
    const token = await srv.token("svc", "consent:read");
    const spy = vi.spyOn(srv.app.services.ledger.catalog, "policies").mockImplementation(() => {
      throw new Error("connection string postgres://secret");
    });
    try {
      const counted = 'graphql_errors_total{code="INTERNAL_SERVER_ERROR"}';
      const before = await metric(counted);
      const http = await srv.gql(`query Broken { policies { id } }`, {}, token);
      const ws = await overWs(token, `query Broken { policies { id } }`, "policies");
      for (const e of [http.errors?.[0], ws?.[0]]) {
        expect(e?.extensions?.["code"]).toBe("INTERNAL_SERVER_ERROR");
        expect(e?.message).toMatch(/^Internal server error \(error id [0-9a-f-]{36}\)$/);
        expect(JSON.stringify(e)).not.toMatch(/secret/);
      }
      expect(await metric(counted)).toBe(before + 2);
    } finally {
      spy.mockRestore();
    }
  });
});
