// Who may call: dev tokens or a JWKS (a URL or a file), the issuer and audience, the accepted
// signature algorithms and the token-age bounds; and the two facts they rest on, production and loopback.
import { ConfigError, type Get, intSetting } from "./settings.js";
import type { Config } from "./types.js";

export const DEV_ISSUER = "consent-ledger-dev";
export const DEV_AUDIENCE = "consent-ledger";

/** Asymmetric JWS algorithms a JWKS may name; HMAC and `none` are absent on purpose. */
const ASYMMETRIC_ALGORITHMS = new Set([
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "ES512",
  "EdDSA",
  "Ed25519",
]);

/** The auth mode and its key source, decided before anything else is read: a dev server must not start where it should not. */
export type AuthMode = Omit<Config["auth"], "algorithms" | "clockToleranceSeconds" | "jwksMaxAgeSeconds" | "maxTokenAgeSeconds">;

export function authMode(get: Get, production: boolean, nodeEnv: string | undefined, host: string): AuthMode {
  const jwksUrl = get("AUTH_JWKS_URL") ?? null;
  const jwksFile = get("AUTH_JWKS_FILE") ?? null;
  const explicitMode = get("AUTH_MODE");
  const modeRaw = explicitMode ?? (jwksUrl || jwksFile ? "jwks" : "dev");
  if (modeRaw !== "dev" && modeRaw !== "jwks") throw new ConfigError(`AUTH_MODE must be "dev" or "jwks", got "${modeRaw}"`);
  const mode = modeRaw;

  if (production && mode === "dev") {
    throw new ConfigError(
      explicitMode === "dev"
        ? `refusing to start: AUTH_MODE=dev is not allowed with NODE_ENV=${nodeEnv} (set AUTH_JWKS_URL or AUTH_JWKS_FILE)`
        : `refusing to start: NODE_ENV=${nodeEnv} needs AUTH_JWKS_URL or AUTH_JWKS_FILE (with AUTH_ISSUER and AUTH_AUDIENCE); dev tokens are refused in production`,
    );
  }
  // Anyone who can reach a dev-mode server and read its data folder can mint any scope: without
  // an explicit AUTH_MODE=dev, dev mode only ever listens on this machine.
  if (mode === "dev" && explicitMode === undefined && !isLoopbackHost(host)) {
    throw new ConfigError(
      `refusing to start: no AUTH_JWKS_URL or AUTH_JWKS_FILE and HOST=${host} is not loopback; dev mode starts by itself only on a loopback HOST (set a JWKS, or AUTH_MODE=dev to run dev mode on purpose)`,
    );
  }
  const modeReason =
    mode === "jwks"
      ? `${jwksUrl ? "AUTH_JWKS_URL" : "AUTH_JWKS_FILE"} is set`
      : explicitMode === "dev"
        ? "AUTH_MODE=dev"
        : `no JWKS is configured and HOST=${host} is loopback`;

  let issuer = get("AUTH_ISSUER") ?? null;
  let audience = get("AUTH_AUDIENCE") ?? null;
  if (mode === "jwks") {
    if (!jwksUrl && !jwksFile) throw new ConfigError("AUTH_MODE=jwks needs AUTH_JWKS_URL or AUTH_JWKS_FILE");
    // Two key sources would leave it unclear which one a token was checked against.
    if (jwksUrl && jwksFile) throw new ConfigError("set AUTH_JWKS_URL or AUTH_JWKS_FILE, not both");
    if (!issuer) throw new ConfigError("AUTH_ISSUER is required when a JWKS is set");
    if (!audience) throw new ConfigError("AUTH_AUDIENCE is required when a JWKS is set");
    if (jwksUrl) checkJwksUrl(jwksUrl, production);
  } else {
    issuer ??= DEV_ISSUER;
    audience ??= DEV_AUDIENCE;
  }
  return { mode, jwksUrl: mode === "jwks" ? jwksUrl : null, jwksFile: mode === "jwks" ? jwksFile : null, issuer, audience, modeReason };
}

/** The auth settings: the mode and its keys, the algorithms and the time bounds on tokens. */
export function authSettings(get: Get, m: AuthMode): Config["auth"] {
  return {
    mode: m.mode,
    jwksUrl: m.jwksUrl,
    jwksFile: m.jwksFile,
    issuer: m.issuer,
    audience: m.audience,
    algorithms: parseAlgorithms(get("AUTH_ALGORITHMS") ?? "RS256,ES256,EdDSA"),
    clockToleranceSeconds: intSetting(get, "AUTH_CLOCK_TOLERANCE_SECONDS", 30, 0, 3_600),
    jwksMaxAgeSeconds: intSetting(get, "AUTH_JWKS_MAX_AGE_SECONDS", 300, 1, 86_400),
    maxTokenAgeSeconds: intSetting(get, "AUTH_MAX_TOKEN_AGE_SECONDS", 86_400, 60, 31_536_000),
    modeReason: m.modeReason,
  };
}

/** The allow-list for access-token signatures; HMAC would let anyone holding the public JWKS mint tokens. */
export function parseAlgorithms(raw: string): string[] {
  const algs = [...new Set(raw.split(",").map((s) => s.trim()).filter((s) => s !== ""))];
  if (algs.length === 0) throw new ConfigError("AUTH_ALGORITHMS names no algorithm");
  for (const alg of algs) {
    if (alg.toLowerCase() === "none") throw new ConfigError('AUTH_ALGORITHMS: "none" is never accepted');
    if (/^HS/i.test(alg)) throw new ConfigError(`AUTH_ALGORITHMS: HMAC (${alg}) is never accepted from a JWKS`);
    if (!ASYMMETRIC_ALGORITHMS.has(alg)) {
      throw new ConfigError(`AUTH_ALGORITHMS: unknown algorithm "${alg}" (known: ${[...ASYMMETRIC_ALGORITHMS].join(", ")})`);
    }
  }
  return algs;
}

/** `production` and `prod` in any case: a capitalised NODE_ENV must not start a development server. */
export function isProduction(nodeEnv: string | undefined): boolean {
  return nodeEnv !== undefined && /^prod(uction)?$/i.test(nodeEnv);
}

/** Hosts that only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[(.*)\]$/, "$1");
  return h === "localhost" || h === "::1" || /^(::ffff:)?127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

function checkJwksUrl(raw: string, production: boolean): void {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError("AUTH_JWKS_URL is not a URL");
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") throw new ConfigError("AUTH_JWKS_URL must be http(s)");
  // Keys fetched in clear text can be swapped on the way; allow http only to this machine in production.
  if (production && url.protocol === "http:" && !isLoopbackHost(url.hostname)) {
    throw new ConfigError("AUTH_JWKS_URL must use https with NODE_ENV=production");
  }
}
