// Access-token verification: a JWT checked against a JWKS, read into a Caller, cached.
import { readFile } from "node:fs/promises";
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  errors,
  jwtVerify,
  type JSONWebKeySet,
  type JWK,
  type JWTVerifyGetKey,
} from "jose";
import type { Config } from "../config.js";
import { LedgerError } from "../domain/errors.js";
import { isValidActorId } from "../domain/identifiers.js";
import { ensureDevAuthKey } from "./dev-keys.js";
import { scopesFromClaims, type Caller } from "./scopes.js";
import { TokenDecisions } from "./token-decisions.js";

/** Longer tokens are refused before any parsing: no honest access token comes near this. */
export const MAX_TOKEN_LENGTH = 8192;
export const DEFAULT_CACHE_SIZE = 10_000;

/**
 * `typ` header values taken for an access token (RFC 9068 §4; RFC 7515 §4.1.9 lets the
 * `application/` prefix be left out, and media types are case-insensitive). A token without `typ`
 * is accepted: RFC 7519 makes it optional and some issuers (Amazon Cognito among them) leave it
 * out; a token that says it is something else (`dpop+jwt`, `logout+jwt`, `secevent+jwt`) is not
 * an access token, whatever its claims.
 */
const ACCESS_TOKEN_TYPES = new Set(["jwt", "at+jwt", "application/jwt", "application/at+jwt"]);

export interface TokenVerifier {
  /** The caller a token speaks for; LedgerError UNAUTHENTICATED for any token that is not good. */
  verify(token: string): Promise<Caller>;
  /** Null when tokens can be checked now; else why not (a remote JWKS that cannot be fetched), for /readyz. */
  readiness(): Promise<string | null>;
  /** The caller a token was already verified as, while that decision holds (no signature check, no await); undefined otherwise. */
  remembered?(token: string): Caller | undefined;
}

/** An unknown `kid` makes the service fetch a remote JWKS again at most this often (contract: within 5 s). */
export const JWKS_REFETCH_COOLDOWN_MS = 5_000;

export interface TokenVerifierOptions {
  /** How many verified tokens to remember; 0 turns the cache off. */
  cacheSize?: number;
  /** How many characters of token text the remembered tokens may hold together (see token-decisions.ts). */
  cacheChars?: number;
  /** The clock, epoch ms; tests move it. */
  now?: () => number;
}

/** Builds the verifier for the configured key source: a JWKS file (read once), a JWKS URL, or the dev key. */
export async function createTokenVerifier(
  auth: Config["auth"],
  dataDir: string,
  opts: TokenVerifierOptions = {},
): Promise<TokenVerifier> {
  const { keys, readiness } = await keySource(auth, dataDir);
  const now = opts.now ?? Date.now;
  const cache = new TokenDecisions(opts.cacheSize ?? DEFAULT_CACHE_SIZE, opts.cacheChars);
  const trustMs = auth.jwksMaxAgeSeconds * 1000;
  // Config already refuses these; refusing again here keeps a hand-built config from opening the door.
  const algorithms = auth.algorithms.filter((a) => a.toLowerCase() !== "none" && !/^HS/i.test(a));
  if (algorithms.length === 0) throw new Error("no acceptable token algorithm is configured");
  if (!auth.issuer || !auth.audience) throw new Error("token verification needs an issuer and an audience");
  const { issuer, audience } = auth;

  return {
    readiness,
    remembered: (token) => cache.get(token, now()),
    async verify(token: string): Promise<Caller> {
      if (typeof token !== "string" || token.length === 0 || token.length > MAX_TOKEN_LENGTH) throw invalid("too long");
      const t = now();
      // Keyed by the token itself (bounded by entries and characters): a cached caller past its exp (or
      // past the key set's max age) is dropped and the token re-verified, so expiry and key removal are
      // decided in one place only.
      const hit = cache.get(token, t);
      if (hit) return hit;

      let payload;
      let protectedHeader;
      try {
        ({ payload, protectedHeader } = await jwtVerify(token, keys, {
          issuer,
          audience,
          algorithms,
          clockTolerance: auth.clockToleranceSeconds,
          requiredClaims: ["sub", "exp"],
          currentDate: new Date(t),
        }));
      } catch (e) {
        if (e instanceof errors.JWTExpired) throw unauthenticated("token expired", e.code);
        if (e instanceof errors.JWTClaimValidationFailed) throw invalid(`${e.code} (${e.claim}: ${e.reason})`);
        if (e instanceof errors.JOSEError) throw invalid(e.code === "ERR_JOSE_GENERIC" ? `JWKS unusable: ${e.message}` : e.code);
        // Only the remote key set's fetch throws anything else (connection refused, DNS, TLS).
        throw invalid(`JWKS unreachable: ${describe(e)}`);
      }
      if (protectedHeader.typ !== undefined && !ACCESS_TOKEN_TYPES.has(protectedHeader.typ.toLowerCase())) throw invalid("typ");
      if (typeof payload.sub !== "string" || !isValidActorId(payload.sub) || typeof payload.exp !== "number") {
        throw invalid("claims");
      }
      const nowS = t / 1000;
      // jose checks iat's type only; a token issued "later" was minted by a skewed or forged clock.
      if (payload.iat !== undefined && payload.iat > nowS + auth.clockToleranceSeconds) throw invalid("iat in the future");
      // A stolen long-lived token cannot be cut short: cap what an issuer may grant.
      const lifetime = payload.exp - (payload.iat ?? nowS);
      if (lifetime > auth.maxTokenAgeSeconds + (payload.iat === undefined ? auth.clockToleranceSeconds : 0)) throw invalid("lifetime");
      const caller: Caller = Object.freeze({
        subject: payload.sub,
        scopes: scopesFromClaims(payload),
        expiresAt: payload.exp * 1000,
      });
      // Not cached when only the clock tolerance lets it through: the next call re-checks it anyway.
      // A token whose key the issuer removes must stop working within the JWKS max age, cache or not.
      if (caller.expiresAt! > t) cache.set(token, caller, Math.min(caller.expiresAt!, t + trustMs));
      return caller;
    },
  };
}

