// Trusted documents: a request naming a document by hash (documentId, or Apollo's persistedQuery
// extension) is answered exactly as the same document sent as text through Apollo; an unknown hash is
// PERSISTED_QUERY_NOT_FOUND; TRUSTED_DOCUMENTS_ONLY refuses other texts; over WebSocket too.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readFileSync } from "node:fs";
import {
  type GraphQLInputType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  buildSchema,
  getNullableType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isScalarType,
  parse,
  typeFromAST,
} from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SCOPES } from "../../src/auth/scopes.js";
import { SHIPPED_DOCUMENTS } from "../../src/graphql/shipped-documents.js";
import { sha256Hex } from "../../src/graphql/trusted-documents.js";
import { expiredToken } from "../support/expired-token.js";
import { RawWsClient } from "../support/raw-ws-client.js";
import { type TestServer, startTestServer } from "../support/harness.js";
import { type Sent, normalisedPost } from "../support/normalised-post.js";
import { BASE_POLICY, freshId, onboard } from "./helpers.js";

/** The README's examples and the HTTP bench's operations (bench/http.ts), trusted through an operator's file. */
const OPERATOR_DOCUMENTS = [
  "{ me { id status version consents { purpose { id mode } status permitted } } }",
  "mutation($i: RecordConsentInput!) { recordConsent(input: $i) { subject { version } receipt } }",
  '{ permission(subjectId: "alice", purposeId: "location") { permitted reason } }',
  "query($s: ID!, $p: ID!) { permission(subjectId: $s, purposeId: $p) { permitted reason status } }",
  "mutation($input: RecordConsentInput!) { recordConsent(input: $input) { subject { id version } receipt } }",
];

const schema: GraphQLSchema = buildSchema(readFileSync("schema.graphql", "utf8"));
let srv: TestServer;
let alice: string;
let tokens: [string, string | null][];

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), "trusted-"));
  const file = join(dir, "persisted-documents.json");
  // Keys as the client preset writes them, prefixed; plain hex is accepted too.
  writeFileSync(file, JSON.stringify(Object.fromEntries(OPERATOR_DOCUMENTS.map((d, i) => [i % 2 === 0 ? `sha256:${sha256Hex(d)}` : sha256Hex(d), d]))));
  srv = await startTestServer({ env: { TRUSTED_DOCUMENTS: file } });
  alice = freshId("alice");
  await onboard(srv, alice, ["location"]);
  const expired = await expiredToken(srv, alice, SCOPES.join(" "));
  tokens = [
    ...(await Promise.all(SCOPES.map(async (s): Promise<[string, string]> => [s, await srv.token(s === "consent:self" ? alice : `svc-${s}`, s)]))),
    ["every scope", await srv.token("svc-all", SCOPES.join(" "))],
    ["no token", null],
    ["an expired token", expired],
    ["a malformed token", "not-a-token"],
  ];
});
afterAll(() => srv.close());

const post = (body: Record<string, unknown>, token: string | null, subjects: string[] = [], accept?: string): Promise<Sent> =>
  normalisedPost(srv.url, body, token, subjects, accept);

/** Variables a client could send for the operation: required inputs filled by type, ids by name. */
function variablesFor(op: OperationDefinitionNode, subject: string): Record<string, unknown> {
  const valueOf = (type: GraphQLInputType, name: string, depth: number): unknown => {
    const t = getNullableType(type);
    if (isListType(t)) return [valueOf(t.ofType, name, depth)];
    if (isEnumType(t)) return t.getValues()[0]!.name;
    if (isInputObjectType(t)) {
      const out: Record<string, unknown> = {};
      for (const f of Object.values(t.getFields())) if (isNonNullType(f.type) && f.defaultValue === undefined && depth < 4) out[f.name] = valueOf(f.type, f.name, depth + 1);
      if (t.name === "RecordConsentInput") Object.assign(out, { policyVersion: 1, acceptPolicy: true, grant: ["location"] });
      return out;
    }
    if (isScalarType(t)) {
      if (t.name === "Int") return 1;
      if (t.name === "Boolean") return false;
      if (t.name === "DateTime") return "2030-01-01T00:00:00Z";
      if (t.name === "JSON") return {};
      if (/purpose/i.test(name)) return "location";
      if (/policy/i.test(name)) return BASE_POLICY;
      return subject;
    }
    return null;
  };
  const out: Record<string, unknown> = {};
  for (const v of op.variableDefinitions ?? []) {
    const type = typeFromAST(schema, v.type as never) as GraphQLInputType | undefined;
    if (type && isNonNullType(type) && !v.defaultValue) out[v.variable.name.value] = valueOf(type, v.variable.name.value, 0);
  }
  return out;
}

/**
 * An accept header the fast path does not know: the request is handed to Apollo, which answers it as
 * plain JSON (trusted-documents-in-process.test.ts holds that it does). Apollo's answer is read this way
 * in whichever process serves it.
 */
