// Access tokens that must fail, forged with jose against the dev key as an attacker or a broken client would.
import { createPrivateKey, createPublicKey } from "node:crypto";
import { SignJWT, base64url, generateKeyPair, importJWK } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DevAuthKey, ensureDevAuthKey } from "../../src/auth/dev-keys.js";
import { type TestServer, startTestServer } from "../support/harness.js";
import { freshId } from "./helpers.js";

let srv: TestServer;
let key: DevAuthKey;
let issuer: string;
let audience: string;

beforeAll(async () => {
  srv = await startTestServer();
  key = await ensureDevAuthKey(srv.dataDir);
  issuer = srv.config.auth.issuer!;
  audience = srv.config.auth.audience!;
});
afterAll(() => srv.close());

const now = () => Math.floor(Date.now() / 1000);

/** A token signed with the real dev key; `edit` changes claims or header before signing. */
async function devSigned(edit: { claims?: Record<string, unknown>; iss?: string; aud?: string; exp?: number; nbf?: number; omit?: ("sub" | "exp")[] } = {}): Promise<string> {
  const t = now();
  const jwt = new SignJWT({ scope: "consent:self ledger:read", ...edit.claims }).setProtectedHeader({ alg: "ES256", kid: key.kid, typ: "JWT" }).setIssuedAt(t);
  jwt.setIssuer(edit.iss ?? issuer).setAudience(edit.aud ?? audience);
  if (!edit.omit?.includes("sub")) jwt.setSubject("mallory");
  if (!edit.omit?.includes("exp")) jwt.setExpirationTime(edit.exp ?? t + 600);
  if (edit.nbf !== undefined) jwt.setNotBefore(edit.nbf);
  return jwt.sign(await importJWK(key.privateJwk, "ES256"));
}

const b64json = (v: unknown) => base64url.encode(JSON.stringify(v));
const claims = () => ({ iss: issuer, aud: audience, sub: "mallory", scope: "consent:self ledger:read", iat: now(), exp: now() + 600 });

const ME = `{ me { id } }`;

