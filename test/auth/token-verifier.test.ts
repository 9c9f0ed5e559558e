// The token verifier refuses every bad token as UNAUTHENTICATED and caches good ones only until exp.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  base64url,
  calculateJwkThumbprint,
  exportJWK,
  exportSPKI,
  generateKeyPair,
  importJWK,
  SignJWT,
  type CryptoKey,
  type JWK,
  type JWTPayload,
} from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { issueDevToken } from "../../src/auth/dev-keys.js";
import { bearerToken, createTokenVerifier, MAX_TOKEN_LENGTH, type TokenVerifier } from "../../src/auth/token-verifier.js";
import { type Config, loadConfig } from "../../src/config.js";
import { LedgerError } from "../../src/domain/errors.js";

const ISSUER = "https://idp.test";
const AUDIENCE = "consent-ledger";
const tempDir = () => mkdtempSync(join(tmpdir(), "verifier-"));

let privateKey: CryptoKey;
let publicJwk: JWK;
let kid: string;
let jwksFile: string;

function jwksAuth(overrides: Partial<Config["auth"]> = {}): Config["auth"] {
  return {
    mode: "jwks",
    jwksUrl: null,
    jwksFile,
    issuer: ISSUER,
    audience: AUDIENCE,
    algorithms: ["RS256", "ES256", "EdDSA"],
    clockToleranceSeconds: 30,
    jwksMaxAgeSeconds: 300,
    maxTokenAgeSeconds: 86_400,
    modeReason: "AUTH_JWKS_FILE is set",
    ...overrides,
  };
}

const nowS = () => Math.floor(Date.now() / 1000);

/** A token signed with the trusted key unless another key is given; claims may be removed with undefined. */
async function token(claims: JWTPayload = {}, key: CryptoKey = privateKey, header: Record<string, unknown> = {}): Promise<string> {
  const payload: JWTPayload = { iss: ISSUER, aud: AUDIENCE, sub: "alice", iat: nowS(), exp: nowS() + 600, ...claims };
  for (const k of Object.keys(payload)) if (payload[k] === undefined) delete payload[k];
  return new SignJWT(payload).setProtectedHeader({ alg: "ES256", kid, ...header }).sign(key);
}

async function refusal(p: Promise<unknown>): Promise<LedgerError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(LedgerError);
    const err = e as LedgerError;
    expect(err.code).toBe("UNAUTHENTICATED");
    // No claim value of the refused token may appear in what the client sees.
    expect(err.message).not.toMatch(/alice|mallory|idp|evil/);
    return err;
  }
  throw new Error("expected the token to be refused");
}

beforeAll(async () => {
  const pair = await generateKeyPair("ES256", { extractable: true });
  privateKey = pair.privateKey;
  publicJwk = await exportJWK(pair.publicKey);
  kid = await calculateJwkThumbprint(publicJwk);
  jwksFile = join(tempDir(), "jwks.json");
  writeFileSync(jwksFile, JSON.stringify({ keys: [{ ...publicJwk, kid, alg: "ES256", use: "sig" }] }));
});

