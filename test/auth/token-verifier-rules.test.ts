// The token verifier's rules one by one, on a clock the test sets: each bad shape is refused as
// UNAUTHENTICATED with its own reason (what operators read in the log), each limit holds at its edge,
// and the cache serves a caller exactly as long as it may.
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SignJWT, base64url, calculateJwkThumbprint, exportJWK, generateKeyPair, type CryptoKey, type JWK, type JWTPayload } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  DEFAULT_CACHE_SIZE,
  JWKS_REFETCH_COOLDOWN_MS,
  MAX_TOKEN_LENGTH,
  bearerToken,
  createTokenVerifier,
  readJwksFile,
  refusalReason,
} from "../../src/auth/token-verifier.js";
import type { Config } from "../../src/config.js";
import { LedgerError } from "../../src/domain/errors.js";

const ISSUER = "https://idp.test";
const AUDIENCE = "consent-ledger";
const T0 = Date.parse("2026-03-01T00:00:00.000Z");
const S0 = T0 / 1000;
const TOLERANCE = 30;
const MAX_AGE = 3_600;
const JWKS_MAX_AGE = 300;
const folder = () => mkdtempSync(join(tmpdir(), "verifier-rules-"));

let privateKey: CryptoKey;
let publicJwk: JWK;
let kid: string;
let jwksFile: string;

beforeAll(async () => {
  const pair = await generateKeyPair("ES256", { extractable: true });
  privateKey = pair.privateKey;
  publicJwk = await exportJWK(pair.publicKey);
  kid = await calculateJwkThumbprint(publicJwk);
  jwksFile = join(folder(), "jwks.json");
  writeFileSync(jwksFile, JSON.stringify({ keys: [{ ...publicJwk, kid, alg: "ES256", use: "sig" }] }));
});

function auth(overrides: Partial<Config["auth"]> = {}): Config["auth"] {
  return {
    mode: "jwks",
    jwksUrl: null,
    jwksFile,
    issuer: ISSUER,
    audience: AUDIENCE,
    algorithms: ["ES256"],
    clockToleranceSeconds: TOLERANCE,
    jwksMaxAgeSeconds: JWKS_MAX_AGE,
    maxTokenAgeSeconds: MAX_AGE,
    modeReason: "AUTH_JWKS_FILE is set",
    ...overrides,
  };
}

/** A verifier on a clock the test moves (`clock.t`, epoch ms). */
async function verifierAt(overrides: Partial<Config["auth"]> = {}, cacheSize?: number) {
  const clock = { t: T0 };
  const v = await createTokenVerifier(auth(overrides), folder(), { now: () => clock.t, ...(cacheSize === undefined ? {} : { cacheSize }) });
  return { v, clock };
}

/** A token issued at T0 for 10 minutes unless the claims say otherwise; undefined removes a claim. */
async function token(claims: JWTPayload = {}, header: Record<string, unknown> = {}): Promise<string> {
  const payload: JWTPayload = { iss: ISSUER, aud: AUDIENCE, sub: "alice", iat: S0, exp: S0 + 600, ...claims };
  for (const k of Object.keys(payload)) if (payload[k] === undefined) delete payload[k];
  return new SignJWT(payload).setProtectedHeader({ alg: "ES256", kid, ...header }).sign(privateKey);
}

/** The refusal's public message and its reason for the log. */
async function refused(p: Promise<unknown>): Promise<{ message: string; reason: string }> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(LedgerError);
  expect((e as LedgerError).code).toBe("UNAUTHENTICATED");
  // The reason stays server-side: not enumerable, so it is never serialised to a client.
  expect(Object.keys(e as object)).not.toContain("cause");
  return { message: (e as LedgerError).message, reason: refusalReason(e) };
}

const invalid = (reason: string) => ({ message: "invalid or expired token", reason });

