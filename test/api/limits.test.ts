// The edge's defences through HTTP: depth and cost limits, body size, batching, CSRF, input scalars
// (error masking, which plants failures in the serving process, is in masked-errors.test.ts).
import { request } from "node:http";
import { getIntrospectionQuery } from "graphql";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { type TestServer, startTestServer } from "../support/harness.js";
import { freshId, ok, onboard } from "./helpers.js";

let srv: TestServer;
let token: string;

beforeAll(async () => {
  srv = await startTestServer();
  token = await srv.token("reader", "consent:self consent:read ledger:read");
});
afterAll(() => srv.close());
afterEach(() => vi.restoreAllMocks());

/** `policies { overrides { overrides { ... { id } } } }` with `levels` overrides: depth levels + 2. */
const overridesChain = (levels: number) => `{ policies { ${"overrides { ".repeat(levels)}id${" }".repeat(levels)} } }`;

async function post(body: string, headers: Record<string, string> = {}): Promise<{ status: number; text: string; json: () => { data?: unknown; errors?: { message: string; extensions?: { code?: string } }[] } }> {
  const res = await fetch(srv.url, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${token}`, ...headers }, body });
  const text = await res.text();
  return { status: res.status, text, json: () => JSON.parse(text) };
}

describe("query depth (limit 12)", () => {
  it("a query exactly at the limit runs", async () => {
    expect(srv.config.limits.maxDepth).toBe(12);
    const r = await srv.gql(overridesChain(10), {}, token);
    expect(r.errors).toBeUndefined();
  });

  it("one level deeper is refused with QUERY_TOO_DEEP before anything runs", async () => {
    const spy = vi.spyOn(srv.app.services.ledger.catalog, "policies");
    const r = await srv.gql(overridesChain(11), {}, token);
    expect(r.code).toBe("QUERY_TOO_DEEP");
    expect(r.status).toBe(400);
    expect(r.data ?? null).toBeNull();
    expect(spy).not.toHaveBeenCalled();
  });

  it("depth hidden in named fragments is counted", async () => {
    const frags = Array.from({ length: 12 }, (_, i) => `fragment F${i} on Policy { overrides { ${i < 11 ? `...F${i + 1}` : "id"} } }`).join("\n");
    const r = await srv.gql(`{ policies { ...F0 } }\n${frags}`, {}, token);
    expect(r.code).toBe("QUERY_TOO_DEEP");
  });

  it("depth through inline fragments and a real subject path is counted", async () => {
    const inner = `... on Policy { ${"overrides { ".repeat(8)}id${" }".repeat(8)} }`;
    const r = await srv.gql(`{ me { policyStandings { policy { overrides { ${inner} } } } } }`, {}, token);
    expect(r.code).toBe("QUERY_TOO_DEEP");
  });

  it("a circular introspection query is refused too", async () => {
    let inner = "name";
    for (let i = 0; i < 6; i++) inner = `fields { type { ${inner} } }`;
    const r = await srv.gql(`{ __schema { types { ${inner} } } }`, {}, token);
    expect(r.status).toBe(400);
    expect(["GRAPHQL_VALIDATION_FAILED", "QUERY_TOO_DEEP", "QUERY_TOO_COMPLEX"]).toContain(r.code);
  });
});

describe("query cost (limit 5000)", () => {
  const page = (alias: string, first: number) => `${alias}: events(first: ${first}) { edges { cursor node { id type position hash data } } }`;

  it("the event feed's default page and a full page of 1000 ids run", async () => {
    ok(await srv.gql(`{ events { edges { cursor node { id type position hash data } } pageInfo { hasNextPage endCursor } } }`, {}, token));
    ok(await srv.gql(`{ events(first: 1000) { edges { node { id } } } }`, {}, token));
  });

  it("a front end's whole catalogue (policies, versions, purposes, recipients) runs", async () => {
    const r = ok(
      await srv.gql<{ policies: unknown[] }>(
        `{ policies { id title currentVersion { number } versions { number effectiveAt requiresConsent digest purposes { id title description mode basis dataCategories consentTtlDays recipients { id name kind country privacyPolicyUrl } } } } }`,
        {},
        token,
      ),
    );
    expect(r.policies.length).toBeGreaterThan(0);
  });

  it("the same page repeated under several aliases is refused with QUERY_TOO_COMPLEX", async () => {
    const r = await srv.gql(`{ ${["a", "b", "c", "d", "e"].map((a) => page(a, 1000)).join(" ")} }`, {}, token);
    expect(r.code).toBe("QUERY_TOO_COMPLEX");
    expect(r.status).toBe(400);
    expect(r.data ?? null).toBeNull();
  });

  it("many permission checks times aliases is refused, counting checks passed as a variable", async () => {
    const checks = Array.from({ length: 500 }, (_, i) => ({ subjectId: `s${i}`, purposeId: "location" }));
    const one = `permissions(checks: $checks) { subjectId purposeId permitted reason status }`;
    const spy = vi.spyOn(srv.app.services.ledger, "permissions");
    const r = await srv.gql(`query($checks: [PermissionCheckInput!]!) { a: ${one} b: ${one} c: ${one} }`, { checks }, token);
    expect(r.code).toBe("QUERY_TOO_COMPLEX");
    expect(spy).not.toHaveBeenCalled();
    // One batch of 500 is within bounds.
    const single = ok(await srv.gql<{ permissions: unknown[] }>(`query($checks: [PermissionCheckInput!]!) { ${one} }`, { checks }, token));
    expect(single.permissions).toHaveLength(500);
  });

  it("graphql's standard introspection query runs for an authenticated caller (codegen, IDEs)", async () => {
    const r = await srv.gql<{ __schema: { queryType: { name: string } } }>(getIntrospectionQuery(), {}, token);
    expect(r.errors).toBeUndefined();
    expect(r.data?.__schema.queryType.name).toBe("Query");
  });

  it("introspection without a token is refused", async () => {
    const r = await srv.gql(`{ __schema { queryType { name } } }`, {}, null);
    expect(r.code).toBe("UNAUTHENTICATED");
  });
});

describe("request shape", () => {
  it("a body over 1 MB is refused with HTTP 413 (declared length)", async () => {
    const query = `{ policies { id } } # ${"x".repeat(1_100_000)}`;
    const r = await post(JSON.stringify({ query }));
    expect(r.status).toBe(413);
    expect(r.json().errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
  });

  it("a chunked body that grows past 1 MB is refused with HTTP 413", async () => {
    const url = new URL(srv.url);
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        { host: url.hostname, port: url.port, path: url.pathname, method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${token}`, "transfer-encoding": "chunked" } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on("error", reject);
      req.write(`{"query":"{ policies { id } } #`);
      const chunk = "y".repeat(64 * 1024);
      let sent = 0;
      const pump = () => {
        while (sent < 1_200_000) {
          sent += chunk.length;
          if (!req.write(chunk)) return void req.once("drain", pump);
        }
        req.end(`"}`);
      };
      pump();
    }).catch((e: NodeJS.ErrnoException) => {
      // The server may close the socket while the client still writes: that is a refusal too, but not the one wanted.
      throw new Error(`connection failed before a response: ${e.code}`);
    });
    expect(status).toBe(413);
  });

  it("a body just under the limit is read", async () => {
    const query = `{ policies { id } } # ${"x".repeat(900_000)}`;
    const r = await post(JSON.stringify({ query }));
    expect(r.status).toBe(200);
  });

  it("a batched request (a JSON array of operations) is refused, once per operation, running none", async () => {
    const r = await post(JSON.stringify([{ query: "{ policies { id } }" }, { query: "{ me { id } }" }]), { accept: "application/graphql-response+json" });
    expect(r.status).toBe(400);
    expect(r.text).not.toContain('"data"');
    const answers = JSON.parse(r.text) as { errors: { message: string }[] }[];
    expect(answers.map((a) => a.errors[0]!.message)).toEqual([expect.stringMatching(/batched requests/), expect.stringMatching(/batched requests/)]);
  });

  it("a body that is not JSON is refused with 400 BAD_REQUEST", async () => {
    const r = await post("{ not json");
    expect(r.status).toBe(400);
    expect(r.json().errors?.[0]?.extensions?.code).toBe("BAD_REQUEST");
  });

  it("an unknown path is 404", async () => {
    const res = await fetch(new URL("/nope", srv.url));
    expect(res.status).toBe(404);
  });
});

