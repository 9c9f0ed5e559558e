// A token the service issued itself (dev keys) whose exp is already past: what a client holds after
// leaving a page open too long.
import { SignJWT, importJWK } from "jose";
import { ensureDevAuthKey } from "../../src/auth/dev-keys.js";
import type { TestServer } from "./harness.js";

/** A dev-key token whose exp is already past, beyond any clock tolerance. */
export async function expiredToken(srv: TestServer, sub: string, scope: string): Promise<string> {
  const key = await ensureDevAuthKey(srv.dataDir);
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ scope })
    .setProtectedHeader({ alg: "ES256", kid: key.kid, typ: "JWT" })
    .setIssuer(srv.config.auth.issuer!)
    .setAudience(srv.config.auth.audience!)
    .setSubject(sub)
    .setIssuedAt(now - 7200)
    .setExpirationTime(now - 3600)
    .sign(await importJWK(key.privateJwk, "ES256"));
}
