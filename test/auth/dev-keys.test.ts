// Dev keys: generated once, kept private on disk, and tokens that carry the contract's claims.
import { mkdtempSync, readFileSync, statSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from "jose";
import { describe, expect, it } from "vitest";
import { devAuthKeyPath, ensureDevAuthKey, issueDevToken, parseTokenArgs } from "../../src/auth/dev-keys.js";

const tempDir = () => mkdtempSync(join(tmpdir(), "dev-keys-"));

describe("ensureDevAuthKey", () => {
  it("generates an ES256 key pair in a 0600 file and reuses it", async () => {
    const dir = tempDir();
    const first = await ensureDevAuthKey(dir);
    const path = devAuthKeyPath(dir);
    expect(path).toBe(join(dir, "keys", "dev-auth.jwk.json"));
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(first.privateJwk).toMatchObject({ kty: "EC", crv: "P-256", alg: "ES256" });
    expect(first.privateJwk.d).toBeTypeOf("string");
    expect(first.publicJwk.d).toBeUndefined();
    expect(first.publicJwk.kid).toBe(first.kid);
    const again = await ensureDevAuthKey(dir);
    expect(again).toEqual(first);
  });

  it("makes one key when called concurrently", async () => {
    const dir = tempDir();
    const keys = await Promise.all([1, 2, 3, 4].map(() => ensureDevAuthKey(dir)));
    expect(new Set(keys.map((k) => k.kid)).size).toBe(1);
  });

  it("refuses a key file that is not an EC P-256 private key", async () => {
    const dir = tempDir();
    mkdirSync(join(dir, "keys"));
    writeFileSync(devAuthKeyPath(dir), JSON.stringify({ kty: "oct", k: "AAAA" }));
    await expect(ensureDevAuthKey(dir)).rejects.toThrow(/not an EC P-256 private JWK/);
    writeFileSync(devAuthKeyPath(dir), "{not json");
    await expect(ensureDevAuthKey(dir)).rejects.toThrow(/not JSON/);
  });
});

describe("issueDevToken", () => {
  it("signs a JWT with iss, aud, sub, scope, iat, exp, jti and the kid header", async () => {
    const dir = tempDir();
    const token = await issueDevToken({ dataDir: dir, sub: "alice", scope: "consent:self ledger:read", ttlSeconds: 600 });
    const { publicJwk, kid } = await ensureDevAuthKey(dir);
    const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet({ keys: [publicJwk] }), {
      issuer: "consent-ledger-dev",
      audience: "consent-ledger",
    });
    expect(protectedHeader).toMatchObject({ alg: "ES256", kid, typ: "JWT" });
    expect(payload).toMatchObject({ sub: "alice", scope: "consent:self ledger:read" });
    expect(payload.exp! - payload.iat!).toBe(600);
    expect(payload.jti).toBeTypeOf("string");
    expect(JSON.parse(readFileSync(devAuthKeyPath(dir), "utf8")).kid).toBe(decodeProtectedHeader(token).kid);
  });

  it("defaults to one hour and honours issuer and audience", async () => {
    const dir = tempDir();
    const token = await issueDevToken({ dataDir: dir, sub: "a", scope: "", issuer: "me", audience: "you" });
    const { publicJwk } = await ensureDevAuthKey(dir);
    const { payload } = await jwtVerify(token, createLocalJWKSet({ keys: [publicJwk] }), { issuer: "me", audience: "you" });
    expect(payload.exp! - payload.iat!).toBe(3600);
  });

  it("refuses a bad ttl", async () => {
    await expect(issueDevToken({ dataDir: tempDir(), sub: "a", scope: "", ttlSeconds: 0 })).rejects.toThrow(/ttl/);
  });
});

describe("parseTokenArgs", () => {
  it("reads --sub, --scope and --ttl", () => {
    expect(parseTokenArgs(["--sub", "alice", "--scope", "consent:self ledger:read", "--ttl", "600"])).toEqual({
      sub: "alice",
      scope: "consent:self ledger:read",
      ttlSeconds: 600,
    });
  });
  it("reads --name=value and defaults the scope to consent:self", () => {
    expect(parseTokenArgs(["--sub=bob"])).toEqual({ sub: "bob", scope: "consent:self" });
  });
  it.each([
    [[], /--sub is required/],
    [["--sub"], /needs a value/],
    [["--sub", "a", "--ttl", "0"], /--ttl/],
    [["--sub", "a", "--ttl", "ten"], /--ttl/],
    [["--sub", "a", "--scope", "consent:self admin"], /unknown scope admin/],
    [["--user", "a"], /unknown argument/],
    [["--help"], /usage:/],
  ])("refuses %j with usage text", (argv, message) => {
    expect(() => parseTokenArgs(argv)).toThrow(message);
    expect(() => parseTokenArgs(argv)).toThrow(/usage: npm run token/);
  });
});