describe("CSRF prevention", () => {
  const getUrl = (query: string) => `${srv.url}?query=${encodeURIComponent(query)}`;

  it("a GET query without Authorization, a content-type or a preflight header is refused", async () => {
    const res = await fetch(getUrl("{ policies { id } }"));
    expect(res.status).toBe(400);
    expect(await res.text()).not.toContain('"data"');
  });

  it("a POST with a simple content-type (text/plain) is refused", async () => {
    const res = await fetch(srv.url, { method: "POST", headers: { "content-type": "text/plain", authorization: `Bearer ${token}` }, body: JSON.stringify({ query: "{ policies { id } }" }) });
    expect(res.status).toBe(400);
    expect(await res.text()).not.toContain('"data"');
  });

  it("a form-encoded POST (what a cross-site form sends) is refused", async () => {
    const res = await fetch(srv.url, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", authorization: `Bearer ${token}` },
      body: `query=${encodeURIComponent('mutation { leaveService { id } }')}`,
    });
    expect(res.status).toBe(400);
  });

  it("a GET query with Apollo's preflight header runs (the control), but a GET mutation never does", async () => {
    const res = await fetch(getUrl("{ policies { id } }"), { headers: { authorization: `Bearer ${token}`, "apollo-require-preflight": "true" } });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { data: { policies: unknown[] } }).data.policies.length).toBeGreaterThan(0);
    const me = freshId();
    const mut = await fetch(getUrl("mutation { leaveService { status } }"), { headers: { authorization: `Bearer ${await srv.token(me, "consent:self")}`, "apollo-require-preflight": "true" } });
    expect(mut.status).toBe(405);
    const still = ok(await srv.gql<{ subject: { status: string } }>(`query($s: ID!) { subject(id: $s) { status } }`, { s: me }, token));
    expect(still.subject.status).toBe("ACTIVE");
  });
});

