// Environment -> a typed, validated Config (the settings of docs/operations.md); any bad setting fails fast in one line.
import { existsSync, statSync } from "node:fs";
import { hostname } from "node:os";
import { DATA_REQUEST_KINDS, type DataRequestKind } from "./domain/events.js";
import { DEFAULT_MAX_EXTENSION_DAYS } from "./domain/decide.js";
import { DEFAULT_ADEQUATE_COUNTRIES } from "./domain/transfer.js";

export interface Config {
  port: number;
  host: string;
  /** For SQLite, `writer` says where writes run (SQLITE_WRITER; the adapter's default when absent). */
  database: { kind: "sqlite"; path: string; writer?: "thread" | "in-process" } | { kind: "postgres"; url: string };
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
    /** Longest lifetime a token may claim (exp − iat, or exp − now without iat). */
    maxTokenAgeSeconds: number;
    /** Why this mode was chosen, for the start log. */
    modeReason: string;
  };
  /** Origins whose browser front ends may call /graphql (CORS); "*" for any, [] for none. */
  corsOrigins: "*" | string[];
  /** The built preference centre and officer console (`npm run build`), served at /preferences and /console. */
  webDir: string;
  receiptKeyFile: string | null;
  /** CHECKPOINT_KEY_FILE: the Ed25519 key that signs transparency-log checkpoints; null for a generated one. */
  checkpointKeyFile: string | null;
  /** LEDGER_ORIGIN: the log's name in its checkpoints and the checkpoint key's name. */
  ledgerOrigin: string;
  /** CHECKPOINT_INTERVAL_MS: how often a checkpoint is published when the log has grown. */
  checkpointIntervalMs: number;
  /** The key-encryption key that wraps subject keys; null: `<dataDir>/keys/evidence.kek`, generated (not in production). */
  evidenceKekFile: string | null;
  dataRequestDueDays: number;
  /** Data requests a subject may have open (not yet fulfilled or rejected) at once. */
  maxOpenDataRequests: number;
  /** Subject ids shaped like an email address or a phone number are refused unless this is true. */
  allowIdentifyingSubjectIds: boolean;
  /** DEFAULT_POLICY_ID: the policy calls without policyId are about, once published (default: the shipped catalogue's). */
  defaultPolicyId: string;
  /** A back-dated occurredAt earlier than this instant (epoch ms) is refused; null: only the version's own bound applies. */
  occurredAtFloor: number | null;
  /** DATA_REQUEST_DUE_DAYS_<KIND>: due days per request kind; a kind left out uses dataRequestDueDays. */
  dataRequestDueDaysByKind: Partial<Record<DataRequestKind, number>>;
  /** DATA_REQUEST_MAX_EXTENSION_DAYS: how many days in total a request's due date may be moved (default 60). */
  dataRequestMaxExtensionDays: number;
  /** ADEQUATE_COUNTRIES: ISO country codes outside Japan recognised as equivalent (APPI Art. 28(1)); default the EEA states and GB. */
  adequateCountries: readonly string[];
  production: boolean;
  logLevel: string;
  limits: {
    bodyBytes: number;
    /** Lexical tokens a query text may hold, on HTTP and WebSocket alike. */
    maxTokens: number;
    maxDepth: number;
    maxCost: number;
    maxSubscriptionsPerConnection: number;
    /** Open subscriptions one caller (token subject) may hold across all its connections. */
    maxSubscriptionsPerCaller: number;
    /** Open WebSocket connections one caller may hold. */
    maxConnectionsPerCaller: number;
    /** Whole-log reads (ledgerIntegrity, events by type across subjects) one caller may run at once. */
    maxWholeLogPerCaller: number;
    subscriberQueue: number;
    /** Replay pages (subscriptions resuming from an old cursor) one caller may have read at once; the rest wait. */
    maxReplaysPerCaller: number;
    /** The most bytes one operation's answer may hold, priced before it runs (and the export's stored size). */
    maxResponseBytes: number;
    /** Bytes a WebSocket connection may have unsent before its subscriptions end with SLOW_SUBSCRIBER. */
    subscriberBytes: number;
    /** subjectExport builds one caller may run at once. */
    maxExportsPerCaller: number;
    /** Commands one subject's record may take per minute, whoever sends them; 0 for no quota. */
    maxWritesPerSubjectPerMinute: number;
  };
  /** Distinct operation names /metrics labels before further names are counted as "other". */
  metricsOperationNames: number;
  /** Whether the hot reads (permission, permissions, me) run compiled by graphql-jit. */
  compiledReads: boolean;
  /** POST /visitor-session (VISITOR_SESSIONS): tokens for visitors without an account, signed by the service's own key. */
  visitorSessions: { enabled: boolean; ttlSeconds: number; perAddressPerMinute: number };
  /** Webhook delivery (WEBHOOK_*). */
  webhooks: {
    allowHttp: boolean;
    allowPrivate: boolean;
    retryDelaysMs: number[];
    timeoutMs: number;
    concurrencyPerReceiver: number;
    leaseMs: number;
    flushMs: number;
    deliveryThread: boolean;
  };
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
  const nodeEnv = get("NODE_ENV");
  const production = isProduction(nodeEnv);
  const host = get("HOST") ?? "127.0.0.1";

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

  return {
    port: intSetting(get, "PORT", 4000, 0, 65_535),
    host,
    database: withSqliteWriter(parseDatabaseUrl(get("DATABASE_URL") ?? "sqlite:data/ledger.db"), get("SQLITE_WRITER")),
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
      maxTokenAgeSeconds: intSetting(get, "AUTH_MAX_TOKEN_AGE_SECONDS", 86_400, 60, 31_536_000),
      modeReason,
    },
    corsOrigins: parseCorsOrigins(get("CORS_ORIGINS") ?? ""),
    webDir: get("WEB_DIR") ?? "dist/web",
    receiptKeyFile: get("RECEIPT_KEY_FILE") ?? null,
    checkpointKeyFile: get("CHECKPOINT_KEY_FILE") ?? null,
    ledgerOrigin: parseOrigin(get("LEDGER_ORIGIN") ?? `consent-ledger.local/${hostname()}`),
    // Every commit is covered within this plus the time to sign; the contract allows 1 s in all.
    checkpointIntervalMs: intSetting(get, "CHECKPOINT_INTERVAL_MS", 500, 10, 900),
    evidenceKekFile: evidenceKekFile(get("EVIDENCE_KEK_FILE") ?? null, production, nodeEnv),
    dataRequestDueDays: intSetting(get, "DATA_REQUEST_DUE_DAYS", 14, 1, 3_650),
    maxOpenDataRequests: intSetting(get, "MAX_OPEN_DATA_REQUESTS", 5, 1, 1_000),
    allowIdentifyingSubjectIds: boolSetting(get, "ALLOW_IDENTIFYING_SUBJECT_IDS", false),
    defaultPolicyId: policyIdSetting(get, "DEFAULT_POLICY_ID", SHIPPED_POLICY_ID),
    occurredAtFloor: instantSetting(get, "OCCURRED_AT_FLOOR"),
    dataRequestDueDaysByKind: Object.fromEntries(
      DATA_REQUEST_KINDS.filter((k) => get(`DATA_REQUEST_DUE_DAYS_${k}`) !== undefined).map((k) => [k, intSetting(get, `DATA_REQUEST_DUE_DAYS_${k}`, 14, 1, 3_650)]),
    ),
    dataRequestMaxExtensionDays: intSetting(get, "DATA_REQUEST_MAX_EXTENSION_DAYS", DEFAULT_MAX_EXTENSION_DAYS, 0, 3_650),
    adequateCountries: countryListSetting(get, "ADEQUATE_COUNTRIES", DEFAULT_ADEQUATE_COUNTRIES),
    production,
    logLevel: parseLogLevel(get("LOG_LEVEL") ?? "info"),
    limits: {
      bodyBytes: intSetting(get, "BODY_LIMIT_BYTES", 1_000_000, 1, 1_073_741_824),
      maxTokens: intSetting(get, "MAX_QUERY_TOKENS", 10_000, 100, 1_000_000),
      maxDepth: intSetting(get, "MAX_QUERY_DEPTH", 12, 1, 1_000),
      maxCost: intSetting(get, "MAX_QUERY_COST", 5_000, 1, 100_000_000),
      maxSubscriptionsPerConnection: intSetting(get, "MAX_SUBSCRIPTIONS_PER_CONNECTION", 100, 1, 100_000),
      maxSubscriptionsPerCaller: intSetting(get, "MAX_SUBSCRIPTIONS_PER_CALLER", 500, 1, 1_000_000),
      maxConnectionsPerCaller: intSetting(get, "MAX_CONNECTIONS_PER_CALLER", 20, 1, 100_000),
      maxWholeLogPerCaller: intSetting(get, "MAX_WHOLE_LOG_READS_PER_CALLER", 1, 1, 1_000),
      // Messages a subscriber may fall behind before it is ended (SLOW_SUBSCRIBER) and must resume.
      subscriberQueue: intSetting(get, "SUBSCRIBER_QUEUE_LIMIT", 1_000, 1, 1_000_000),
      maxReplaysPerCaller: intSetting(get, "MAX_REPLAYS_PER_CALLER", 2, 1, 1_000),
      maxResponseBytes: intSetting(get, "MAX_RESPONSE_BYTES", 16_777_216, 65_536, 1_073_741_824),
      subscriberBytes: intSetting(get, "MAX_SUBSCRIBER_BYTES", 8_388_608, 65_536, 1_073_741_824),
      maxExportsPerCaller: intSetting(get, "MAX_EXPORTS_PER_CALLER", 1, 1, 1_000),
      maxWritesPerSubjectPerMinute: intSetting(get, "MAX_WRITES_PER_SUBJECT_PER_MINUTE", 600, 0, 1_000_000),
    },
    metricsOperationNames: intSetting(get, "METRICS_OPERATION_NAMES", 100, 0, 10_000),
    compiledReads: boolSetting(get, "GRAPHQL_JIT", true),
    visitorSessions: {
      enabled: boolSetting(get, "VISITOR_SESSIONS", true),
      ttlSeconds: intSetting(get, "VISITOR_SESSION_TTL_SECONDS", 30 * 86_400, 60, 400 * 86_400),
      perAddressPerMinute: intSetting(get, "VISITOR_SESSIONS_PER_MINUTE", 30, 1, 1_000_000),
    },
    webhooks: webhookSettings({
      allowHttp: boolSetting(get, "WEBHOOK_ALLOW_HTTP", false),
      allowPrivate: boolSetting(get, "WEBHOOK_ALLOW_PRIVATE", false),
      retryDelaysMs: retryDelays(get("WEBHOOK_RETRY_DELAYS_MS"), production),
      timeoutMs: intSetting(get, "WEBHOOK_TIMEOUT_MS", 10_000, 1, 60_000),
      concurrencyPerReceiver: intSetting(get, "WEBHOOK_CONCURRENCY_PER_RECEIVER", 16, 1, 1_000),
      leaseMs: intSetting(get, "WEBHOOK_LEASE_MS", 30_000, 100, 600_000),
      flushMs: intSetting(get, "WEBHOOK_FLUSH_MS", 50, 1, 10_000),
      deliveryThread: boolSetting(get, "WEBHOOK_DELIVERY_THREAD", false),
    }),
  };
}

