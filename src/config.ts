// Environment -> a typed, validated Config (the settings of docs/operations.md); any bad setting fails fast in one line.
// Each group of settings is read in its own file under config/; this one puts them together.
import { hostname } from "node:os";
import { DEFAULT_MAX_EXTENSION_DAYS } from "./domain/decide.js";
import { DATA_REQUEST_KINDS } from "./domain/events.js";
import { DEFAULT_ADEQUATE_COUNTRIES } from "./domain/transfer.js";
import { authMode, authSettings, isProduction } from "./config/auth-settings.js";
import { parseDatabaseUrl, withPostgresBatches, withSqliteWriter } from "./config/database-settings.js";
import { limitsSettings } from "./config/limits-settings.js";
import { ConfigError, boolSetting, countryListSetting, instantSetting, intSetting, policyIdSetting, reader } from "./config/settings.js";
import type { Config } from "./config/types.js";
import { parseCorsOrigins, webhookSettings } from "./config/web-settings.js";
import { trustedDocumentsSettings } from "./config/trusted-documents-settings.js";
import { workersSetting } from "./config/workers-setting.js";

export type { Config } from "./config/types.js";
export { ConfigError } from "./config/settings.js";
export { DEV_AUDIENCE, DEV_ISSUER, isLoopbackHost, isProduction, parseAlgorithms } from "./config/auth-settings.js";
export { MIGRATE_USAGE, migrationEndpoints, parseDatabaseUrl } from "./config/database-settings.js";
export { DEFAULT_WEBHOOK_RETRY_DELAYS_MS, parseCorsOrigins } from "./config/web-settings.js";

const LOG_LEVELS = new Set(["fatal", "error", "warn", "info", "debug", "trace", "silent"]);

/** The policy id of the catalogue shipped in data/policies. */
export const SHIPPED_POLICY_ID = "clavis-privacy";

/** Reads and validates the settings; throws ConfigError naming the variable at fault. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const get = reader(env);
  const nodeEnv = get("NODE_ENV");
  const production = isProduction(nodeEnv);
  const host = get("HOST") ?? "127.0.0.1";
  // Decided first: a dev server must refuse to start before anything else is read.
  const auth = authMode(get, production, nodeEnv, host);
  const database = withPostgresBatches(withSqliteWriter(parseDatabaseUrl(get("DATABASE_URL") ?? "sqlite:data/ledger.db"), get("SQLITE_WRITER")), get("POSTGRES_BATCHES"));

  return {
    port: intSetting(get, "PORT", 4000, 0, 65_535),
    host,
    database,
    workers: workersSetting(get("WORKERS"), database),
    dataDir: get("DATA_DIR") ?? "data",
    catalogDir: get("CATALOG_DIR") ?? "data/policies",
    auth: authSettings(get, auth),
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
    limits: limitsSettings(get),
    metricsOperationNames: intSetting(get, "METRICS_OPERATION_NAMES", 100, 0, 10_000),
    compiledReads: boolSetting(get, "GRAPHQL_JIT", true),
    trustedDocuments: trustedDocumentsSettings(get),
    viewCacheMb: intSetting(get, "VIEW_CACHE_MB", 64, 0, 65_536),
    viewCacheMaxLagMs: intSetting(get, "VIEW_CACHE_MAX_LAG_MS", 0, 0, 60_000),
    visitorSessions: {
      enabled: boolSetting(get, "VISITOR_SESSIONS", true),
      ttlSeconds: intSetting(get, "VISITOR_SESSION_TTL_SECONDS", 30 * 86_400, 60, 400 * 86_400),
      perAddressPerMinute: intSetting(get, "VISITOR_SESSIONS_PER_MINUTE", 30, 1, 1_000_000),
    },
    webhooks: webhookSettings(get, production),
  };
}

function evidenceKekFile(file: string | null, production: boolean, nodeEnv: string | undefined): string | null {
  // A key generated beside the database would travel with every copy of the data folder.
  if (production && file === null)
    throw new ConfigError(`refusing to start: NODE_ENV=${nodeEnv} needs EVIDENCE_KEK_FILE, a key file kept apart from the data folder (generated there on first start if missing)`);
  return file;
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