async function expectRefused(authorization: string) {
  const res = await fetch(srv.url, { method: "POST", headers: { "content-type": "application/json", authorization }, body: JSON.stringify({ query: ME }) });
  const body = (await res.json()) as { data?: unknown; errors?: { message: string; extensions?: { code?: string } }[] };
  expect(res.status).toBe(401);
  expect(body.data ?? null).toBeNull();
  expect(body.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
  // The refusal says nothing about which check failed beyond "invalid or expired", and never echoes the token.
  const text = JSON.stringify(body);
  expect(text).not.toContain("mallory");
  if (authorization.length > 40) expect(text).not.toContain(authorization.slice(-20));
  return body.errors![0]!;
}

describe("a good token is accepted (the control for the cases below)", () => {
  it("a dev-key token with the right issuer, audience and lifetime", async () => {
    const r = await srv.gql<{ me: { id: string } }>(ME, {}, await devSigned());
    expect(r.errors).toBeUndefined();
    expect(r.data?.me.id).toBe("mallory");
  });
  it("the scheme is case-insensitive (bearer, BEARER)", async () => {
    const t = await devSigned();
    for (const scheme of ["bearer", "BEARER"]) {
      const res = await fetch(srv.url, { method: "POST", headers: { "content-type": "application/json", authorization: `${scheme} ${t}` }, body: JSON.stringify({ query: ME }) });
      expect(res.status).toBe(200);
    }
  });
});

describe("tokens that must fail with UNAUTHENTICATED", () => {
  it("expired (past the clock tolerance)", async () => {
    const t = await devSigned({ exp: now() - srv.config.auth.clockToleranceSeconds - 60 });
    const e = await expectRefused(`Bearer ${t}`);
    expect(e.message).toMatch(/expired/);
  });

  it("not yet valid (nbf in the future)", async () => {
    await expectRefused(`Bearer ${await devSigned({ nbf: now() + 3600 })}`);
  });

  it("for another audience", async () => {
    await expectRefused(`Bearer ${await devSigned({ aud: "some-other-service" })}`);
  });

  it("from another issuer", async () => {
    await expectRefused(`Bearer ${await devSigned({ iss: "https://evil.example" })}`);
  });

  it("without sub", async () => {
    await expectRefused(`Bearer ${await devSigned({ omit: ["sub"] })}`);
  });

  it("without exp (a token that never expires)", async () => {
    await expectRefused(`Bearer ${await devSigned({ omit: ["exp"] })}`);
  });

  it("alg: none (unsigned)", async () => {
    await expectRefused(`Bearer ${b64json({ alg: "none", typ: "JWT" })}.${b64json(claims())}.`);
    await expectRefused(`Bearer ${b64json({ alg: "none", typ: "JWT", kid: key.kid })}.${b64json(claims())}.`);
  });

  it("HS256 keyed with the server's public key (algorithm confusion)", async () => {
    const pub = createPublicKey({ key: { ...key.publicJwk, kty: "EC" } as import("node:crypto").JsonWebKey, format: "jwk" });
    const pem = pub.export({ type: "spki", format: "pem" }).toString();
    for (const secret of [pem, JSON.stringify(key.publicJwk)]) {
      const t = await new SignJWT(claims()).setProtectedHeader({ alg: "HS256", kid: key.kid, typ: "JWT" }).sign(new TextEncoder().encode(secret));
      await expectRefused(`Bearer ${t}`);
    }
  });

  it("signed by a stranger's key that claims the dev key's kid", async () => {
    const { privateKey } = await generateKeyPair("ES256");
    const t = await new SignJWT(claims()).setProtectedHeader({ alg: "ES256", kid: key.kid, typ: "JWT" }).sign(privateKey);
    await expectRefused(`Bearer ${t}`);
  });

  it("signed by a stranger's RSA key (an allowed algorithm, an unknown key)", async () => {
    const { privateKey } = await generateKeyPair("RS256");
    const t = await new SignJWT(claims()).setProtectedHeader({ alg: "RS256", typ: "JWT" }).sign(privateKey);
    await expectRefused(`Bearer ${t}`);
  });

  it("a tampered payload (scope escalated after signing)", async () => {
    const good = await devSigned({ claims: { scope: "consent:self" } });
    const [h, , s] = good.split(".");
    const forged = `${h}.${b64json({ ...claims(), scope: "consent:self ledger:read subject:admin policy:write" })}.${s}`;
    await expectRefused(`Bearer ${forged}`);
  });

  it("a tampered signature", async () => {
    const good = await devSigned();
    const [h, p, s] = good.split(".");
    const flipped = s!.startsWith("A") ? `B${s!.slice(1)}` : `A${s!.slice(1)}`;
    await expectRefused(`Bearer ${h}.${p}.${flipped}`);
  });

  it.each([
    ["a word", "garbage"],
    ["three dots of nothing", "a.b.c"],
    ["base64 that is not JSON", `${base64url.encode("not json")}.${base64url.encode("x")}.${base64url.encode("y")}`],
    ["a token far too long", `${"a".repeat(9000)}.b.c`],
  ])("garbage: %s", async (_name, token) => {
    await expectRefused(`Bearer ${token}`);
  });

  it.each([
    ["Basic credentials", () => `Basic ${Buffer.from("user:pass").toString("base64")}`],
    ["a JWT under another scheme", async () => `Token ${await devSigned()}`],
    ["a bare JWT without a scheme", async () => devSigned()],
    ["Bearer with nothing after it", () => "Bearer"],
    ["two tokens", async () => `Bearer ${await devSigned()} ${await devSigned()}`],
  ])("a non-Bearer or malformed header: %s", async (_name, header) => {
    await expectRefused(await header());
  });

  it("an access token for the right service signed with the receipt key (a key the server holds, but not for access)", async () => {
    const { readFileSync } = await import("node:fs");
    const { join } = await import("node:path");
    const receiptJwk = JSON.parse(readFileSync(join(srv.dataDir, "keys", "receipt.jwk.json"), "utf8")) as Record<string, string>;
    const pk = createPrivateKey({ key: receiptJwk as import("node:crypto").JsonWebKey, format: "jwk" });
    const t = await new SignJWT(claims()).setProtectedHeader({ alg: "EdDSA", typ: "JWT" }).sign(pk);
    await expectRefused(`Bearer ${t}`);
  });
});

describe("the refusal is the same for every kind of bad token", () => {
  it("wrong audience, wrong issuer and a stranger's key read alike", async () => {
    const { privateKey } = await generateKeyPair("ES256");
    const stranger = await new SignJWT(claims()).setProtectedHeader({ alg: "ES256", kid: key.kid }).sign(privateKey);
    const messages = [
      (await expectRefused(`Bearer ${await devSigned({ aud: "x" })}`)).message,
      (await expectRefused(`Bearer ${await devSigned({ iss: "x" })}`)).message,
      (await expectRefused(`Bearer ${stranger}`)).message,
    ];
    expect(new Set(messages).size).toBe(1);
  });

  it("a bad token is refused even for the public policy list", async () => {
    const r = await srv.gql(`{ policies { id } }`, {}, `${await devSigned({ aud: "x" })}`);
    expect(r.code).toBe("UNAUTHENTICATED");
    expect(r.data ?? null).toBeNull();
  });

  it("a valid token for one subject keeps working after refusals (no shared state poisoned)", async () => {
    const sub = freshId();
    const r = await srv.gql<{ me: { id: string } }>(ME, {}, await srv.token(sub, "consent:self"));
    expect(r.data?.me.id).toBe(sub);
  });
});