describe("input scalars and validation", () => {
  const PERMISSION_AT = `query($s: ID!, $at: DateTime) { permission(subjectId: $s, purposeId: "location", at: $at) { permitted } }`;

  it.each([["yesterday"], ["2024-13-45T99:00:00Z"], ["2024-01-01T00:00:00"], [""], [1_700_000_000_000]])("a bad DateTime variable (%j) is BAD_USER_INPUT", async (at) => {
    const r = await srv.gql(PERMISSION_AT, { s: freshId(), at }, token);
    expect(r.code).toBe("BAD_USER_INPUT");
    expect(r.status).toBe(400);
  });

  it.each([['"yesterday"'], ['"2024-02-30T00:00:00Z"'], ["1700000000000"], ["true"]])("a bad DateTime literal (%s) is BAD_USER_INPUT", async (literal) => {
    const r = await srv.gql(`query($s: ID!) { permission(subjectId: $s, purposeId: "location", at: ${literal}) { permitted } }`, { s: freshId() }, token);
    expect(r.code).toBe("BAD_USER_INPUT");
    expect(r.status).toBe(400);
  });

  it("a good DateTime with an offset is read and shown back in UTC", async () => {
    const me = freshId();
    const rec = await onboard(srv, me, ["location"]);
    expect(rec.events[0]!.occurredAt).toMatch(/Z$/);
    const at = new Date(Date.now() + 1000).toISOString().replace("Z", "+00:00");
    const r = ok(await srv.gql<{ permission: { permitted: boolean } }>(PERMISSION_AT, { s: me, at }, token));
    expect(r.permission.permitted).toBe(true);
  });

  it("an unknown field is GRAPHQL_VALIDATION_FAILED", async () => {
    const r = await srv.gql(`{ policies { id secretColumn } }`, {}, token);
    expect(r.code).toBe("GRAPHQL_VALIDATION_FAILED");
    expect(r.status).toBe(400);
  });

  it("a syntax error is GRAPHQL_PARSE_FAILED", async () => {
    const r = await srv.gql(`{ policies { id `, {}, token);
    expect(r.code).toBe("GRAPHQL_PARSE_FAILED");
    expect(r.status).toBe(400);
  });

  it("a page size out of range is BAD_USER_INPUT", async () => {
    expect((await srv.gql(`{ events(first: 1001) { edges { cursor } } }`, {}, token)).code).toBe("BAD_USER_INPUT");
    expect((await srv.gql(`{ events(first: -1) { edges { cursor } } }`, {}, token)).code).toBe("BAD_USER_INPUT");
    expect((await srv.gql(`{ events(after: "not-a-cursor") { edges { cursor } } }`, {}, token)).code).toBe("BAD_USER_INPUT");
  });
});
