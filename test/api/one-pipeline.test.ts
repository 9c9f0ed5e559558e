// The request pipeline's stages behave the same on both transports: the same refusal, the same mask,
// the same counts in /metrics, whether an operation comes over HTTP or over graphql-ws.
import { GraphQLError } from "graphql";
import { SignJWT, importJWK } from "jose";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureDevAuthKey } from "../../src/auth/dev-keys.js";
import { LedgerError } from "../../src/domain/errors.js";
import { buildLedgerSchema } from "../../src/graphql/schema.js";
import { GraphQLPipeline } from "../../src/graphql/pipeline.js";
import { maskingStage } from "../../src/graphql/stages.js";
import { type TestServer, startTestServer } from "../support/harness.js";
import { Collected, errorsOverWs, metricValue, wsClient } from "../subscriptions/ws-client.js";

let srv: TestServer;
beforeAll(async () => {
  srv = await startTestServer({ env: { MAX_QUERY_DEPTH: "3" } });
});
afterAll(() => srv.close());

const overWs = (token: string, query: string, field: string) => errorsOverWs(srv.url, token, query, field);
const metric = (line: string) => metricValue(srv.url, line);

describe("one request pipeline for HTTP and WebSocket", () => {
  it("runs its stages in the documented order", async () => {
    const { services } = srv.app;
    const verifier = { verify: () => Promise.reject(new Error("unused")), readiness: async () => null };
    const metrics = { observeOperation: () => {}, errors: { inc: () => {} }, subscriptions: { inc: () => {} } };
    const pipeline = new GraphQLPipeline({ schema: await buildLedgerSchema(), services, verifier, metrics });
    expect(pipeline.stages.map((s) => s.name)).toEqual([
      "authenticate",
      "parse cost",
      "transport",
      "visitor scope",
      "pricing",
      "caller slots",
      "answer budget",
      "masking",
      "metrics",
    ]);
  });

  it("prices out the same operation with the same refusal on both, and counts each", async () => {
    const token = await srv.token("svc", "consent:read");
    const deep = `query TooDeep { policies { currentVersion { purposes { id } } } }`;
    const counted = 'graphql_errors_total{code="QUERY_TOO_DEEP"}';
    const before = await metric(counted);
    const http = await srv.gql(deep, {}, token);
    expect(http.status).toBe(400);
    const ws = await overWs(token, deep, "policies");
    expect(http.errors?.[0]?.extensions?.["code"]).toBe("QUERY_TOO_DEEP");
    expect(ws?.[0]?.extensions?.code).toBe("QUERY_TOO_DEEP");
    expect(ws?.[0]?.message).toBe(http.errors?.[0]?.message);
    expect(await metric(counted)).toBe(before + 2);
  });

  it("refuses an expired token on both (HTTP 401, WebSocket 4401) and counts each as UNAUTHENTICATED", async () => {
    const key = await ensureDevAuthKey(srv.dataDir);
    const now = Math.floor(Date.now() / 1000);
    const past = now - srv.config.auth.clockToleranceSeconds - 600;
    const expired = await new SignJWT({ scope: "consent:read" })
      .setProtectedHeader({ alg: "ES256", kid: key.kid, typ: "JWT" })
      .setIssuer(srv.config.auth.issuer!)
      .setAudience(srv.config.auth.audience!)
      .setSubject("svc")
      .setIssuedAt(past - 60)
      .setExpirationTime(past)
      .sign(await importJWK(key.privateJwk, "ES256"));
    const counted = 'graphql_errors_total{code="UNAUTHENTICATED"}';
    const before = await metric(counted);
    const http = await srv.gql(`{ policies { id } }`, {}, expired);
    expect(http.status).toBe(401);
    expect(http.errors?.[0]?.extensions?.["code"]).toBe("UNAUTHENTICATED");
    expect(http.errors?.[0]?.message).toMatch(/expired/);
    const client = wsClient(srv.url, expired);
    const c = new Collected<unknown>(client, `{ policies { id } }`, {}, "policies");
    await c.until((x) => x.closeError !== null, "the close");
    expect((c.closeError as { code: number }).code).toBe(4401);
    await client.dispose();
    expect(await metric(counted)).toBe(before + 2);
  });

  it("counts an operation's duration under its name and type on both", async () => {
    const token = await srv.token("svc", "consent:read");
    const counted = 'graphql_operation_duration_seconds_count{operation="BothWays",type="query"}';
    const before = await metric(counted);
    const http = await srv.gql(`query BothWays { policies { id } }`, {}, token);
    expect(http.errors).toBeUndefined();
    expect(await overWs(token, `query BothWays { policies { id } }`, "policies")).toBeNull();
    expect(await metric(counted)).toBe(before + 2);
  });

  it("refuses a subscription over HTTP before it runs (it is not started, nothing is logged as internal)", async () => {
    const token = await srv.token("svc", "consent:read");
    const started = await metric("graphql_subscriptions_started_total");
    const http = await srv.gql(`subscription OverHttp { consentChanged { subjectId } }`, {}, token);
    expect(http.status).toBe(400);
    expect(http.errors?.[0]?.extensions?.["code"]).toBe("BAD_REQUEST");
    expect(http.errors?.[0]?.message).toMatch(/WebSocket/);
    expect(await metric("graphql_subscriptions_started_total")).toBe(started);
  });

  it("masks a refusal of the whole operation (no path) carrying a contract code as that code, whichever transport formatted it", () => {
    const stage = maskingStage(pino({ level: "silent" }));
    const message = "the answer holds 9 bytes, more than the 8 one answer may hold";
    const whole = new GraphQLError(message, { originalError: new LedgerError("RESPONSE_TOO_LARGE", message, { limit: 8 }) });
    // Apollo formats with its default code; graphql-ws hands the error's own JSON.
    for (const formatted of [{ message, extensions: { code: "INTERNAL_SERVER_ERROR" } }, whole.toJSON()])
      expect(stage.mask!(formatted, whole)).toEqual({ message, extensions: { code: "RESPONSE_TOO_LARGE", limit: 8 } });
  });
});
