// Issue 9 item 6: the hot reads run compiled by graphql-jit, with the same answers and the same errors as graphql-js.
import { parse } from "graphql";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { GraphQLPipeline } from "../../src/graphql/pipeline.js";
import { buildLedgerSchema } from "../../src/graphql/schema.js";
import { type TestServer, startTestServer } from "../support/harness.js";
import { freshId, ok, onboard } from "./helpers.js";

let srv: TestServer;
let alice: string;
let tokens: Record<"self" | "reader" | "writer" | "none", string>;

beforeAll(async () => {
  srv = await startTestServer();
  alice = freshId("alice");
  await onboard(srv, alice, ["location"]);
  tokens = {
    self: await srv.token(alice, "consent:self"),
    reader: await srv.token("svc", "consent:read"),
    writer: await srv.token("svc-w", "consent:write"),
    none: "not-a-token",
  };
});
afterAll(() => srv.close());

/** POSTs the same request with compiled reads on and off; the raw answers, error ids aside. */
async function bothWays(query: string, variables: Record<string, unknown>, token: string): Promise<{ compiled: unknown; interpreted: unknown }> {
  const { config } = srv.app.services;
  const send = async () => {
    const res = await fetch(srv.url, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${token}` }, body: JSON.stringify({ query, variables }) });
    const text = (await res.text()).replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, "<id>");
    return { status: res.status, body: JSON.parse(text) as unknown };
  };
  config.compiledReads = true;
  const compiled = await send();
  config.compiledReads = false;
  const interpreted = await send();
  config.compiledReads = true;
  return { compiled, interpreted };
}

const PERMISSION = `query P($s: ID!, $p: ID!, $at: DateTime) { permission(subjectId: $s, purposeId: $p, at: $at) { subjectId policyId purposeId permitted status reason policyVersion since expiresAt } }`;
const PERMISSIONS = `query Ps($checks: [PermissionCheckInput!]!) { permissions(checks: $checks) { subjectId purposeId permitted reason __typename } }`;
const ME = `query Me($withHistory: Boolean!) {
  me { id status version ...Consents history(first: 5) @include(if: $withHistory) { edges { cursor node { type data actor { kind } } } pageInfo { hasNextPage } } }
}
fragment Consents on Subject { consents { purpose { id mode } status permitted reason since expiresAt policyVersion } policyStandings { needsReconsent acceptedVersion { number } } }`;

const cases: [string, string, () => Record<string, unknown>, () => string][] = [
  ["permission, granted, for oneself", PERMISSION, () => ({ s: alice, p: "location" }), () => tokens.self],
  ["permission read by a service", PERMISSION, () => ({ s: alice, p: "access-analytics" }), () => tokens.reader],
  ["permission at a past instant", PERMISSION, () => ({ s: alice, p: "location", at: "2020-01-01T00:00:00Z" }), () => tokens.reader],
  ["permission for an unknown purpose", PERMISSION, () => ({ s: alice, p: "no-such-purpose" }), () => tokens.reader],
  ["an error placed on a later line, with CRLF line ends", PERMISSION.replace("{ permission", "{\r\n  \r\n permission"), () => ({ s: "someone-else", p: "location" }), () => tokens.self],
  ["permission of another subject: FORBIDDEN", PERMISSION, () => ({ s: "someone-else", p: "location" }), () => tokens.self],
  ["permission without the scope: FORBIDDEN", PERMISSION, () => ({ s: alice, p: "location" }), () => tokens.writer],
  ["permission with a bad DateTime: BAD_USER_INPUT", PERMISSION, () => ({ s: alice, p: "location", at: "yesterday" }), () => tokens.reader],
  ["permission with a variable missing", PERMISSION, () => ({ s: alice }), () => tokens.reader],
  ["permission with a variable of the wrong type", PERMISSION, () => ({ s: { id: alice }, p: "location" }), () => tokens.reader],
  ["permission without a token: UNAUTHENTICATED", PERMISSION, () => ({ s: alice, p: "location" }), () => tokens.none],
  ["permissions, a batch with aliases' worth of subjects", PERMISSIONS, () => ({ checks: [{ subjectId: alice, purposeId: "location" }, { subjectId: "nobody-yet", purposeId: "location" }] }), () => tokens.reader],
  ["permissions with another subject for consent:self: FORBIDDEN", PERMISSIONS, () => ({ checks: [{ subjectId: alice, purposeId: "location" }, { subjectId: "x", purposeId: "location" }] }), () => tokens.self],
  ["permissions with more than 500 checks: BAD_USER_INPUT", PERMISSIONS, () => ({ checks: Array.from({ length: 501 }, () => ({ subjectId: alice, purposeId: "location" })) }), () => tokens.reader],
  ["me with consents, standings and history", ME, () => ({ withHistory: true }), () => tokens.self],
  ["me without history (@include false)", ME, () => ({ withHistory: false }), () => tokens.self],
  ["me for a caller without consent:self: FORBIDDEN", ME, () => ({ withHistory: false }), () => tokens.reader],
];

describe("issue 9 item 6: compiled hot reads answer exactly as graphql-js does", () => {
  it.each(cases)("%s", async (_name, query, variables, token) => {
    const { compiled, interpreted } = await bothWays(query, variables(), token());
    expect(compiled).toEqual(interpreted);
  });

  it("an unexpected failure is masked the same way on both paths", async () => {
    const spy = vi.spyOn(srv.app.services.ledger, "permissions").mockImplementation(() => {
      throw new Error("disk on fire at /var/lib/secret");
    });
    const { compiled, interpreted } = await bothWays(PERMISSION, { s: alice, p: "location" }, tokens.reader);
    spy.mockRestore();
    expect(compiled).toEqual(interpreted);
    expect(JSON.stringify(compiled)).toContain("INTERNAL_SERVER_ERROR");
    expect(JSON.stringify(compiled)).not.toContain("secret");
  });

  it("the answers are real: a granted purpose is permitted on both paths", async () => {
    const { compiled } = await bothWays(PERMISSION, { s: alice, p: "location" }, tokens.self);
    expect(compiled).toMatchObject({ status: 200, body: { data: { permission: { permitted: true, reason: "GRANTED" } } } });
    ok(await srv.gql(`{ me { id } }`, {}, tokens.self));
  });
});

describe("which operations run compiled", () => {
  it("permission, permissions and me are compiled; mutations, other reads and mixed queries are not", async () => {
    const pipeline = new GraphQLPipeline({ schema: await buildLedgerSchema(), services: srv.app.services, verifier: { verify: () => Promise.reject(new Error("unused")), readiness: async () => null } });
    const compiledOf = (q: string) => pipeline.compiled(parse(q), undefined);
    expect(compiledOf(PERMISSION)).not.toBeNull();
    expect(compiledOf(`{ me { id } }`)).not.toBeNull();
    expect(compiledOf(`{ a: permission(subjectId: "a", purposeId: "b") { permitted } b: me { id } }`)).not.toBeNull();
    expect(compiledOf(`{ me { id } policies { id } }`)).toBeNull();
    expect(compiledOf(`{ ledgerIntegrity { ok } }`)).toBeNull();
    expect(compiledOf(`mutation { leaveService { status } }`)).toBeNull();
  });
});
