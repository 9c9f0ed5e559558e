// Environment -> a typed, validated Config (contract §1); any bad setting fails fast in one line.

export interface Config {
  port: number;
  host: string;
  database: { kind: "sqlite"; path: string } | { kind: "postgres"; url: string };
  /** Where dev keys and generated receipt keys live (`<dataDir>/keys/...`). */
  dataDir: string;
  catalogDir: string;
  auth: {
    mode: "dev" | "jwks";
    jwksUrl: string | null;
    jwksFile: string | null;
    issuer: string | null;
    audience: string | null;
    algorithms: string[];
    clockToleranceSeconds: number;
    /** How long a fetched remote JWKS is trusted before it is fetched again (a removed key stops working by then). */
    jwksMaxAgeSeconds: number;
  };
  /** Origins whose browser front ends may call /graphql (CORS); "*" for any, [] for none. */
  corsOrigins: "*" | string[];
  /** The built preference centre and officer console (`npm run build`), served at /preferences and /console. */
  webDir: string;
  receiptKeyFile: string | null;
  dataRequestDueDays: number;
  production: boolean;
  logLevel: string;
  limits: { bodyBytes: number; maxDepth: number; maxCost: number; maxSubscriptionsPerConnection: number; subscriberQueue: number };
}

/** A setting the service cannot start with; the message is one line, fit for a start-up log. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  constructor(message: string) {
    // A multi-line reason would break the one-JSON-object-per-line log.
    super(message.replace(/\s*\n\s*/g, " "));
  }
}

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
const LOG_LEVELS = new Set(["fatal", "error", "warn", "info", "debug", "trace", "silent"]);

/** Reads and validates the settings; throws ConfigError naming the variable at fault. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // An empty variable (e.g. `PORT=` in a compose file) means "not set", not "set to nothing".
  const get = (name: string): string | undefined => {
    const v = env[name]?.trim();
    return v === undefined || v === "" ? undefined : v;
  };
  const production = get("NODE_ENV") === "production";

  const jwksUrl = get("AUTH_JWKS_URL") ?? null;
  const jwksFile = get("AUTH_JWKS_FILE") ?? null;
  const modeRaw = get("AUTH_MODE") ?? (jwksUrl || jwksFile ? "jwks" : "dev");
  if (modeRaw !== "dev" && modeRaw !== "jwks") throw new ConfigError(`AUTH_MODE must be "dev" or "jwks", got "${modeRaw}"`);
  const mode = modeRaw;

  if (production && mode === "dev") {
    throw new ConfigError(
      get("AUTH_MODE") === "dev"
        ? "refusing to start: AUTH_MODE=dev is not allowed with NODE_ENV=production (set AUTH_JWKS_URL or AUTH_JWKS_FILE)"
        : "refusing to start: NODE_ENV=production needs AUTH_JWKS_URL or AUTH_JWKS_FILE (with AUTH_ISSUER and AUTH_AUDIENCE); dev tokens are refused in production",
    );
  }

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

  return {
    port: intSetting(get, "PORT", 4000, 0, 65_535),
    host: get("HOST") ?? "127.0.0.1",
    database: parseDatabaseUrl(get("DATABASE_URL") ?? "sqlite:data/ledger.db"),
    dataDir: get("DATA_DIR") ?? "data",
    catalogDir: get("CATALOG_DIR") ?? "data/policies",
    auth: {
      mode,
      jwksUrl: mode === "jwks" ? jwksUrl : null,
      jwksFile: mode === "jwks" ? jwksFile : null,
      issuer,
      audience,
      algorithms: parseAlgorithms(get("AUTH_ALGORITHMS") ?? "RS256,ES256,EdDSA"),
      clockToleranceSeconds: intSetting(get, "AUTH_CLOCK_TOLERANCE_SECONDS", 30, 0, 3_600),
      jwksMaxAgeSeconds: intSetting(get, "AUTH_JWKS_MAX_AGE_SECONDS", 300, 1, 86_400),
    },
    corsOrigins: parseCorsOrigins(get("CORS_ORIGINS") ?? ""),
    webDir: get("WEB_DIR") ?? "dist/web",
    receiptKeyFile: get("RECEIPT_KEY_FILE") ?? null,
    dataRequestDueDays: intSetting(get, "DATA_REQUEST_DUE_DAYS", 14, 1, 3_650),
    production,
    logLevel: parseLogLevel(get("LOG_LEVEL") ?? "info"),
    limits: {
      bodyBytes: intSetting(get, "BODY_LIMIT_BYTES", 1_000_000, 1, 1_073_741_824),
      maxDepth: intSetting(get, "MAX_QUERY_DEPTH", 12, 1, 1_000),
      maxCost: intSetting(get, "MAX_QUERY_COST", 5_000, 1, 100_000_000),
      maxSubscriptionsPerConnection: intSetting(get, "MAX_SUBSCRIPTIONS_PER_CONNECTION", 100, 1, 100_000),
      // Messages a subscriber may fall behind before it is ended (SLOW_SUBSCRIBER) and must resume.
      subscriberQueue: intSetting(get, "SUBSCRIBER_QUEUE_LIMIT", 1_000, 1, 1_000_000),
    },
  };
}

/** `sqlite:<path>`, `sqlite::memory:` (also `sqlite://<path>`), or `postgres://user:pass@host:port/db` (also `postgresql://`). */
export function parseDatabaseUrl(url: string): Config["database"] {
  if (/^postgres(ql)?:/i.test(url)) {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      throw new ConfigError("DATABASE_URL is not a valid postgres:// URL (postgres://user:pass@host:port/db)");
    }
    if (u.hostname === "" && !u.searchParams.has("host")) throw new ConfigError("DATABASE_URL names no PostgreSQL host (postgres://user:pass@host:port/db)");
    if (u.pathname === "" || u.pathname === "/") throw new ConfigError("DATABASE_URL names no PostgreSQL database (postgres://user:pass@host:port/db)");
    return { kind: "postgres", url };
  }
  const m = /^sqlite:(.*)$/i.exec(url);
  if (!m) throw new ConfigError("DATABASE_URL must be sqlite:<path>, sqlite::memory: or postgres://user:pass@host:port/db");
  let path = m[1]!;
  if (path.startsWith("//")) path = path.slice(2); // sqlite:///abs/path and sqlite://rel/path
  if (path === "") throw new ConfigError("DATABASE_URL names no database file");
  return { kind: "sqlite", path: path === ":memory:" ? ":memory:" : path };
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

