// Operations through HTTP: metrics, health and readiness, the receipt JWKS and receipts (readiness and
// shutdown with the store closed or a request held under the serving process: ops-in-process.test.ts).
import { compactVerify, createRemoteJWKSet, decodeProtectedHeader } from "jose";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { type TestServer, startTestServer } from "../support/harness.js";
import { freshId, ok, onboard, recordConsent } from "./helpers.js";
import { KANTARA_CR_FIELDS } from "../support/kantara.js";
import { backend } from "../support/backend.js";

let srv: TestServer;
beforeAll(async () => {
  srv = await startTestServer();
});
afterAll(() => srv.close());
afterEach(() => vi.restoreAllMocks());

const get = (s: TestServer, path: string) => fetch(new URL(path, s.url));

describe("/metrics", () => {
  it("counts operations by name, events appended by type and errors by code", async () => {
    const reader = await srv.token("svc", "consent:read");
    ok(await srv.gql(`query CatalogueProbe { policies { id } }`, {}, reader));
    await onboard(srv, freshId(), ["location"]);
    const forbidden = await srv.gql(`query ForbiddenProbe { events { edges { cursor } } }`, {}, reader);
    expect(forbidden.code).toBe("FORBIDDEN");
    const unauthenticated = await srv.gql(`query AnonymousProbe { policies { id } }`, {}, null);
    expect(unauthenticated.code).toBe("UNAUTHENTICATED");

    const res = await get(srv, "/metrics");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain/);
    const text = await res.text();
    expect(text).toMatch(/graphql_operation_duration_seconds_bucket\{[^}]*operation="CatalogueProbe"[^}]*\}/);
    expect(text).toMatch(/graphql_operation_duration_seconds_count\{[^}]*operation="Record"[^}]*type="mutation"[^}]*\} [1-9]/);
    expect(text).toMatch(/ledger_events_appended_total\{type="ConsentGranted"\} [1-9]/);
    expect(text).toMatch(/ledger_events_appended_total\{type="PolicyAccepted"\} [1-9]/);
    expect(text).toMatch(/graphql_errors_total\{code="FORBIDDEN"\} [1-9]/);
    expect(text).toMatch(/graphql_errors_total\{code="UNAUTHENTICATED"\} [1-9]/);
    // Metrics never carry a subject id or a token.
    expect(text).not.toMatch(/subject|Bearer/i);
  });

  it("shows the bytes the permission reads hold in memory and how often they were answered from it (SQLite; none on PostgreSQL)", async () => {
    const reader = await srv.token("svc", "consent:read");
    const id = freshId();
    const writer = await srv.token(id, "consent:self");
    ok(await recordConsent(srv, writer, { policyVersion: 1, acceptPolicy: true, grant: ["location"] }));
    const ask = async () => ok(await srv.gql<{ permission: { permitted: boolean } }>(`query($s: ID!) { permission(subjectId: $s, purposeId: "location") { permitted } }`, { s: id }, reader)).permission.permitted;
    // Three reads: with WORKERS=2 at least two of them are served by the same worker, from its memory.
    for (let i = 0; i < 3; i++) expect(await ask()).toBe(true);
    // A withdrawal acknowledged is seen by the next read, from memory or not.
    ok(await recordConsent(srv, writer, { policyVersion: 1, acceptPolicy: false, grant: [], withdraw: ["location"] }));
    expect(await ask()).toBe(false);
    const text = await (await get(srv, "/metrics")).text();
    const figure = (re: RegExp) => Number(re.exec(text)?.[1]);
    if (backend === "sqlite") {
      expect(figure(/^view_cache_bytes (\d+)$/m)).toBeGreaterThan(0);
      expect(figure(/^view_cache_bytes (\d+)$/m)).toBeLessThanOrEqual(64 * 1_048_576);
      expect(figure(/^view_cache_reads_total\{result="hit"\} (\d+)$/m)).toBeGreaterThan(0);
      expect(figure(/^view_cache_reads_total\{result="miss"\} (\d+)$/m)).toBeGreaterThan(0);
    } else {
      expect(figure(/^view_cache_bytes (\d+)$/m)).toBe(0);
    }
  });

  it("needs no token", async () => {
    expect((await get(srv, "/metrics")).status).toBe(200);
  });
});

describe("/healthz and /readyz", () => {
  it("/healthz and /readyz answer 200 without a token while the store is open", async () => {
    const h = await get(srv, "/healthz");
    expect(h.status).toBe(200);
    const r = await get(srv, "/readyz");
    expect(r.status).toBe(200);
  });
});

