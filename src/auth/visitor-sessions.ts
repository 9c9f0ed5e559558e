// Visitor sessions: tokens the service signs itself for people without an account, scope consent:visitor.
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { SignJWT, calculateJwkThumbprint, decodeJwt, errors, exportJWK, generateKeyPair, importJWK, jwtVerify, type CryptoKey, type JWK } from "jose";
import { LedgerError } from "../domain/errors.js";
import { loadOrCreateJwkFile } from "../keys/jwk-file.js";
import type { Caller } from "./scopes.js";
import { TokenDecisions } from "./token-decisions.js";
import type { TokenVerifier } from "./token-verifier.js";

export const VISITOR_SCOPE = "consent:visitor";
/** The `iss` and `aud` of visitor tokens; no identity provider uses it, so they are told apart before any key is tried. */
export const VISITOR_ISSUER = "urn:consent-ledger:visitor-session";
export const VISITOR_PREFIX = "visitor:";
const ALG = "EdDSA";

/** The visitor-session signing key, generated once under the data folder; never the receipt or checkpoint key. */
export const visitorKeyPath = (dataDir: string): string => join(dataDir, "keys", "visitor-session.jwk.json");

export interface VisitorSession {
  subjectId: string;
  token: string;
  /** RFC 3339. */
  expiresAt: string;
}

export function isVisitorId(id: string): boolean {
  return /^visitor:[A-Za-z0-9_-]{16,64}$/.test(id);
}

/** Visitor tokens remembered once verified (see token-decisions.ts), each until its exp. */
const REMEMBERED_VISITOR_TOKENS = 10_000;

export class VisitorSessions {
  private readonly decisions = new TokenDecisions(REMEMBERED_VISITOR_TOKENS);

  private constructor(
    private readonly privateKey: CryptoKey,
    private readonly publicKey: CryptoKey,
    private readonly kid: string,
    private readonly ttlSeconds: number,
    private readonly now: () => number,
  ) {}

  static async load(dataDir: string, opts: { ttlSeconds: number; now?: () => number }): Promise<VisitorSessions> {
    const path = visitorKeyPath(dataDir);
    const jwk = await loadOrCreateJwkFile(path, async () => exportJWK((await generateKeyPair(ALG, { crv: "Ed25519", extractable: true })).privateKey));
    if (jwk.kty !== "OKP" || jwk.crv !== "Ed25519" || !jwk.d || !jwk.x) throw new Error(`visitor-session key file ${path} is not an Ed25519 private JWK; delete it to generate a new one`);
    const publicJwk: JWK = { kty: "OKP", crv: "Ed25519", x: jwk.x };
    return new VisitorSessions(
      (await importJWK(jwk, ALG)) as CryptoKey,
      (await importJWK(publicJwk, ALG)) as CryptoKey,
      await calculateJwkThumbprint(publicJwk),
      opts.ttlSeconds,
      opts.now ?? Date.now,
    );
  }

  /** A new visitor (128 random bits), or a fresh token for `renew`'s visitor. */
  async issue(renew?: string): Promise<VisitorSession> {
    const subjectId = renew ?? `${VISITOR_PREFIX}${randomBytes(16).toString("base64url")}`;
    const iat = Math.floor(this.now() / 1000);
    const exp = iat + this.ttlSeconds;
    const token = await new SignJWT({ scope: VISITOR_SCOPE })
      .setProtectedHeader({ alg: ALG, kid: this.kid, typ: "at+jwt" })
      .setIssuer(VISITOR_ISSUER)
      .setAudience(VISITOR_ISSUER)
      .setSubject(subjectId)
      .setIssuedAt(iat)
      .setExpirationTime(exp)
      .sign(this.privateKey);
    return { subjectId, token, expiresAt: new Date(exp * 1000).toISOString() };
  }

  /** The visitor a token speaks for: consent:visitor, acting on itself only (see checkVisitorOperation). */
  async verify(token: string): Promise<Caller> {
    const t = this.now();
    const hit = this.decisions.get(token, t);
    if (hit) return hit;
    let payload;
    try {
      ({ payload } = await jwtVerify(token, this.publicKey, {
        issuer: VISITOR_ISSUER,
        audience: VISITOR_ISSUER,
        algorithms: [ALG],
        requiredClaims: ["sub", "exp"],
        currentDate: new Date(t),
      }));
    } catch (e) {
      throw refused(e instanceof errors.JWTExpired ? "token expired" : "invalid or expired token", e instanceof errors.JOSEError ? e.code : "unexpected");
    }
    if (typeof payload.sub !== "string" || !isVisitorId(payload.sub) || payload.scope !== VISITOR_SCOPE) throw refused("invalid or expired token", "claims");
    // consent:self inside the resolvers (the visitor is its own subject); the pipeline keeps it to a few root fields (src/graphql/visitor-operations.ts).
    const caller: Caller = Object.freeze({ subject: payload.sub, scopes: new Set([VISITOR_SCOPE, "consent:self"]), expiresAt: payload.exp! * 1000 });
    // The visitor key does not change while the service runs, so a visitor token's decision holds until its exp (checked without clock tolerance, as jose does here).
    this.decisions.set(token, caller, caller.expiresAt!);
    return caller;
  }

  /** The visitor a token was already verified as, while its exp has not passed; undefined otherwise. */
  remembered(token: string): Caller | undefined {
    return this.decisions.get(token, this.now());
  }
}

function refused(message: string, reason: string): LedgerError {
  const err = new LedgerError("UNAUTHENTICATED", message);
  Object.defineProperty(err, "cause", { value: reason, enumerable: false });
  return err;
}

/**
 * The configured verifier, accepting visitor tokens beside it: a token whose (unverified) issuer is
 * the visitor issuer is checked against the visitor key only, every other against the configured
 * issuer only. With visitor sessions off (null), visitor tokens are refused like any unknown issuer's.
 */
export function withVisitorSessions(base: TokenVerifier, visitors: VisitorSessions | null): TokenVerifier {
  return {
    readiness: () => base.readiness(),
    remembered: (token) => base.remembered?.(token) ?? visitors?.remembered(token),
    async verify(token: string): Promise<Caller> {
      // A token verified before is answered from memory, before its issuer is read (each side keeps its own, see token-decisions.ts).
      const known = base.remembered?.(token) ?? visitors?.remembered(token);
      if (known) return known;
      let iss: unknown;
      try {
        iss = token.length <= 8192 ? decodeJwt(token).iss : undefined;
      } catch {
        iss = undefined;
      }
      if (iss !== VISITOR_ISSUER) return base.verify(token);
      if (!visitors) throw refused("invalid or expired token", "visitor sessions are off");
      return visitors.verify(token);
    },
  };
}

/** Visitor sessions one address may open per minute: whether one more may be opened now (counting it). */
export interface AddressRatePort {
  take(address: string): boolean | Promise<boolean>;
}

/** Sessions one address may open per window; a small fixed-window counter, pruned as windows pass. */
export class AddressRateLimit implements AddressRatePort {
  private window = 0;
  private counts = new Map<string, number>();
  constructor(
    private readonly perWindow: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Whether `address` may open one more now (counting it). */
  take(address: string): boolean {
    const w = Math.floor(this.now() / this.windowMs);
    if (w !== this.window) {
      this.window = w;
      this.counts = new Map();
    }
    // IPv6 clients rotate addresses within their /64: count the prefix, not each address.
    const key = address.includes(":") && !address.startsWith("::ffff:") ? address.split(":").slice(0, 4).join(":") : address;
    const n = (this.counts.get(key) ?? 0) + 1;
    this.counts.set(key, n);
    return n <= this.perWindow;
  }
}