/** A replica starts a request only while its lease outlasts the request's time-out, so the lease must be the longer by far. */
function webhookSettings(w: Config["webhooks"]): Config["webhooks"] {
  if (w.leaseMs <= 2 * w.timeoutMs)
    throw new ConfigError(`WEBHOOK_LEASE_MS (${w.leaseMs}) must be more than twice WEBHOOK_TIMEOUT_MS (${w.timeoutMs}): a replica sends only while its lease outlasts a request`);
  return w;
}

/** 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h: eight attempts over 27 h 35 min before a webhook is disabled. */
export const DEFAULT_WEBHOOK_RETRY_DELAYS_MS = [5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000];
const DAY_MS = 86_400_000;

/** WEBHOOK_RETRY_DELAYS_MS: the delays between attempts, comma separated; in production they must span a day. */
function retryDelays(raw: string | undefined, production: boolean): number[] {
  if (raw === undefined) return DEFAULT_WEBHOOK_RETRY_DELAYS_MS;
  const items = raw.split(",").map((s) => s.trim());
  if (items.length === 0 || items.length > 100 || items.some((s) => !/^\d+$/.test(s) || Number(s) > 7 * DAY_MS))
    throw new ConfigError(`WEBHOOK_RETRY_DELAYS_MS must be 1 to 100 comma-separated delays in ms (each at most 7 days), got "${raw}"`);
  const delays = items.map(Number);
  if (production && delays.reduce((a, b) => a + b, 0) < DAY_MS)
    throw new ConfigError("WEBHOOK_RETRY_DELAYS_MS must add up to at least 24 hours with NODE_ENV=production (failed deliveries are retried for a day)");
  return delays;
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

/** SQLITE_WRITER: "thread" (group commit and fsync off the event loop; the default for a file) or "in-process". */
function withSqliteWriter(database: Config["database"], raw: string | undefined): Config["database"] {
  if (raw === undefined) return database;
  if (raw !== "thread" && raw !== "in-process") throw new ConfigError(`SQLITE_WRITER must be "thread" or "in-process", got "${raw}"`);
  if (database.kind !== "sqlite") throw new ConfigError("SQLITE_WRITER applies to a sqlite: DATABASE_URL only");
  return { ...database, writer: raw };
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

/** `production` and `prod` in any case: a capitalised NODE_ENV must not start a development server. */
export function isProduction(nodeEnv: string | undefined): boolean {
  return nodeEnv !== undefined && /^prod(uction)?$/i.test(nodeEnv);
}

/** Hosts that only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[(.*)\]$/, "$1");
  return h === "localhost" || h === "::1" || /^(::ffff:)?127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

function evidenceKekFile(file: string | null, production: boolean, nodeEnv: string | undefined): string | null {
  // A key generated beside the database would travel with every copy of the data folder.
  if (production && file === null)
    throw new ConfigError(`refusing to start: NODE_ENV=${nodeEnv} needs EVIDENCE_KEK_FILE, a key file kept apart from the data folder (generated there on first start if missing)`);
  return file;
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

/** A checkpoint's origin is also its key's name in signed notes: no spaces, no "+", no control characters. */
function parseOrigin(origin: string): string {
  if (/[\s+\u0000-\u001f\u007f]/u.test(origin)) throw new ConfigError("LEDGER_ORIGIN must not contain spaces, \"+\" or control characters");
  return origin;
}

function parseLogLevel(level: string): string {
  if (!LOG_LEVELS.has(level)) throw new ConfigError(`LOG_LEVEL must be one of ${[...LOG_LEVELS].join(", ")}`);
  return level;
}

/** The policy id of the catalogue shipped in data/policies. */
export const SHIPPED_POLICY_ID = "clavis-privacy";

function policyIdSetting(get: (name: string) => string | undefined, name: string, fallback: string): string {
  const v = get(name);
  if (v === undefined || v === "") return fallback;
  if (!/^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$/.test(v)) throw new ConfigError(`${name} must be a policy id (letters, digits and . _ : @ -, at most 128), got ${JSON.stringify(v)}`);
  return v;
}

/** Comma-separated ISO 3166-1 alpha-2 codes; empty means none. */
function countryListSetting(get: (name: string) => string | undefined, name: string, fallback: readonly string[]): readonly string[] {
  const raw = get(name);
  if (raw === undefined) return fallback;
  const codes = raw.split(",").map((c) => c.trim().toUpperCase()).filter((c) => c !== "");
  const bad = codes.filter((c) => !/^[A-Z]{2}$/.test(c));
  if (bad.length > 0) throw new ConfigError(`${name} must list ISO 3166-1 alpha-2 country codes separated by commas, got "${bad.join(", ")}"`);
  return codes;
}

function boolSetting(get: (name: string) => string | undefined, name: string, fallback: boolean): boolean {
  const raw = get(name);
  if (raw === undefined) return fallback;
  if (raw === "true") return true;
  if (raw === "false") return false;
  throw new ConfigError(`${name} must be true or false, got "${raw}"`);
}

/** An RFC 3339 instant with a zone (`2020-01-01T00:00:00Z`), as epoch ms; null when unset. */
function instantSetting(get: (name: string) => string | undefined, name: string): number | null {
  const raw = get(name);
  if (raw === undefined) return null;
  const ms = Date.parse(raw);
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/i.test(raw) || Number.isNaN(ms))
    throw new ConfigError(`${name} must be an RFC 3339 instant such as 2020-01-01T00:00:00Z, got "${raw}"`);
  return ms;
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

export const MIGRATE_USAGE = "usage: migrate-sqlite-to-postgres --from <sqlite file, or sqlite:<path>> --to postgres://user:pass@host:port/db";

/**
 * The source file and the target URL. `--from` takes a SQLite URL (`sqlite:data/ledger.db`) or,
 * as every other command does, a plain path (`data/ledger.db`); it must name an existing file.
 */
/** migrate-sqlite-to-postgres's `--from` and `--to`. */
export function migrationEndpoints(from: string | undefined, to: string | undefined): { sqlitePath: string; postgresUrl: string } {
  if (!from || !to) throw new Error(MIGRATE_USAGE);
  if (/^postgres(ql)?:/i.test(from)) throw new Error("--from is the SQLite ledger to copy (a file path or sqlite:<path>); --to is the postgres:// URL");
  const source = /^sqlite:/i.test(from) ? parseDatabaseUrl(from) : { kind: "sqlite" as const, path: from };
  if (source.kind !== "sqlite" || source.path === ":memory:") throw new Error("--from must name a SQLite file: a path, or sqlite:<path>");
  if (!existsSync(source.path) || !statSync(source.path).isFile()) throw new Error(`--from: there is no SQLite file at ${source.path}`);
  if (!/^postgres(ql)?:/i.test(to)) throw new Error("--to must be a postgres:// URL (postgres://user:pass@host:port/db)");
  const target = parseDatabaseUrl(to);
  if (target.kind !== "postgres") throw new Error("--to must be a postgres:// URL");
  return { sqlitePath: source.path, postgresUrl: target.url };
}