describe("what verify refuses, and why", () => {
  it("an empty or oversized token before parsing it", async () => {
    const { v } = await verifierAt();
    expect(await refused(v.verify(""))).toEqual(invalid("too long"));
    expect(await refused(v.verify("a".repeat(MAX_TOKEN_LENGTH + 1)))).toEqual(invalid("too long"));
    expect(await refused(v.verify(undefined as unknown as string))).toEqual(invalid("too long"));
    // At the limit it is parsed, and refused for what it is.
    expect(await refused(v.verify("a".repeat(MAX_TOKEN_LENGTH)))).toEqual(invalid("ERR_JWS_INVALID"));
    expect(MAX_TOKEN_LENGTH).toBe(8192);
    // A good token padded past the limit is refused unread.
    const good = await token();
    expect(await refused(v.verify(good + ".".repeat(MAX_TOKEN_LENGTH + 1 - good.length)))).toEqual(invalid("too long"));
  });

  it("an expired token, with its own message", async () => {
    const { v, clock } = await verifierAt();
    const t = await token({ exp: S0 + 60 });
    clock.t = T0 + (60 + TOLERANCE + 1) * 1000;
    expect(await refused(v.verify(t))).toEqual({ message: "token expired", reason: "ERR_JWT_EXPIRED" });
  });

  it("each failed claim, named", async () => {
    const { v } = await verifierAt();
    expect(await refused(v.verify(await token({ aud: "other" })))).toEqual(invalid("ERR_JWT_CLAIM_VALIDATION_FAILED (aud: check_failed)"));
    expect(await refused(v.verify(await token({ iss: "https://other.test" })))).toEqual(invalid("ERR_JWT_CLAIM_VALIDATION_FAILED (iss: check_failed)"));
    expect(await refused(v.verify(await token({ sub: undefined })))).toEqual(invalid("ERR_JWT_CLAIM_VALIDATION_FAILED (sub: missing)"));
    expect(await refused(v.verify(await token({ exp: undefined })))).toEqual(invalid("ERR_JWT_CLAIM_VALIDATION_FAILED (exp: missing)"));
    expect(await refused(v.verify(await token({ nbf: S0 + TOLERANCE + 5 })))).toEqual(invalid("ERR_JWT_CLAIM_VALIDATION_FAILED (nbf: check_failed)"));
  });

  it("a bad signature, an unknown key, a refused algorithm: the JOSE code", async () => {
    const { v } = await verifierAt();
    const [h, p, s] = (await token()).split(".") as [string, string, string];
    const otherPayload = base64url.encode(JSON.stringify({ iss: ISSUER, aud: AUDIENCE, sub: "mallory", iat: S0, exp: S0 + 600 }));
    expect(await refused(v.verify(`${h}.${otherPayload}.${s}`))).toEqual(invalid("ERR_JWS_SIGNATURE_VERIFICATION_FAILED"));
    expect(await refused(v.verify(await token({}, { kid: "unknown" })))).toEqual(invalid("ERR_JWKS_NO_MATCHING_KEY"));
    const hs = await new SignJWT({ iss: ISSUER, aud: AUDIENCE, sub: "alice", exp: S0 + 600 }).setProtectedHeader({ alg: "HS256" }).sign(new Uint8Array(32));
    expect(await refused(v.verify(hs))).toEqual(invalid("ERR_JOSE_ALG_NOT_ALLOWED"));
    expect(await refused(v.verify(`${h}.${p}`))).toEqual(invalid("ERR_JWS_INVALID"));
  });

  it("a token that says it is not an access token; any case of an access token's typ is taken", async () => {
    const { v } = await verifierAt();
    for (const typ of ["dpop+jwt", "logout+jwt", "secevent+jwt", "JOSE", "jwt+at", ""]) expect(await refused(v.verify(await token({}, { typ })))).toEqual(invalid("typ"));
    for (const typ of ["JWT", "jwt", "at+jwt", "AT+JWT", "application/jwt", "Application/At+JWT"]) expect((await v.verify(await token({}, { typ }))).subject).toBe("alice");
    expect((await v.verify(await token())).subject).toBe("alice");
  });

  it("a subject that is not an actor id", async () => {
    const { v } = await verifierAt();
    for (const sub of ["", "has space", "a".repeat(1000), "zero\u200bwidth"]) expect(await refused(v.verify(await token({ sub })))).toEqual(invalid("claims"));
  });

  it("an iat in the future beyond the clock tolerance", async () => {
    const { v } = await verifierAt();
    expect(await refused(v.verify(await token({ iat: S0 + TOLERANCE + 1, exp: S0 + 600 })))).toEqual(invalid("iat in the future"));
    expect((await v.verify(await token({ iat: S0 + TOLERANCE, exp: S0 + 600 }))).subject).toBe("alice");
  });

  it("a lifetime above the maximum, from iat, or from now when there is no iat (then with the tolerance)", async () => {
    const { v } = await verifierAt();
    expect(await refused(v.verify(await token({ iat: S0 - 10, exp: S0 - 10 + MAX_AGE + 1 })))).toEqual(invalid("lifetime"));
    expect((await v.verify(await token({ iat: S0 - 10, exp: S0 - 10 + MAX_AGE }))).subject).toBe("alice");
    expect(await refused(v.verify(await token({ iat: undefined, exp: S0 + MAX_AGE + TOLERANCE + 1 })))).toEqual(invalid("lifetime"));
    expect((await v.verify(await token({ iat: undefined, exp: S0 + MAX_AGE + TOLERANCE }))).subject).toBe("alice");
  });
});