describe("/.well-known/jwks.json and consent receipts", () => {
  it("serves public keys only, without a token", async () => {
    const res = await get(srv, "/.well-known/jwks.json");
    expect(res.status).toBe(200);
    const jwks = (await res.json()) as { keys: Record<string, unknown>[] };
    expect(jwks.keys.length).toBeGreaterThan(0);
    for (const k of jwks.keys) {
      expect(k["kid"]).toEqual(expect.any(String));
      expect(k["use"]).toBe("sig");
      for (const priv of ["d", "p", "q", "dp", "dq", "qi", "k", "oth"]) expect(k).not.toHaveProperty(priv);
    }
  });

  it("a recordConsent receipt verifies against the JWKS fetched as a client would, and says what was recorded", async () => {
    const me = freshId();
    const token = await srv.token(me, "consent:self");
    const r = ok(await recordConsent(srv, token, { policyVersion: 1, acceptPolicy: true, grant: ["location", "third-party-provision"], evidence: { channel: "web-banner", locale: "ja-JP" } }));
    const { receipt, events } = r.recordConsent;

    const jwksUrl = new URL("/.well-known/jwks.json", srv.url);
    const { payload, protectedHeader } = await compactVerify(receipt, createRemoteJWKSet(jwksUrl));
    expect(protectedHeader.kid).toEqual(expect.any(String));
    expect(decodeProtectedHeader(receipt).typ).toBe("consent-receipt+jwt");
    const body = JSON.parse(new TextDecoder().decode(payload)) as Record<string, unknown>;

    // Kantara Consent Receipt v1.1 field names.
    for (const field of KANTARA_CR_FIELDS)
      expect(body, field).toHaveProperty(field);
    expect(body["version"]).toBe("KI-CR-v1.1.0");
    expect(body["piiPrincipalId"]).toBe(me);
    expect(body["collectionMethod"]).toBe("web-banner");
    expect(body["language"]).toBe("ja-JP");
    expect(typeof body["consentTimestamp"]).toBe("number");
    const controllers = body["piiControllers"] as Record<string, unknown>[];
    for (const f of ["piiController", "contact", "address", "email", "phone"]) expect(controllers[0]).toHaveProperty(f);
    const services = body["services"] as { service: string; purposes: Record<string, unknown>[] }[];
    const purposes = services[0]!.purposes;
    // Accepting the policy permitted its REQUIRED purposes and OPT_OUT defaults; the grants follow.
    expect(purposes.map((p) => p["purposeId"])).toEqual([
      "service-provision",
      "traffic-analysis",
      "support",
      "terms-enforcement",
      "policy-notices",
      "access-analytics",
      "external-analytics",
      "location",
      "third-party-provision",
    ]);
    expect(body["permittedByAcceptance"]).toEqual(["service-provision", "traffic-analysis", "support", "terms-enforcement", "policy-notices", "access-analytics", "external-analytics"]);
    for (const p of purposes)
      for (const f of ["purpose", "purposeCategory", "consentType", "piiCategory", "primaryPurpose", "termination", "thirdPartyDisclosure"]) expect(p, f).toHaveProperty(f);

    // The ledger's own part: the events this call appended, by position, id and hash.
    const ledger = body["ledger"] as { positions: string[]; eventIds: string[]; headPosition: string; headHash: string; events: { id: string; hash: string }[] };
    expect(ledger.positions).toEqual(events.map((e) => e.position));
    expect(ledger.events).toEqual(events.map((e) => ({ id: e.id, hash: e.hash })));
    expect(ledger.eventIds).toEqual(events.map((e) => e.id));
    expect(ledger.headPosition).toBe(events.at(-1)!.position);
    expect(ledger.headHash).toBe(events.at(-1)!.hash);
    expect(body["acceptedPolicyVersion"]).toBe(1);
    expect(body["grants"]).toEqual(["location", "third-party-provision"]);

    // And those events are the ones in the log.
    const feed = ok(await srv.gql<{ subject: { history: { edges: { node: { id: string; position: string; hash: string } }[] } } }>(
      `query($s: ID!) { subject(id: $s) { history { edges { node { id position hash } } } } }`,
      { s: me },
      token,
    ));
    expect(feed.subject.history.edges.map((e) => e.node)).toEqual(events.map((e) => ({ id: e.id, position: e.position, hash: e.hash })));
  });

  it("a receipt whose payload was altered does not verify", async () => {
    const r = ok(await recordConsent(srv, await srv.token(freshId(), "consent:self"), { policyVersion: 1, acceptPolicy: true, grant: ["location"] }));
    const [h, p, s] = r.recordConsent.receipt.split(".");
    const altered = JSON.parse(Buffer.from(p!, "base64url").toString("utf8")) as Record<string, unknown>;
    altered["piiPrincipalId"] = "someone-else";
    const forged = `${h}.${Buffer.from(JSON.stringify(altered)).toString("base64url")}.${s}`;
    await expect(compactVerify(forged, createRemoteJWKSet(new URL("/.well-known/jwks.json", srv.url)))).rejects.toThrow();
  });

  it("a withdrawal's receipt lists the purpose as withdrawn", async () => {
    const me = freshId();
    await onboard(srv, me, ["location"]);
    const r = ok(await recordConsent(srv, await srv.token(me, "consent:self"), { policyVersion: 1, withdraw: ["location"] }));
    const { payload } = await compactVerify(r.recordConsent.receipt, createRemoteJWKSet(new URL("/.well-known/jwks.json", srv.url)));
    const body = JSON.parse(new TextDecoder().decode(payload)) as { withdrawals: string[]; services: { purposes: { purposeId: string; withdrawn: boolean }[] }[]; acceptedPolicyVersion?: number };
    expect(body.withdrawals).toEqual(["location"]);
    expect(body.services[0]!.purposes).toEqual([expect.objectContaining({ purposeId: "location", withdrawn: true })]);
    expect(body.acceptedPolicyVersion).toBeUndefined();
  });

  it("ledgerHead is signed with a key from the same JWKS", async () => {
    const head = ok(await srv.gql<{ ledgerHead: { position: string; hash: string; jws: string } }>(`{ ledgerHead { position hash jws } }`, {}, await srv.token("auditor", "ledger:read")));
    const { payload } = await compactVerify(head.ledgerHead.jws, createRemoteJWKSet(new URL("/.well-known/jwks.json", srv.url)));
    const body = JSON.parse(new TextDecoder().decode(payload)) as Record<string, unknown>;
    expect(JSON.stringify(body)).toContain(head.ledgerHead.hash);
  });
});