const THROUGH_APOLLO = "application/json;q=1";

const allDocuments = [...Object.values(SHIPPED_DOCUMENTS), ...OPERATOR_DOCUMENTS];
const named = (text: string) => {
  const op = parse(text).definitions.find((d): d is OperationDefinitionNode => d.kind === "OperationDefinition")!;
  return { op, label: `${op.operation} ${op.name?.value ?? text.slice(0, 60)}` };
};
/** An export records the read in the subject's history: like a mutation, each run changes the next answer. */
const writes = (d: string) => named(d).op.operation === "mutation" || d.includes("subjectExport");
const queries = allDocuments.filter((d) => named(d).op.operation === "query" && !writes(d));
const mutations = allDocuments.filter(writes);

describe("a trusted document answers exactly as its text does through Apollo", () => {
  it.each(queries.map((d) => [named(d).label, d]))("%s, under every scope and without a good token", async (_label, text) => {
    const { op } = named(text);
    for (const [scope, token] of tokens) {
      for (const variables of [variablesFor(op, alice), { unexpected: { deep: [1] } }, Object.fromEntries((op.variableDefinitions ?? []).map((v) => [v.variable.name.value, { wrong: true }]))]) {
        const apollo = await post({ query: text, variables }, token, [], THROUGH_APOLLO);
        const byId = await post({ documentId: `sha256:${sha256Hex(text)}`, variables }, token);
        const byApq = await post({ extensions: { persistedQuery: { version: 1, sha256Hash: sha256Hex(text) } }, variables }, token);
        const asText = await post({ query: text, variables }, token);
        expect({ scope, variables, ...byId }).toEqual({ scope, variables, ...apollo });
        expect({ scope, variables, ...byApq }).toEqual({ scope, variables, ...apollo });
        expect({ scope, variables, ...asText }).toEqual({ scope, variables, ...apollo });
      }
    }
  });

  it.each(mutations.map((d) => [named(d).label, d]))("%s, on twin subjects, under every scope", async (_label, text) => {
    const { op } = named(text);
    for (const [scope, shared] of tokens) {
      const twins = [freshId("twin"), freshId("twin"), freshId("twin")];
      for (const s of twins) await onboard(srv, s, ["location"]);
      // Some operations act on the caller's own record: each twin calls with a token of its own.
      const scopes = scope === "every scope" ? SCOPES.join(" ") : (SCOPES as readonly string[]).includes(scope) ? scope : null;
      const token = async (i: number) => (scopes !== null ? await srv.token(twins[i]!, scopes) : shared);
      const apollo = await post({ query: text, variables: variablesFor(op, twins[0]!) }, await token(0), twins, THROUGH_APOLLO);
      const byId = await post({ documentId: sha256Hex(text), variables: variablesFor(op, twins[1]!) }, await token(1), twins);
      const asText = await post({ query: text, variables: variablesFor(op, twins[2]!) }, await token(2), twins);
      expect({ scope, ...byId }).toEqual({ scope, ...apollo });
      expect({ scope, ...asText }).toEqual({ scope, ...apollo });
    }
  });
});

describe("hashes and texts the server does not trust", () => {
  it("an unknown hash is PERSISTED_QUERY_NOT_FOUND, by documentId and by Apollo's extension, and runs nothing", async () => {
    const [, token] = tokens.find(([s]) => s === "every scope")!;
    for (const body of [{ documentId: sha256Hex("{ me { id } }x") }, { extensions: { persistedQuery: { version: 1, sha256Hash: "0".repeat(64) } } }, { documentId: "not-a-hash" }]) {
      const res = await post(body, token);
      expect(res).toEqual({ status: 200, type: "application/json; charset=utf-8", cache: "private, no-cache, must-revalidate", body: { errors: [{ message: "PersistedQueryNotFound", extensions: { code: "PERSISTED_QUERY_NOT_FOUND" } }] } });
    }
    // A GET names a document the same way.
    const get = await fetch(`${srv.url}?documentId=${"1".repeat(64)}`, { headers: { authorization: `Bearer ${token}` } });
    expect(((await get.json()) as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions.code).toBe("PERSISTED_QUERY_NOT_FOUND");
  });

  it("a GET naming a trusted query runs it", async () => {
    const [, token] = tokens.find(([s]) => s === "consent:read")!;
    const text = OPERATOR_DOCUMENTS[3]!;
    const res = await fetch(`${srv.url}?documentId=${sha256Hex(text)}&variables=${encodeURIComponent(JSON.stringify({ s: alice, p: "location" }))}`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ data: { permission: { permitted: true, reason: expect.any(String), status: "GRANTED" } } });
  });

  it("a document that is not a sha256 of its key, or does not fit the schema, stops the server from starting", async () => {
    const dir = mkdtempSync(join(tmpdir(), "trusted-bad-"));
    const wrongHash = join(dir, "a.json");
    writeFileSync(wrongHash, JSON.stringify({ ["ab".repeat(32)]: "{ me { id } }" }));
    await expect(startTestServer({ env: { TRUSTED_DOCUMENTS: wrongHash } })).rejects.toThrow(/not the sha256 of its document/);
    const invalid = join(dir, "b.json");
    writeFileSync(invalid, JSON.stringify({ [sha256Hex("{ nope }")]: "{ nope }" }));
    await expect(startTestServer({ env: { TRUSTED_DOCUMENTS: invalid } })).rejects.toThrow(/does not fit the schema/);
  });
});