describe("the caller", () => {
  it("is the subject, its scopes and exp in ms, frozen", async () => {
    const { v } = await verifierAt();
    const c = await v.verify(await token({ scope: "consent:self ledger:read", exp: S0 + 600 }));
    expect(c).toEqual({ subject: "alice", scopes: new Set(["consent:self", "ledger:read"]), expiresAt: (S0 + 600) * 1000 });
    expect(Object.isFrozen(c)).toBe(true);
  });
});

describe("the cache", () => {
  it("serves the same caller until exp, then verifies again", async () => {
    const { v, clock } = await verifierAt();
    const t = await token({ exp: S0 + 60 });
    const first = await v.verify(t);
    clock.t = T0 + 60_000 - 1;
    expect(await v.verify(t)).toBe(first);
    clock.t = T0 + 60_000;
    const again = await v.verify(t);
    expect(again).not.toBe(first);
    expect(again).toEqual(first);
  });

  it("serves it no longer than the key set's max age", async () => {
    const { v, clock } = await verifierAt({ jwksMaxAgeSeconds: 20 });
    const t = await token({ exp: S0 + 600 });
    const first = await v.verify(t);
    clock.t = T0 + 20_000 - 1;
    expect(await v.verify(t)).toBe(first);
    clock.t = T0 + 20_000;
    const second = await v.verify(t);
    expect(second).not.toBe(first);
    // The re-verified caller is cached anew from then.
    clock.t = T0 + 20_000 + 1;
    expect(await v.verify(t)).toBe(second);
  });

  it("does not keep a caller only the clock tolerance lets through", async () => {
    const { v, clock } = await verifierAt();
    const t = await token({ exp: S0 + 60 });
    clock.t = T0 + 70_000;
    const a = await v.verify(t);
    expect(await v.verify(t)).not.toBe(a);
  });

  it("keeps the most recently used callers up to its size, and nothing at size 0", async () => {
    const { v } = await verifierAt({}, 2);
    const [a, b, c] = await Promise.all([token({ sub: "a" }), token({ sub: "b" }), token({ sub: "c" })]);
    const ca = await v.verify(a);
    const cb = await v.verify(b);
    expect(await v.verify(a)).toBe(ca);
    await v.verify(c);
    expect(await v.verify(a)).toBe(ca);
    expect(await v.verify(b)).not.toBe(cb);
    const off = (await verifierAt({}, 0)).v;
    const x = await off.verify(a);
    expect(await off.verify(a)).not.toBe(x);
    const neg = (await verifierAt({}, -1)).v;
    const y = await neg.verify(a);
    expect(await neg.verify(a)).not.toBe(y);
    expect(DEFAULT_CACHE_SIZE).toBe(10_000);
  });

  it("holds many callers by default", async () => {
    const { v } = await verifierAt();
    const tokens = await Promise.all(Array.from({ length: 20 }, (_, i) => token({ sub: `user-${i}` })));
    const callers = [];
    for (const t of tokens) callers.push(await v.verify(t));
    for (const [i, t] of tokens.entries()) expect(await v.verify(t)).toBe(callers[i]);
  });
});