describe("createTokenVerifier with a JWKS file", () => {
  let verifier: TokenVerifier;
  beforeAll(async () => {
    verifier = await createTokenVerifier(jwksAuth(), tempDir());
  });

  it("accepts a valid token with a scope string", async () => {
    const exp = nowS() + 600;
    const caller = await verifier.verify(await token({ scope: "consent:self ledger:read", exp }));
    expect(caller.subject).toBe("alice");
    expect([...caller.scopes]).toEqual(["consent:self", "ledger:read"]);
    expect(caller.expiresAt).toBe(exp * 1000);
  });

  it("accepts a valid token with an scp array", async () => {
    const caller = await verifier.verify(await token({ scp: ["consent:read", "subject:admin"] }));
    expect(caller.scopes).toEqual(new Set(["consent:read", "subject:admin"]));
  });

  it("refuses an expired token", async () => {
    const e = await refusal(verifier.verify(await token({ iat: nowS() - 3600, exp: nowS() - 120 })));
    expect(e.message).toBe("token expired");
  });

  it("refuses a token that is not yet valid", async () => {
    await refusal(verifier.verify(await token({ nbf: nowS() + 300 })));
  });

  it("refuses the wrong audience", async () => {
    expect((await refusal(verifier.verify(await token({ aud: "evil-service" })))).cause).toBe("ERR_JWT_CLAIM_VALIDATION_FAILED (aud: check_failed)");
  });

  it("refuses the wrong issuer", async () => {
    await refusal(verifier.verify(await token({ iss: "https://evil.test" })));
  });

  it("refuses an unsigned alg:none token", async () => {
    const enc = (o: object) => base64url.encode(JSON.stringify(o));
    const unsigned = `${enc({ alg: "none", typ: "JWT" })}.${enc({ iss: ISSUER, aud: AUDIENCE, sub: "mallory", exp: nowS() + 600, scope: "subject:admin" })}.`;
    await refusal(verifier.verify(unsigned));
  });

  it("refuses HS256 signed with the public key's bytes as the secret", async () => {
    const pem = await exportSPKI((await importJWK(publicJwk, "ES256")) as CryptoKey);
    const claims = { iss: ISSUER, aud: AUDIENCE, sub: "mallory", exp: nowS() + 600, scope: "subject:admin" };
    for (const secret of [new TextEncoder().encode(pem), new TextEncoder().encode(JSON.stringify(publicJwk))]) {
      const forged = await new SignJWT(claims).setProtectedHeader({ alg: "HS256", kid }).sign(secret);
      expect((await refusal(verifier.verify(forged))).cause).toBe("ERR_JOSE_ALG_NOT_ALLOWED");
    }
  });

  it("refuses HS256 even when a hand-built config lists it", async () => {
    const v = await createTokenVerifier(jwksAuth({ algorithms: ["HS256", "ES256"] }), tempDir());
    const forged = await new SignJWT({ iss: ISSUER, aud: AUDIENCE, sub: "mallory", exp: nowS() + 600 })
      .setProtectedHeader({ alg: "HS256", kid })
      .sign(new TextEncoder().encode(JSON.stringify(publicJwk)));
    await refusal(v.verify(forged));
  });

  it("refuses a stranger's key, even one claiming the trusted kid", async () => {
    const stranger = await generateKeyPair("ES256");
    const e = await refusal(verifier.verify(await token({ sub: "mallory" }, stranger.privateKey)));
    expect(e.cause).toBe("ERR_JWS_SIGNATURE_VERIFICATION_FAILED");
  });

  it("refuses a tampered payload", async () => {
    const [h, , s] = (await token({ scope: "consent:self" })).split(".");
    const payload = base64url.encode(
      JSON.stringify({ iss: ISSUER, aud: AUDIENCE, sub: "alice", exp: nowS() + 600, scope: "subject:admin" }),
    );
    await refusal(verifier.verify(`${h}.${payload}.${s}`));
  });

  it("refuses a token without sub or without exp", async () => {
    await refusal(verifier.verify(await token({ sub: undefined })));
    await refusal(verifier.verify(await token({ exp: undefined })));
    await refusal(verifier.verify(await token({ sub: "" })));
  });

  it("refuses an algorithm outside the allow-list", async () => {
    const v = await createTokenVerifier(jwksAuth({ algorithms: ["RS256"] }), tempDir());
    await refusal(v.verify(await token()));
  });

  it("refuses garbage and oversized tokens", async () => {
    await refusal(verifier.verify("not.a.jwt"));
    await refusal(verifier.verify(""));
    await refusal(verifier.verify("a".repeat(MAX_TOKEN_LENGTH + 1)));
  });
});

describe("the verified-caller cache", () => {
  it("serves the same caller for the same token", async () => {
    const verifier = await createTokenVerifier(jwksAuth(), tempDir());
    const t = await token({ scope: "consent:self" });
    const first = await verifier.verify(t);
    expect(await verifier.verify(t)).toBe(first);
  });

  it("never serves a cached caller past exp", async () => {
    let now = Date.now();
    const verifier = await createTokenVerifier(jwksAuth(), tempDir(), { now: () => now });
    const exp = Math.floor(now / 1000) + 60;
    const t = await token({ exp });
    await verifier.verify(t);
    now = exp * 1000 + 31_000; // beyond exp and the 30 s clock tolerance
    expect((await refusal(verifier.verify(t))).message).toBe("token expired");
  });

  it("within the clock tolerance re-verifies instead of serving from the cache", async () => {
    let now = Date.now();
    const verifier = await createTokenVerifier(jwksAuth(), tempDir(), { now: () => now });
    const exp = Math.floor(now / 1000) + 60;
    const t = await token({ exp });
    const first = await verifier.verify(t);
    now = exp * 1000 + 1_000;
    const second = await verifier.verify(t);
    expect(second).not.toBe(first);
    expect(second.subject).toBe("alice");
  });

  it("is bounded: the least recently used token is evicted", async () => {
    const verifier = await createTokenVerifier(jwksAuth(), tempDir(), { cacheSize: 1 });
    const a = await token({ sub: "a" });
    const b = await token({ sub: "b" });
    const callerA = await verifier.verify(a);
    expect(await verifier.verify(a)).toBe(callerA);
    await verifier.verify(b);
    const again = await verifier.verify(a);
    expect(again).not.toBe(callerA);
    expect(again).toEqual(callerA);
  });

  it("can be turned off", async () => {
    const verifier = await createTokenVerifier(jwksAuth(), tempDir(), { cacheSize: 0 });
    const t = await token();
    expect(await verifier.verify(t)).not.toBe(await verifier.verify(t));
  });
});