describe("TRUSTED_DOCUMENTS_ONLY=true", () => {
  let only: TestServer;
  beforeAll(async () => {
    only = await startTestServer({ env: { TRUSTED_DOCUMENTS_ONLY: "true" } });
  });
  afterAll(() => only.close());

  it("refuses every text that is not a trusted document, over HTTP and WebSocket, and runs the trusted ones", async () => {
    const token = await only.token("svc", "consent:read consent:write");
    const refused = await fetch(only.url, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${token}` }, body: JSON.stringify({ query: "{ me { id } }" }) });
    expect(await refused.json()).toEqual({ errors: [{ message: "PersistedQueryNotFound", extensions: { code: "PERSISTED_QUERY_NOT_FOUND" } }] });
    for (const search of [`?query=${encodeURIComponent("{ policies { id } }")}`, `?query=${encodeURIComponent("{ policies { id } }")}&extensions=not-json`]) {
      const get = await fetch(`${only.url}${search}`, { headers: { authorization: `Bearer ${token}` } });
      expect(((await get.json()) as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions.code).toBe("PERSISTED_QUERY_NOT_FOUND");
    }
    // The client library's documents are shipped: by hash, or as their exact text.
    const [hash, text] = Object.entries(SHIPPED_DOCUMENTS).find(([, t]) => t.includes("query ClientPolicy") || t.includes("query PolicyNames"))!;
    for (const body of [{ documentId: hash }, { query: text }]) {
      const res = await fetch(only.url, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${token}` }, body: JSON.stringify({ ...body, variables: { policyId: BASE_POLICY } }) });
      const answer = (await res.json()) as { data?: unknown; errors?: unknown };
      expect(answer.errors).toBeUndefined();
      expect(answer.data).toBeDefined();
    }
    const ws = await RawWsClient.open(only.url);
    try {
      ws.send({ type: "connection_init", payload: { authorization: `Bearer ${token}` } });
      await expect.poll(() => ws.messages().some((m) => m.type === "connection_ack")).toBe(true);
      ws.send({ id: "1", type: "subscribe", payload: { query: "subscription { events(subjectId: \"x\") { id } }" } });
      await expect.poll(() => ws.messages().find((m) => m.id === "1")).toMatchObject({ type: "error", payload: [{ extensions: { code: "PERSISTED_QUERY_NOT_FOUND" } }] });
    } finally {
      ws.close();
    }
  });
});

describe("subscriptions by hash over WebSocket", () => {
  it("the console's live events subscription, named by documentId, streams as its text does; an unknown hash is refused", async () => {
    const [hash, text] = Object.entries(SHIPPED_DOCUMENTS).find(([, t]) => t.includes("subscription LiveEvents"))!;
    const { op } = named(text);
    const token = await srv.token("auditor", SCOPES.join(" "));
    const ws = await RawWsClient.open(srv.url);
    try {
      ws.send({ type: "connection_init", payload: { authorization: `Bearer ${token}` } });
      await expect.poll(() => ws.messages().some((m) => m.type === "connection_ack")).toBe(true);
      const variables = Object.fromEntries((op.variableDefinitions ?? []).filter((v) => v.type.kind === "NonNullType").map((v) => [v.variable.name.value, v.variable.name.value === "after" ? null : alice]));
      ws.send({ id: "by-id", type: "subscribe", payload: { query: "", documentId: `sha256:${hash}`, variables } });
      ws.send({ id: "by-text", type: "subscribe", payload: { query: text, variables } });
      ws.send({ id: "unknown", type: "subscribe", payload: { query: "", extensions: { persistedQuery: { version: 1, sha256Hash: "2".repeat(64) } } } });
      await expect.poll(() => ws.messages().find((m) => m.id === "unknown")).toMatchObject({ type: "error", payload: [{ extensions: { code: "PERSISTED_QUERY_NOT_FOUND" } }] });
      // A change after both subscribed reaches both, alike.
      const subject = freshId("live");
      await onboard(srv, subject, ["location"]);
      const of = (id: string) => ws.messages().filter((m) => m.id === id && m.type === "next").map((m) => JSON.stringify(m.payload).split(subject).join("<s>"));
      await expect.poll(() => of("by-id").some((p) => p.includes("<s>")) && of("by-text").some((p) => p.includes("<s>"))).toBe(true);
      expect(ws.messages().filter((m) => m.id === "by-id" && m.type === "error")).toEqual([]);
    } finally {
      ws.close();
    }
  });
});