describe("building a verifier", () => {
  it("drops none and HMAC algorithms whatever their case, and refuses a configuration with nothing left", async () => {
    const { v } = await verifierAt({ algorithms: ["none", "NONE", "HS256", "hs512", "ES256"] });
    expect((await v.verify(await token())).subject).toBe("alice");
    const hs = await new SignJWT({ iss: ISSUER, aud: AUDIENCE, sub: "alice", exp: S0 + 600 }).setProtectedHeader({ alg: "HS256" }).sign(new Uint8Array(32));
    expect(await refused(v.verify(hs))).toEqual(invalid("ERR_JOSE_ALG_NOT_ALLOWED"));
    for (const algorithms of [[], ["none"], ["HS256", "Hs384", "None"]])
      await expect(createTokenVerifier(auth({ algorithms }), folder())).rejects.toThrow("no acceptable token algorithm is configured");
    // Only algorithms named HS… are HMAC: one that merely contains the letters is kept.
    await expect(createTokenVerifier(auth({ algorithms: ["RS256"] }), folder())).resolves.toBeDefined();
  });

  it("needs an issuer and an audience", async () => {
    for (const o of [{ issuer: "" }, { audience: "" }, { issuer: null }, { audience: null }] as Partial<Config["auth"]>[])
      await expect(createTokenVerifier(auth(o), folder())).rejects.toThrow("token verification needs an issuer and an audience");
  });

  it("needs a key source in JWKS mode; a file's verifier is always ready", async () => {
    await expect(createTokenVerifier(auth({ jwksFile: null, jwksUrl: null }), folder())).rejects.toThrow("AUTH_MODE=jwks needs AUTH_JWKS_URL or AUTH_JWKS_FILE");
    const { v } = await verifierAt();
    expect(await v.readiness()).toBeNull();
  });

  it("in dev mode uses the data folder's own key and is ready", async () => {
    const v = await createTokenVerifier(auth({ mode: "dev", jwksFile: null }), folder());
    expect(await v.readiness()).toBeNull();
    expect(await refused(v.verify(await token()))).toEqual(invalid("ERR_JWKS_NO_MATCHING_KEY"));
  });
});

describe("JWKS files", () => {
  const file = (content: string) => {
    const p = join(folder(), "jwks.json");
    writeFileSync(p, content);
    return p;
  };

  it("keep the public members of usable keys only", async () => {
    const p = file(
      JSON.stringify({
        keys: [
          { ...publicJwk, kid, d: "private", p: "1", q: "2", dp: "3", dq: "4", qi: "5", oth: [], k: "secret" },
          { kty: "oct", k: "c2VjcmV0" },
          { no: "kty" },
          { kty: 7 },
          null,
          "text",
        ],
      }),
    );
    expect(await readJwksFile(p)).toEqual({ keys: [{ ...publicJwk, kid }] });
  });

  it("refuse a file that is not JSON, has no key list, or no public key", async () => {
    const missing = join(folder(), "none.json");
    await expect(readJwksFile(missing)).rejects.toThrow(`AUTH_JWKS_FILE ${missing} cannot be read as JSON: ENOENT`);
    const notJson = file("{");
    await expect(readJwksFile(notJson)).rejects.toThrow(new RegExp(`^AUTH_JWKS_FILE ${notJson} cannot be read as JSON: .+`));
    for (const content of ["null", "{}", '{"keys": {}}', "[]"]) {
      const p = file(content);
      await expect(readJwksFile(p)).rejects.toThrow(`AUTH_JWKS_FILE ${p} must hold {"keys": [...]}`);
    }
    for (const content of ['{"keys": []}', '{"keys": [{"kty": "oct", "k": "AA"}, 1]}']) {
      const p = file(content);
      await expect(readJwksFile(p)).rejects.toThrow(`AUTH_JWKS_FILE ${p} holds no public signing key`);
    }
  });
});