/**
 * The token in an `Authorization: Bearer <token>` header (scheme case-insensitive); null when the
 * header is absent or empty; UNAUTHENTICATED when it is there but is not a bearer token.
 */
export function bearerToken(header: string | undefined | null): string | null {
  if (header === undefined || header === null || header.trim() === "") return null;
  // RFC 6750 b64token; a JWT is three base64url parts joined by dots.
  const m = /^\s*Bearer +([A-Za-z0-9\-._~+/]+=*)\s*$/i.exec(header);
  if (!m) throw new LedgerError("UNAUTHENTICATED", "malformed Authorization header: expected Bearer <token>");
  return m[1]!;
}

/**
 * Why a token was refused, for the log: the kind of failure (a JOSE code, the claim at fault, a JWKS
 * that cannot be fetched), never the token or a claim value.
 */
export function refusalReason(e: unknown): string {
  if (e instanceof LedgerError) return typeof e.cause === "string" ? e.cause : e.message;
  return "unexpected";
}

interface KeySource {
  keys: JWTVerifyGetKey;
  readiness(): Promise<string | null>;
}

const alwaysReady = async (): Promise<string | null> => null;

async function keySource(auth: Config["auth"], dataDir: string): Promise<KeySource> {
  if (auth.mode === "dev") {
    const { publicJwk } = await ensureDevAuthKey(dataDir);
    return { keys: createLocalJWKSet({ keys: [publicJwk] }), readiness: alwaysReady };
  }
  if (auth.jwksFile) return { keys: createLocalJWKSet(await readJwksFile(auth.jwksFile)), readiness: alwaysReady };
  if (auth.jwksUrl) return remoteKeySource(new URL(auth.jwksUrl), auth.jwksMaxAgeSeconds);
  throw new Error("AUTH_MODE=jwks needs AUTH_JWKS_URL or AUTH_JWKS_FILE");
}

/**
 * The identity provider's JWKS over HTTP. An unknown `kid` refetches it (at most every 5 s, so junk
 * tokens cannot hammer the issuer); a fetched set is kept at most `maxAgeSeconds`, so a key the
 * issuer removed stops being trusted by then.
 */
function remoteKeySource(url: URL, maxAgeSeconds: number): KeySource {
  const jwks = createRemoteJWKSet(url, {
    timeoutDuration: 5_000,
    cooldownDuration: JWKS_REFETCH_COOLDOWN_MS,
    cacheMaxAge: maxAgeSeconds * 1000,
  });
  let lastFailure: { at: number; reason: string } | null = null;
  return {
    keys: jwks,
    async readiness() {
      if (jwks.fresh) return null;
      // A readiness probe every second must not become a fetch every second against a failing issuer.
      if (lastFailure && Date.now() - lastFailure.at < JWKS_REFETCH_COOLDOWN_MS) return lastFailure.reason;
      try {
        await jwks.reload();
        lastFailure = null;
        return null;
      } catch (e) {
        lastFailure = { at: Date.now(), reason: `the JWKS at ${url.href} cannot be fetched: ${describe(e)}` };
        return lastFailure.reason;
      }
    },
  };
}

function describe(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  // fetch() says only "fetch failed"; the cause names the socket error (ECONNREFUSED, ENOTFOUND, ...).
  const cause = e.cause instanceof Error ? `: ${(e.cause as NodeJS.ErrnoException).code ?? e.cause.message}` : "";
  return `${e.message}${cause}`;
}

/** A JWKS file `{ "keys": [...] }` with its public keys; secret (`oct`) and private members are dropped. */
export async function readJwksFile(path: string): Promise<JSONWebKeySet> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, "utf8"));
  } catch (e) {
    throw new Error(`AUTH_JWKS_FILE ${path} cannot be read as JSON: ${(e as Error).message}`);
  }
  const keys = (parsed as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys)) throw new Error(`AUTH_JWKS_FILE ${path} must hold {"keys": [...]}`);
  const usable = (keys as unknown[])
    .filter((k): k is JWK => typeof k === "object" && k !== null && typeof (k as JWK).kty === "string")
    // A shared secret in a key set would make HMAC tokens forgeable by anyone who reads the file.
    .filter((k) => k.kty !== "oct")
    .map(publicPart);
  if (usable.length === 0) throw new Error(`AUTH_JWKS_FILE ${path} holds no public signing key`);
  return { keys: usable };
}

/** The key without private members, in case a private JWK was pasted into the public set. */
function publicPart(k: JWK): JWK {
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, oth: _oth, k: _k, ...pub } = k;
  return pub;
}

/** UNAUTHENTICATED with one generic message; `reason` stays server-side in `cause` for logs. */
function invalid(reason: string): LedgerError {
  return unauthenticated("invalid or expired token", reason);
}

function unauthenticated(message: string, reason: string): LedgerError {
  const err = new LedgerError("UNAUTHENTICATED", message);
  // Never a claim value: only the kind of failure, for operators reading logs.
  Object.defineProperty(err, "cause", { value: reason, enumerable: false });
  return err;
}
