// Trusted documents, checked inside the serving process: with spies on its fast path and pipeline, that
// requests take the fast path and which ones are handed to Apollo, and with its fast path turned off
// between two requests. The answers' equality under every scope is in trusted-documents.test.ts.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { GraphQLPipeline, VariablesRefused } from "../../src/graphql/pipeline.js";
import { sha256Hex } from "../../src/graphql/trusted-documents.js";
import { ANSWERED, FastPath } from "../../src/http/fast-path.js";
import { type TestServer, startTestServer } from "../support/harness.js";
import { type Sent, normalisedPost } from "../support/normalised-post.js";
import { freshId, onboard } from "./helpers.js";

/** Operator documents (as trusted-documents.test.ts trusts them), by their index there. */
const OPERATOR_DOCUMENTS: Record<number, string> = {
  3: "query($s: ID!, $p: ID!) { permission(subjectId: $s, purposeId: $p) { permitted reason status } }",
  4: "mutation($input: RecordConsentInput!) { recordConsent(input: $input) { subject { id version } receipt } }",
};
/** The accept header trusted-documents.test.ts reads Apollo's answers with. */
const THROUGH_APOLLO = "application/json;q=1";

let srv: TestServer;
let alice: string;
let tokens: [string, string][];

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), "trusted-in-process-"));
  const file = join(dir, "persisted-documents.json");
  writeFileSync(file, JSON.stringify(Object.fromEntries(Object.values(OPERATOR_DOCUMENTS).map((d) => [sha256Hex(d), d]))));
  srv = await startTestServer({ env: { TRUSTED_DOCUMENTS: file } });
  alice = freshId("alice");
  await onboard(srv, alice, ["location"]);
  tokens = [
    ["consent:read", await srv.token("svc-consent:read", "consent:read")],
    ["consent:write", await srv.token("svc-consent:write", "consent:write")],
  ];
});
afterAll(() => srv.close());

const post = (body: Record<string, unknown>, token: string | null, subjects: string[] = [], accept?: string): Promise<Sent> =>
  normalisedPost(srv.url, body, token, subjects, accept);

const fastPath = (on: boolean) => {
  srv.app.services.config.trustedDocuments.fastPath = on;
};

describe("the serving process's fast path", () => {
  it("the graphql-response media type and an operation name are answered as Apollo answers them", async () => {
    const text = OPERATOR_DOCUMENTS[3]!;
    const [, token] = tokens.find(([s]) => s === "consent:read")!;
    for (const accept of ["application/graphql-response+json, application/json", "application/json"]) {
      const send = async (body: Record<string, unknown>) => {
        const res = await fetch(srv.url, { method: "POST", headers: { "content-type": "application/json", accept, authorization: `Bearer ${token}` }, body: JSON.stringify(body) });
        const text = (await res.text()).replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, "<id>");
        return { status: res.status, type: res.headers.get("content-type"), body: text };
      };
      const variables = { s: alice, p: "location" };
      fastPath(false);
      const apollo = await send({ query: text, variables });
      const apolloBad = await send({ query: text, variables, operationName: "NoSuchOperation" });
      fastPath(true);
      expect(await send({ documentId: sha256Hex(text), variables })).toEqual(apollo);
      expect(await send({ documentId: sha256Hex(text), variables, operationName: "NoSuchOperation" })).toEqual(apolloBad);
      expect(apollo.body).toContain('"permitted":true');
    }
  });

  it("variables of the wrong type, sent once the document was priced, are refused as Apollo refuses them, and nothing is recorded", async () => {
    const text = OPERATOR_DOCUMENTS[4]!;
    const [, token] = tokens.find(([s]) => s === "consent:write")!;
    const subject = `typed-${Date.now()}`;
    const good = { documentId: sha256Hex(text), variables: { input: { subjectId: `${subject}-ok`, policyVersion: 1, acceptPolicy: true } } };
    expect((await post(good, token, [`${subject}-ok`])).status).toBe(200);
    const bad = [
      { input: { subjectId: subject, policyVersion: "one", acceptPolicy: true } },
      { input: { subjectId: subject, policyVersion: 1, grant: [7, null] } },
      { input: { subjectId: subject, policyVersion: 1, unknownField: true } },
      { input: { subjectId: subject } },
      { input: null },
      {},
    ];
    const execute = vi.spyOn(GraphQLPipeline.prototype, "execute");
    try {
      for (const variables of bad) {
        fastPath(false);
        const apollo = await post({ query: text, variables }, token, [subject]);
        fastPath(true);
        execute.mockClear();
        expect({ variables, ...(await post({ documentId: sha256Hex(text), variables }, token, [subject])) }).toEqual({ variables, ...apollo });
        expect(apollo.status).toBe(400);
        // Priced without coercing, the compiled form refused them unrun, and Apollo answered.
        await expect(execute.mock.results[0]!.value).rejects.toBeInstanceOf(VariablesRefused);
      }
    } finally {
      execute.mockRestore();
    }
    const [, reader] = tokens.find(([s]) => s === "consent:read")!;
    const read = (s: string) => post({ query: "query($s: ID!) { subject(id: $s) { version } }", variables: { s } }, reader);
    // As a subject nobody ever wrote for.
    expect(await read(subject)).toEqual(await read(`${subject}-never`));
  });

  it("trusted documents and known texts are answered without Apollo; a refused token is handed to Apollo", async () => {
    const text = OPERATOR_DOCUMENTS[3]!;
    const [, token] = tokens.find(([s]) => s === "consent:read")!;
    const spy = vi.spyOn(FastPath.prototype, "post");
    try {
      for (const body of [{ documentId: sha256Hex(text) }, { query: text }]) {
        expect((await post({ ...body, variables: { s: alice, p: "location" } }, token)).status).toBe(200);
        expect(await spy.mock.results.at(-1)!.value).toBe(ANSWERED);
      }
      // The accept header trusted-documents.test.ts reads Apollo's answers with is handed to Apollo.
      expect((await post({ documentId: sha256Hex(text), variables: { s: alice, p: "location" } }, token, [], THROUGH_APOLLO)).status).toBe(200);
      expect(await spy.mock.results.at(-1)!.value).toMatchObject({ body: { query: text } });
      expect((await post({ documentId: sha256Hex(text), variables: { s: alice, p: "location" } }, "not-a-token")).status).toBe(401);
      expect(await spy.mock.results.at(-1)!.value).toMatchObject({ body: { query: text } });
    } finally {
      spy.mockRestore();
    }
  });
});