describe("a remote JWKS", () => {
  let server: Server;
  let url: string;
  let requests = 0;
  let up = true;
  beforeAll(async () => {
    server = createServer((_req, res) => {
      requests++;
      if (!up) {
        res.writeHead(500).end();
        return;
      }
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ keys: [{ ...publicJwk, kid, alg: "ES256" }] }));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it("verifies against the fetched keys and is ready once they are fresh, without fetching again", async () => {
    up = true;
    const v = await createTokenVerifier(auth({ jwksFile: null, jwksUrl: url }), folder(), { now: () => T0 });
    const before = requests;
    expect(await v.readiness()).toBeNull();
    expect(requests).toBe(before + 1);
    expect(await v.readiness()).toBeNull();
    expect(requests).toBe(before + 1);
    expect((await v.verify(await token())).subject).toBe("alice");
  });

  it("says why it is not ready, and asks the issuer again only after the cooldown", async () => {
    up = false;
    const v = await createTokenVerifier(auth({ jwksFile: null, jwksUrl: url }), folder());
    const before = requests;
    const reason = await v.readiness();
    expect(reason).toMatch(new RegExp(`^the JWKS at ${url.replace(/[.]/g, "\\.")} cannot be fetched: .+`));
    expect(requests).toBe(before + 1);
    expect(await v.readiness()).toBe(reason);
    expect(requests).toBe(before + 1);
    expect(JWKS_REFETCH_COOLDOWN_MS).toBe(5_000);
    expect(await refused(v.verify(await token()))).toEqual(invalid("JWKS unusable: Expected 200 OK from the JSON Web Key Set HTTP response"));
    up = true;
  });

  it("names the socket error when the issuer cannot be reached", async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const v = await createTokenVerifier(auth({ jwksFile: null, jwksUrl: `http://127.0.0.1:${port}/jwks.json` }), folder());
    expect(await refused(v.verify(await token()))).toEqual(invalid("JWKS unreachable: fetch failed: ECONNREFUSED"));
    expect(await v.readiness()).toBe(`the JWKS at http://127.0.0.1:${port}/jwks.json cannot be fetched: fetch failed: ECONNREFUSED`);
  });
});

describe("bearerToken and refusalReason", () => {
  it("read the token of a Bearer header, and nothing from an absent or blank one", () => {
    for (const h of [undefined, null, "", "   "]) expect(bearerToken(h)).toBeNull();
    expect(bearerToken("Bearer abc.def.ghi")).toBe("abc.def.ghi");
    expect(bearerToken("  bearer   a-b_c~d+e/f==  ")).toBe("a-b_c~d+e/f==");
    expect(bearerToken("BEARER x")).toBe("x");
  });

  it("refuse anything else as UNAUTHENTICATED", () => {
    for (const h of ["Basic abc", "Bearer", "Bearer ", "Bearer a b", "Bearer =abc", "Bearer a=b", "Bearerabc", "x Bearer abc", "Bearer abc\u0000", "Bearer ab!c"]) {
      let e: unknown;
      try {
        bearerToken(h);
      } catch (err) {
        e = err;
      }
      expect(e).toBeInstanceOf(LedgerError);
      expect(e).toMatchObject({ code: "UNAUTHENTICATED", message: "malformed Authorization header: expected Bearer <token>" });
    }
  });

  it("give the reason kept with a refusal, else the message, else 'unexpected'", () => {
    const e = new LedgerError("UNAUTHENTICATED", "the message");
    expect(refusalReason(e)).toBe("the message");
    Object.defineProperty(e, "cause", { value: { not: "a string" } });
    expect(refusalReason(e)).toBe("the message");
    expect(refusalReason(new Error("plain"))).toBe("unexpected");
    expect(refusalReason("text")).toBe("unexpected");
  });
});
