// Finding 4 of the third review: graphql's overlap check is priced before it runs, on every path.
import { readFileSync } from "node:fs";
import { parse } from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_OVERLAP_WORK, validationBudgetBroken } from "../../src/graphql/validation-budget.js";
import { Collected, wsClient } from "../subscriptions/ws-client.js";
import { type TestServer, startTestServer } from "../support/harness.js";

let srv: TestServer;
let token: string;
beforeAll(async () => {
  srv = await startTestServer();
  token = await srv.token("mallory-v", "consent:self");
});
afterAll(() => srv.close());

/** 52 KB of one field repeated under one response name: thousands of pairs for graphql to compare. */
const repeated = (comment = "") => `${comment}\n{ me { ${"history(first: 3) { edges { node { id } } } ".repeat(200)} } }`;
/** Under the 10,000 characters a tokenless request may send, as the public read allows. */
const tokenless = (comment = "") => `${comment}\n{ ${"externalTransmissions { purposeId } ".repeat(270)} }`;
const budgetMessage = new RegExp(`at most ${MAX_OVERLAP_WORK} are spent`);

describe("finding 4: validation cannot cost more than its budget, with or without a token", () => {
  it("repeated same-named fields are refused before graphql validates them (400, GRAPHQL_VALIDATION_FAILED, the budget named)", async () => {
    const r = await srv.gql(repeated(), {}, token);
    expect(r.status).toBe(400);
    expect(r.code).toBe("GRAPHQL_VALIDATION_FAILED");
    expect(r.errors?.[0]?.message).toMatch(budgetMessage);
  });

  it("the same without a token, through the public externalTransmissions", async () => {
    const r = await srv.gql(tokenless(), {}, null);
    expect(r.status).toBe(400);
    expect(r.code).toBe("GRAPHQL_VALIDATION_FAILED");
    expect(r.errors?.[0]?.message).toMatch(budgetMessage);
    // One public read is still answered without a token.
    expect((await srv.gql(`{ externalTransmissions { purposeId } }`, {}, null)).status).toBe(200);
  });

  it("a random comment in front changes nothing: each variant is refused by the budget, not validated", async () => {
    for (let i = 0; i < 5; i++) {
      const comment = `# ${Math.random().toString(36)}`;
      expect((await srv.gql(repeated(comment), {}, token)).errors?.[0]?.message).toMatch(budgetMessage);
      expect((await srv.gql(tokenless(comment), {}, null)).errors?.[0]?.message).toMatch(budgetMessage);
    }
  });

  it("over WebSocket the same refusal", async () => {
    const c = wsClient(srv.url, token);
    try {
      const sub = new Collected<unknown>(c, repeated(), {}, "me");
      await sub.until((s) => s.ended, "the refusal");
      expect(sub.errors?.[0]?.extensions?.code).toBe("GRAPHQL_VALIDATION_FAILED");
      expect(sub.errors?.[0]?.message).toMatch(budgetMessage);
    } finally {
      await c.dispose();
    }
  });

  it("/healthz answers while 20 such requests, with and without a token, are refused", async () => {
    const attacks = Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? srv.gql(repeated(`# ${i}`), {}, token) : srv.gql(tokenless(`# ${i}`), {}, null)));
    const health = await fetch(srv.url.replace(/\/graphql$/, "/healthz"));
    expect(health.status).toBe(200);
    for (const r of await Promise.all(attacks)) expect(r.code).toBe("GRAPHQL_VALIDATION_FAILED");
  });

  it("the queries the shipped pages send, and ordinary repeats, are within the budget", () => {
    for (const file of ["src/web/console/queries.ts", "src/web/preferences/queries.ts"]) {
      const docs = [...readFileSync(file, "utf8").matchAll(/graphql\(`([\s\S]*?)`\)/g)].map((m) => m[1]!);
      expect(docs.length).toBeGreaterThan(0);
      for (const d of docs) expect(validationBudgetBroken(parse(d))).toBeNull();
    }
    expect(validationBudgetBroken(parse(`{ me { ${"id ".repeat(400)} } }`))).toBeNull();
    expect(validationBudgetBroken(parse(`{ me { ...A ...B } } fragment A on Subject { id version } fragment B on Subject { id status }`))).toBeNull();
  });

  it("the work grows with the repeats and is refused past the budget, whatever the nesting", () => {
    const nested = (outer: number, inner: number) => `{ ${`a: me { ${"b: history(first: 1) { edges { cursor } } ".repeat(inner)} } `.repeat(outer)} }`;
    expect(validationBudgetBroken(parse(nested(2, 2)))).toBeNull();
    expect(validationBudgetBroken(parse(nested(14, 14)))?.extensions["code"]).toBe("GRAPHQL_VALIDATION_FAILED");
    const spreads = (n: number) => `{ me { ${Array.from({ length: n }, (_, i) => `...F${i}`).join(" ")} } } ${Array.from({ length: n }, (_, i) => `fragment F${i} on Subject { id }`).join(" ")}`;
    expect(validationBudgetBroken(parse(spreads(20)))).toBeNull();
    expect(validationBudgetBroken(parse(spreads(150)))).not.toBeNull();
  });
});