/** `*`, or a comma-separated list of origins (`https://www.example.jp`); each must be a bare origin, no path. */
export function parseCorsOrigins(raw: string): "*" | string[] {
  const items = [...new Set(raw.split(",").map((s) => s.trim()).filter((s) => s !== ""))];
  if (items.length === 1 && items[0] === "*") return "*";
  return items.map((item) => {
    let origin: string;
    try {
      origin = new URL(item).origin;
    } catch {
      throw new ConfigError(`CORS_ORIGINS: "${item}" is not an origin (expected e.g. https://www.example.jp, or * alone)`);
    }
    // A browser sends the origin without a trailing slash or path; anything else would never match.
    if (origin === "null" || origin !== item.replace(/\/$/, "")) {
      throw new ConfigError(`CORS_ORIGINS: "${item}" is not a bare origin (scheme://host[:port], no path)`);
    }
    return origin;
  });
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
  const loopback = ["localhost", "127.0.0.1", "[::1]"].includes(url.hostname);
  if (production && url.protocol === "http:" && !loopback) {
    throw new ConfigError("AUTH_JWKS_URL must use https with NODE_ENV=production");
  }
}

function parseLogLevel(level: string): string {
  if (!LOG_LEVELS.has(level)) throw new ConfigError(`LOG_LEVEL must be one of ${[...LOG_LEVELS].join(", ")}`);
  return level;
}

function intSetting(
  get: (name: string) => string | undefined,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const raw = get(name);
  if (raw === undefined) return fallback;
  // Number("1e3") or parseInt("12abc") would quietly accept typos.
  if (!/^\d+$/.test(raw)) throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  }
  return n;
}
