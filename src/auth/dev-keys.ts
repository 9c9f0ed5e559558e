// Dev mode's local ES256 key pair and the tokens `npm run token` prints; never used in production.
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, SignJWT, type JWK } from "jose";
import { DEV_AUDIENCE, DEV_ISSUER } from "../config.js";
import { loadOrCreateJwkFile } from "../keys/jwk-file.js";
import { isScope, SCOPES } from "./scopes.js";

const DEV_ALG = "ES256";

export interface DevAuthKey {
  privateJwk: JWK;
  publicJwk: JWK;
  kid: string;
}

/** Where the dev key pair lives under the data folder. */
export const devAuthKeyPath = (dataDir: string): string => join(dataDir, "keys", "dev-auth.jwk.json");

/** The dev key pair, generated on first call as `<dataDir>/keys/dev-auth.jwk.json` (0600) and reused afterwards. */
export async function ensureDevAuthKey(dataDir: string): Promise<DevAuthKey> {
  const path = devAuthKeyPath(dataDir);
  const stored = await loadOrCreateJwkFile(path, async () => {
    const { privateKey } = await generateKeyPair(DEV_ALG, { extractable: true });
    const jwk = await exportJWK(privateKey);
    return { ...jwk, kid: await calculateJwkThumbprint(jwk), alg: DEV_ALG, use: "sig" };
  });
  if (stored.kty !== "EC" || stored.crv !== "P-256" || !stored.d || !stored.x || !stored.y) {
    throw new Error(`dev key file ${path} is not an EC P-256 private JWK; delete it to generate a new one`);
  }
  const publicJwk: JWK = { kty: "EC", crv: "P-256", x: stored.x, y: stored.y };
  const kid = await calculateJwkThumbprint(publicJwk);
  return {
    privateJwk: { ...stored, kid, alg: DEV_ALG, use: "sig" },
    publicJwk: { ...publicJwk, kid, alg: DEV_ALG, use: "sig" },
    kid,
  };
}

export interface IssueDevTokenOptions {
  dataDir: string;
  sub: string;
  /** Space-separated scopes. */
  scope: string;
  /** Lifetime; default 3600. */
  ttlSeconds?: number;
  issuer?: string;
  audience?: string;
}

/** A dev access token signed with the dev key: iss, aud, sub, scope, iat, exp, jti, and the kid header. */
export async function issueDevToken(opts: IssueDevTokenOptions): Promise<string> {
  const ttl = opts.ttlSeconds ?? 3600;
  if (!Number.isSafeInteger(ttl) || ttl <= 0) throw new Error("ttlSeconds must be a positive integer");
  if (opts.sub === "") throw new Error("sub must not be empty");
  const key = await ensureDevAuthKey(opts.dataDir);
  const signingKey = await importJWK(key.privateJwk, DEV_ALG);
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ scope: opts.scope })
    .setProtectedHeader({ alg: DEV_ALG, kid: key.kid, typ: "JWT" })
    .setIssuer(opts.issuer ?? DEV_ISSUER)
    .setAudience(opts.audience ?? DEV_AUDIENCE)
    .setSubject(opts.sub)
    .setIssuedAt(now)
    .setExpirationTime(now + ttl)
    .setJti(randomUUID())
    .sign(signingKey);
}

export interface TokenArgs {
  sub: string;
  scope: string;
  ttlSeconds?: number;
}

export const TOKEN_USAGE = [
  'usage: npm run token -- --sub <subject> [--scope "<scope> <scope>..."] [--ttl <seconds>]',
  `  --scope  space-separated, default "consent:self"; known scopes: ${SCOPES.join(" ")}`,
  "  --ttl    token lifetime in seconds, default 3600",
].join("\n");

/** Reads `--sub X --scope "a b" --ttl 600` (also `--sub=X`); throws an Error carrying the usage text. */
export function parseTokenArgs(argv: string[]): TokenArgs {
  const values = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--help" || arg === "-h") throw new Error(TOKEN_USAGE);
    const m = /^--(sub|scope|ttl)(?:=(.*))?$/s.exec(arg);
    if (!m) throw new Error(`unknown argument "${arg}"\n${TOKEN_USAGE}`);
    const name = m[1]!;
    let value = m[2];
    if (value === undefined) {
      value = argv[++i];
      if (value === undefined) throw new Error(`--${name} needs a value\n${TOKEN_USAGE}`);
    }
    values.set(name, value);
  }
  const sub = values.get("sub")?.trim();
  if (!sub) throw new Error(`--sub is required\n${TOKEN_USAGE}`);
  // A default of the caller's own scope makes `--sub alice` alone useful, and grants nothing over others.
  const scopes = (values.get("scope") ?? "consent:self").split(/\s+/).filter((s) => s !== "");
  // A typo would otherwise yield a token that is refused later with a far less helpful FORBIDDEN.
  const unknown = scopes.filter((s) => !isScope(s));
  if (unknown.length > 0) throw new Error(`unknown scope ${unknown.join(", ")}\n${TOKEN_USAGE}`);
  const out: TokenArgs = { sub, scope: scopes.join(" ") };
  const ttl = values.get("ttl");
  if (ttl !== undefined) {
    if (!/^\d+$/.test(ttl) || Number(ttl) <= 0 || !Number.isSafeInteger(Number(ttl))) {
      throw new Error(`--ttl must be a positive number of seconds\n${TOKEN_USAGE}`);
    }
    out.ttlSeconds = Number(ttl);
  }
  return out;
}