describe("JWKS files", () => {
  it("ignores secret keys in the file", async () => {
    const file = join(tempDir(), "jwks.json");
    const secret = new TextEncoder().encode("0123456789abcdef0123456789abcdef");
    writeFileSync(file, JSON.stringify({ keys: [{ kty: "oct", k: base64url.encode(secret), kid: "s" }, { ...publicJwk, kid }] }));
    const v = await createTokenVerifier(jwksAuth({ jwksFile: file, algorithms: ["ES256", "HS256"] }), tempDir());
    const forged = await new SignJWT({ iss: ISSUER, aud: AUDIENCE, sub: "m", exp: nowS() + 60 })
      .setProtectedHeader({ alg: "HS256", kid: "s" })
      .sign(secret);
    await refusal(v.verify(forged));
    expect((await v.verify(await token())).subject).toBe("alice");
  });

  it("refuses to start with an unreadable or empty file", async () => {
    const bad = join(tempDir(), "bad.json");
    writeFileSync(bad, "{");
    await expect(createTokenVerifier(jwksAuth({ jwksFile: bad }), tempDir())).rejects.toThrow(/AUTH_JWKS_FILE/);
    writeFileSync(bad, JSON.stringify({ keys: [] }));
    await expect(createTokenVerifier(jwksAuth({ jwksFile: bad }), tempDir())).rejects.toThrow(/no public signing key/);
    await expect(createTokenVerifier(jwksAuth({ jwksFile: join(tempDir(), "missing.json") }), tempDir())).rejects.toThrow(
      /AUTH_JWKS_FILE/,
    );
  });
});

describe("a remote JWKS", () => {
  let server: Server;
  let url: string;
  beforeAll(async () => {
    server = createServer((_req, res) => {
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ keys: [{ ...publicJwk, kid, alg: "ES256" }] }));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("verifies tokens against keys fetched from AUTH_JWKS_URL", async () => {
    const v = await createTokenVerifier(jwksAuth({ jwksFile: null, jwksUrl: url }), tempDir());
    expect((await v.verify(await token())).subject).toBe("alice");
    await refusal(v.verify(await token({}, (await generateKeyPair("ES256")).privateKey)));
  });
});

describe("dev mode", () => {
  // Dev mode exactly as an empty environment configures it.
  const devAuth: Config["auth"] = loadConfig({}).auth;

  it("accepts tokens from issueDevToken and refuses those of another data folder", async () => {
    const dir = tempDir();
    const v = await createTokenVerifier(devAuth, dir);
    const caller = await v.verify(await issueDevToken({ dataDir: dir, sub: "alice", scope: "consent:self" }));
    expect(caller).toMatchObject({ subject: "alice" });
    expect(caller.scopes).toEqual(new Set(["consent:self"]));
    await refusal(v.verify(await issueDevToken({ dataDir: tempDir(), sub: "alice", scope: "subject:admin" })));
  });
});

describe("bearerToken", () => {
  it("is null when the header is absent or empty", () => {
    expect(bearerToken(undefined)).toBeNull();
    expect(bearerToken(null)).toBeNull();
    expect(bearerToken("")).toBeNull();
  });
  it("reads the token, with any case of the scheme", () => {
    expect(bearerToken("Bearer abc.def.ghi")).toBe("abc.def.ghi");
    expect(bearerToken("bearer abc.def.ghi")).toBe("abc.def.ghi");
    expect(bearerToken("BEARER  abc.def-_.g~+/=")).toBe("abc.def-_.g~+/=");
  });
  it.each(["Basic dXNlcjpwYXNz", "Bearer", "Bearer ", "Bearer a b", "abc.def.ghi", "Bearer a,b"])(
    "refuses %j as UNAUTHENTICATED",
    (header) => {
      let err: unknown;
      try {
        bearerToken(header);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(LedgerError);
      expect((err as LedgerError).code).toBe("UNAUTHENTICATED");
    },
  );
});
