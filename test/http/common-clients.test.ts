// What common GraphQL clients send beyond a plain POST: Apollo's batching, Apollo's and OpenTelemetry's headers.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestServer, startTestServer } from "../support/harness.js";

const FRONT_END = "https://www.example.jp";
const ME = "query Me { me { id version } }";

let srv: TestServer;
let token: string;
beforeAll(async () => {
  srv = await startTestServer({ env: { CORS_ORIGINS: FRONT_END } });
  token = await srv.token("s-batch", "consent:self");
});
afterAll(() => srv.close());

const post = (body: unknown, headers: Record<string, string> = {}) =>
  fetch(srv.url, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${token}`, ...headers }, body: JSON.stringify(body) });

describe("batched requests (Apollo's BatchHttpLink)", () => {
  it("answer one error per operation, naming batching and what to use instead, and run none of them", async () => {
    // What BatchHttpLink sends: an array of operations, accept */*.
    const res = await post(
      [
        { operationName: "Me", query: ME, variables: {} },
        { operationName: "Record", query: `mutation Record { recordConsent(input: { policyVersion: 1, acceptPolicy: true }) { subject { id } } }`, variables: {} },
      ],
      { accept: "*/*" },
    );
    expect(res.status).toBe(200);
    const body = (await res.json()) as { data?: unknown; errors: { message: string; extensions: { code: string } }[] }[];
    expect(body).toHaveLength(2);
    for (const r of body) {
      expect(r.data).toBeUndefined();
      expect(r.errors[0]!.message).toMatch(/batched requests .* not supported: send one operation per request .*HttpLink instead of BatchHttpLink/);
      expect(r.errors[0]!.extensions.code).toBe("BAD_REQUEST");
    }
    // The mutation did not run: the subject has no history.
    const me = (await (await post({ query: ME })).json()) as { data: { me: { id: string; version: number } } };
    expect(me.data.me).toEqual({ id: "s-batch", version: 0 });
  });

  it("are a 400 for a client that asks for application/graphql-response+json, and an empty array gets an answer too", async () => {
    const res = await post([], { accept: "application/graphql-response+json" });
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toContain("application/graphql-response+json");
    const body = (await res.json()) as { errors: { message: string }[] }[];
    expect(body).toHaveLength(1);
    expect(body[0]!.errors[0]!.message).toMatch(/batched requests/);
  });
});

describe("the CORS preflight", () => {
  it("allows the headers Apollo Client and OpenTelemetry send", async () => {
    const asked = "authorization, content-type, apollographql-client-name, apollographql-client-version, traceparent, tracestate";
    const res = await fetch(srv.url, { method: "OPTIONS", headers: { origin: FRONT_END, "access-control-request-method": "POST", "access-control-request-headers": asked } });
    expect(res.status).toBe(204);
    const allowed = (res.headers.get("access-control-allow-headers") ?? "").toLowerCase().split(/,\s*/);
    for (const h of asked.split(", ")) expect(allowed).toContain(h);
  });

  it("and a request carrying them is answered, readable by the front end", async () => {
    const res = await post(
      { query: ME },
      { origin: FRONT_END, "apollographql-client-name": "web", "apollographql-client-version": "1.2.3", traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", tracestate: "vendor=1" },
    );
    expect(res.status).toBe(200);
    expect(res.headers.get("access-control-allow-origin")).toBe(FRONT_END);
    expect(((await res.json()) as { errors?: unknown }).errors).toBeUndefined();
  });
});
