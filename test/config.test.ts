// loadConfig: defaults, validation, and the production refusals.
import { DEFAULT_ADEQUATE_COUNTRIES } from "../src/domain/transfer.js";
import { hostname } from "node:os";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../src/config.js";

const jwks = { AUTH_JWKS_FILE: "/etc/jwks.json", AUTH_ISSUER: "https://idp", AUTH_AUDIENCE: "ledger" };

function configError(env: NodeJS.ProcessEnv): ConfigError {
  try {
    loadConfig(env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as Error).message).not.toContain("\n");
    return e as ConfigError;
  }
  throw new Error("expected a ConfigError");
}

describe("loadConfig", () => {
  it("finding 6: DEFAULT_POLICY_ID names a policy id, the shipped catalogue's by default", () => {
    expect(loadConfig({ DEFAULT_POLICY_ID: "partner-programme" }).defaultPolicyId).toBe("partner-programme");
    expect(loadConfig({ DEFAULT_POLICY_ID: "" }).defaultPolicyId).toBe("clavis-privacy");
    expect(() => loadConfig({ DEFAULT_POLICY_ID: "no spaces" })).toThrow(/^DEFAULT_POLICY_ID must be a policy id/);
  });

  it("TRUSTED_DOCUMENTS names a file; TRUSTED_DOCUMENTS_ONLY and HTTP_FAST_PATH are true or false", () => {
    expect(loadConfig({ TRUSTED_DOCUMENTS: "/etc/ledger/persisted-documents.json", TRUSTED_DOCUMENTS_ONLY: "true", HTTP_FAST_PATH: "false" }).trustedDocuments).toEqual({
      file: "/etc/ledger/persisted-documents.json",
      only: true,
      fastPath: false,
    });
    expect(() => loadConfig({ TRUSTED_DOCUMENTS_ONLY: "yes" })).toThrow(/^TRUSTED_DOCUMENTS_ONLY must be true or false/);
  });

  it("has the contract's defaults with an empty environment", () => {
    const c = loadConfig({});
    expect(c).toEqual({
      port: 4000,
      host: "127.0.0.1",
      database: { kind: "sqlite", path: "data/ledger.db" },
      workers: 1,
      dataDir: "data",
      catalogDir: "data/policies",
      auth: {
        mode: "dev",
        jwksUrl: null,
        jwksFile: null,
        issuer: "consent-ledger-dev",
        audience: "consent-ledger",
        algorithms: ["RS256", "ES256", "EdDSA"],
        clockToleranceSeconds: 30,
        jwksMaxAgeSeconds: 300,
        maxTokenAgeSeconds: 86_400,
        modeReason: "no JWKS is configured and HOST=127.0.0.1 is loopback",
      },
      corsOrigins: [],
      webDir: "dist/web",
      receiptKeyFile: null,
      checkpointKeyFile: null,
      ledgerOrigin: `consent-ledger.local/${hostname()}`,
      checkpointIntervalMs: 500,
      evidenceKekFile: null,
      dataRequestDueDays: 14,
      maxOpenDataRequests: 5,
      allowIdentifyingSubjectIds: false,
      defaultPolicyId: "clavis-privacy",
      occurredAtFloor: null,
      dataRequestDueDaysByKind: {},
      dataRequestMaxExtensionDays: 60,
      adequateCountries: DEFAULT_ADEQUATE_COUNTRIES,
      production: false,
      logLevel: "info",
      limits: {
        bodyBytes: 1_000_000,
        maxTokens: 10_000,
        maxDepth: 12,
        maxCost: 5000,
        maxSubscriptionsPerConnection: 100,
        maxSubscriptionsPerCaller: 500,
        maxConnectionsPerCaller: 20,
        maxWholeLogPerCaller: 1,
        subscriberQueue: 1_000,
        maxReplaysPerCaller: 2,
        maxResponseBytes: 16_777_216,
        subscriberBytes: 8_388_608,
        maxExportsPerCaller: 1,
        maxWritesPerSubjectPerMinute: 600,
      },
      metricsOperationNames: 100,
      trustedDocuments: { file: null, only: false, fastPath: true },
      compiledReads: true,
      viewCacheMb: 64,
      viewCacheMaxLagMs: 0,
      visitorSessions: { enabled: true, ttlSeconds: 30 * 86_400, perAddressPerMinute: 30 },
      webhooks: {
        allowHttp: false,
        allowPrivate: false,
        retryDelaysMs: [5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000],
        timeoutMs: 10_000,
        concurrencyPerReceiver: 16,
        leaseMs: 30_000,
        flushMs: 50,
        deliveryThread: true,
      },
    });
  });

  it("reads every setting", () => {
    const c = loadConfig({
      ...jwks,
      PORT: "0",
      HOST: "0.0.0.0",
      DATABASE_URL: "sqlite:/var/lib/ledger.db",
      DATA_DIR: "/var/lib/ledger",
      CATALOG_DIR: "/etc/policies",
      AUTH_ALGORITHMS: "ES256, EdDSA",
      AUTH_CLOCK_TOLERANCE_SECONDS: "5",
      RECEIPT_KEY_FILE: "/etc/receipt.jwk",
      DATA_REQUEST_DUE_DAYS: "30",
      MAX_OPEN_DATA_REQUESTS: "2",
      EVIDENCE_KEK_FILE: "/run/secrets/evidence.kek",
      ALLOW_IDENTIFYING_SUBJECT_IDS: "true",
      OCCURRED_AT_FLOOR: "2020-01-01T00:00:00Z",
      AUTH_MAX_TOKEN_AGE_SECONDS: "3600",
      DATA_REQUEST_DUE_DAYS_DELETION: "7",
      NODE_ENV: "production",
      LOG_LEVEL: "warn",
      BODY_LIMIT_BYTES: "2048",
      MAX_QUERY_DEPTH: "8",
      MAX_QUERY_COST: "100",
      MAX_SUBSCRIPTIONS_PER_CONNECTION: "3",
      SUBSCRIBER_QUEUE_LIMIT: "50",
      AUTH_JWKS_MAX_AGE_SECONDS: "60",
      CORS_ORIGINS: "https://www.example.jp, http://localhost:5173",
      WEB_DIR: "/srv/web",
      MAX_QUERY_TOKENS: "2000",
      MAX_SUBSCRIPTIONS_PER_CALLER: "7",
      MAX_CONNECTIONS_PER_CALLER: "4",
      MAX_WHOLE_LOG_READS_PER_CALLER: "2",
      MAX_REPLAYS_PER_CALLER: "3",
      MAX_RESPONSE_BYTES: "100000",
      MAX_SUBSCRIBER_BYTES: "200000",
      MAX_EXPORTS_PER_CALLER: "2",
      MAX_WRITES_PER_SUBJECT_PER_MINUTE: "0",
      METRICS_OPERATION_NAMES: "10",
      GRAPHQL_JIT: "false",
      VISITOR_SESSIONS: "false",
      VISITOR_SESSION_TTL_SECONDS: "3600",
      VISITOR_SESSIONS_PER_MINUTE: "5",
    });
    expect(c.port).toBe(0);
    expect(c.host).toBe("0.0.0.0");
    expect(c.database).toEqual({ kind: "sqlite", path: "/var/lib/ledger.db" });
    expect(c.dataDir).toBe("/var/lib/ledger");
    expect(c.catalogDir).toBe("/etc/policies");
    expect(c.auth).toEqual({
      mode: "jwks",
      jwksUrl: null,
      jwksFile: "/etc/jwks.json",
      issuer: "https://idp",
      audience: "ledger",
      algorithms: ["ES256", "EdDSA"],
      clockToleranceSeconds: 5,
      jwksMaxAgeSeconds: 60,
      maxTokenAgeSeconds: 3600,
      modeReason: "AUTH_JWKS_FILE is set",
    });
    expect(c.corsOrigins).toEqual(["https://www.example.jp", "http://localhost:5173"]);
    expect(c.webDir).toBe("/srv/web");
    expect(c.maxOpenDataRequests).toBe(2);
    expect(c.evidenceKekFile).toBe("/run/secrets/evidence.kek");
    expect(c.allowIdentifyingSubjectIds).toBe(true);
    expect(c.occurredAtFloor).toBe(Date.UTC(2020, 0, 1));
    expect(c.receiptKeyFile).toBe("/etc/receipt.jwk");
    expect(c.dataRequestDueDays).toBe(30);
    expect(c.dataRequestDueDaysByKind).toEqual({ DELETION: 7 });
    expect(c.production).toBe(true);
    expect(c.logLevel).toBe("warn");
    expect(c.limits).toEqual({
      bodyBytes: 2048,
      maxTokens: 2000,
      maxDepth: 8,
      maxCost: 100,
      maxSubscriptionsPerConnection: 3,
      maxSubscriptionsPerCaller: 7,
      maxConnectionsPerCaller: 4,
      maxWholeLogPerCaller: 2,
      subscriberQueue: 50,
      maxReplaysPerCaller: 3,
      maxResponseBytes: 100_000,
      subscriberBytes: 200_000,
      maxExportsPerCaller: 2,
      maxWritesPerSubjectPerMinute: 0,
    });
    expect(c.metricsOperationNames).toBe(10);
    expect(c.compiledReads).toBe(false);
    expect(c.visitorSessions).toEqual({ enabled: false, ttlSeconds: 3600, perAddressPerMinute: 5 });
  });

  it("reads ADEQUATE_COUNTRIES as comma-separated country codes and DATA_REQUEST_MAX_EXTENSION_DAYS as whole days", () => {
    expect(loadConfig({ ADEQUATE_COUNTRIES: "gb, ch ,SG" }).adequateCountries).toEqual(["GB", "CH", "SG"]);
    expect(loadConfig({ ADEQUATE_COUNTRIES: "," }).adequateCountries).toEqual([]);
    expect(() => loadConfig({ ADEQUATE_COUNTRIES: "GB,United Kingdom" })).toThrow('ADEQUATE_COUNTRIES must list ISO 3166-1 alpha-2 country codes separated by commas, got "UNITED KINGDOM"');
    expect(loadConfig({ DATA_REQUEST_MAX_EXTENSION_DAYS: "0" }).dataRequestMaxExtensionDays).toBe(0);
    expect(loadConfig({ DATA_REQUEST_MAX_EXTENSION_DAYS: "90" }).dataRequestMaxExtensionDays).toBe(90);
    expect(() => loadConfig({ DATA_REQUEST_MAX_EXTENSION_DAYS: "-1" })).toThrow("DATA_REQUEST_MAX_EXTENSION_DAYS must be an integer from 0 to 3650");
  });

  it("treats empty variables as unset", () => {
    expect(loadConfig({ PORT: "", AUTH_JWKS_URL: "" }).port).toBe(4000);
    expect(loadConfig({ AUTH_JWKS_URL: " " }).auth.mode).toBe("dev");
  });

  describe("CORS_ORIGINS", () => {
    it("is none by default, * alone means any origin, and a trailing slash is forgiven", () => {
      expect(loadConfig({}).corsOrigins).toEqual([]);
      expect(loadConfig({ CORS_ORIGINS: "*" }).corsOrigins).toBe("*");
      expect(loadConfig({ CORS_ORIGINS: "https://a.example.jp/" }).corsOrigins).toEqual(["https://a.example.jp"]);
    });
    it("refuses what a browser would never send as an Origin", () => {
      expect(configError({ CORS_ORIGINS: "www.example.jp" }).message).toMatch(/CORS_ORIGINS: "www.example.jp" is not an origin/);
      expect(configError({ CORS_ORIGINS: "https://a.example.jp/app" }).message).toMatch(/not a bare origin/);
      expect(configError({ CORS_ORIGINS: "*, https://a.example.jp" }).message).toMatch(/CORS_ORIGINS/);
    });
  });

  describe("DATABASE_URL", () => {
    it("maps sqlite::memory: to :memory:", () => {
      expect(loadConfig({ DATABASE_URL: "sqlite::memory:" }).database).toEqual({ kind: "sqlite", path: ":memory:" });
    });
    it("SQLITE_WRITER picks where a SQLite file's writes run, and is refused with another value or database", () => {
      expect(loadConfig({ DATABASE_URL: "sqlite:x.db", SQLITE_WRITER: "in-process" }).database).toEqual({ kind: "sqlite", path: "x.db", writer: "in-process" });
      expect(loadConfig({ DATABASE_URL: "sqlite:x.db", SQLITE_WRITER: "thread" }).database).toEqual({ kind: "sqlite", path: "x.db", writer: "thread" });
      expect(configError({ SQLITE_WRITER: "worker" }).message).toMatch(/^SQLITE_WRITER must be "thread" or "in-process"/);
      expect(configError({ DATABASE_URL: "postgres://u:p@h:5432/db", SQLITE_WRITER: "thread" }).message).toMatch(/^SQLITE_WRITER applies to a sqlite:/);
    });
    it("POSTGRES_BATCHES picks how a PostgreSQL group commit runs its commands, and is refused with another value or database", () => {
      expect(loadConfig({ DATABASE_URL: "postgres://u:p@h:5432/db", POSTGRES_BATCHES: "savepoints" }).database).toEqual({ kind: "postgres", url: "postgres://u:p@h:5432/db", batches: "savepoints" });
      expect(loadConfig({ DATABASE_URL: "postgres://u:p@h:5432/db", POSTGRES_BATCHES: "set-based" }).database).toEqual({ kind: "postgres", url: "postgres://u:p@h:5432/db", batches: "set-based" });
      expect(configError({ DATABASE_URL: "postgres://u:p@h:5432/db", POSTGRES_BATCHES: "lockstep" }).message).toMatch(/^POSTGRES_BATCHES must be "set-based" or "savepoints"/);
      expect(configError({ DATABASE_URL: "sqlite:x.db", POSTGRES_BATCHES: "set-based" }).message).toMatch(/^POSTGRES_BATCHES applies to a postgres:/);
    });
    it("accepts sqlite:///absolute paths", () => {
      expect(loadConfig({ DATABASE_URL: "sqlite:///app/data/x.db" }).database).toEqual({ kind: "sqlite", path: "/app/data/x.db" });
    });
    it("takes postgres:// and postgresql:// URLs, and refuses one without a host or a database in one line", () => {
      expect(loadConfig({ DATABASE_URL: "postgres://u:p@h:5432/db" }).database).toEqual({ kind: "postgres", url: "postgres://u:p@h:5432/db" });
      expect(loadConfig({ DATABASE_URL: "postgresql://u@h/db" }).database).toEqual({ kind: "postgres", url: "postgresql://u@h/db" });
      expect(configError({ DATABASE_URL: "postgres://u@h/" }).message).toMatch(/^DATABASE_URL names no PostgreSQL database/);
      expect(configError({ DATABASE_URL: "postgres:///db" }).message).toMatch(/^DATABASE_URL names no PostgreSQL host/);
    });
    it("refuses other schemes and an empty path", () => {
      expect(configError({ DATABASE_URL: "mysql://x" }).message).toMatch(/DATABASE_URL/);
      expect(configError({ DATABASE_URL: "sqlite:" }).message).toMatch(/DATABASE_URL/);
    });
  });

  describe("auth mode", () => {
    it("is jwks when a JWKS URL or file is set", () => {
      const c = loadConfig({ AUTH_JWKS_URL: "https://idp/jwks", AUTH_ISSUER: "i", AUTH_AUDIENCE: "a" });
      expect(c.auth.mode).toBe("jwks");
      expect(c.auth.jwksUrl).toBe("https://idp/jwks");
    });
    it("requires issuer and audience with a JWKS", () => {
      expect(configError({ AUTH_JWKS_FILE: "/x", AUTH_AUDIENCE: "a" }).message).toMatch(/AUTH_ISSUER/);
      expect(configError({ AUTH_JWKS_FILE: "/x", AUTH_ISSUER: "i" }).message).toMatch(/AUTH_AUDIENCE/);
    });
    it("requires a JWKS when AUTH_MODE=jwks", () => {
      expect(configError({ AUTH_MODE: "jwks", AUTH_ISSUER: "i", AUTH_AUDIENCE: "a" }).message).toMatch(/AUTH_JWKS_URL/);
    });
    it("refuses both a JWKS URL and a file", () => {
      expect(configError({ ...jwks, AUTH_JWKS_URL: "https://idp/jwks" }).message).toMatch(/not both/);
    });
    it("refuses an unknown AUTH_MODE", () => {
      expect(configError({ AUTH_MODE: "none" }).message).toMatch(/AUTH_MODE/);
    });
    it("refuses a JWKS URL that is not http(s), and plain http to another host in production", () => {
      expect(configError({ ...jwks, AUTH_JWKS_FILE: "", AUTH_JWKS_URL: "file:///etc/jwks" }).message).toMatch(/AUTH_JWKS_URL/);
      expect(
        configError({ ...jwks, AUTH_JWKS_FILE: "", AUTH_JWKS_URL: "http://idp.example/jwks", NODE_ENV: "production" }).message,
      ).toMatch(/https/);
      expect(loadConfig({ ...jwks, AUTH_JWKS_FILE: "", AUTH_JWKS_URL: "http://127.0.0.1:9/jwks", NODE_ENV: "production", EVIDENCE_KEK_FILE: "/k" }).auth.jwksUrl).toBe(
        "http://127.0.0.1:9/jwks",
      );
    });
    it("lets dev mode override the dev issuer and audience", () => {
      const c = loadConfig({ AUTH_ISSUER: "me", AUTH_AUDIENCE: "you" });
      expect(c.auth).toMatchObject({ mode: "dev", issuer: "me", audience: "you" });
    });
  });

  describe("production", () => {
    it("refuses to start without a JWKS, in one line", () => {
      const e = configError({ NODE_ENV: "production" });
      expect(e.message).toMatch(/^refusing to start: NODE_ENV=production needs AUTH_JWKS_URL or AUTH_JWKS_FILE/);
    });
    it("refuses AUTH_MODE=dev", () => {
      expect(configError({ NODE_ENV: "production", AUTH_MODE: "dev", ...jwks }).message).toMatch(/AUTH_MODE=dev/);
    });
  });

  describe("finding 9: dev mode only when asked for or on a loopback host", () => {
    it.each(["127.0.0.1", "localhost", "::1", "[::1]", "127.0.1.1"])("starts dev mode by itself on HOST=%s and says why", (host) => {
      const c = loadConfig({ HOST: host });
      expect(c.auth.mode).toBe("dev");
      expect(c.auth.modeReason).toContain("loopback");
    });
    it.each(["0.0.0.0", "::", "192.168.1.10", "ledger.example.com"])("refuses dev mode by itself on HOST=%s, in one line", (host) => {
      const e = configError({ HOST: host });
      expect(e.message).toMatch(/^refusing to start: .*not loopback.*AUTH_MODE=dev/);
    });
    it("runs dev mode on a public host only when AUTH_MODE=dev asks for it", () => {
      const c = loadConfig({ HOST: "0.0.0.0", AUTH_MODE: "dev" });
      expect(c.auth).toMatchObject({ mode: "dev", modeReason: "AUTH_MODE=dev" });
    });
    it.each(["Production", "PRODUCTION", "prod", "Prod", " production "])("treats NODE_ENV=%s as production: no dev mode", (env) => {
      expect(loadConfig({ ...jwks, EVIDENCE_KEK_FILE: "/k", NODE_ENV: env }).production).toBe(true);
      expect(configError({ NODE_ENV: env }).message).toMatch(/^refusing to start: NODE_ENV=\S+ needs AUTH_JWKS_URL/);
      expect(configError({ NODE_ENV: env, AUTH_MODE: "dev", HOST: "0.0.0.0" }).message).toMatch(/AUTH_MODE=dev is not allowed/);
    });
    it("says which key source jwks mode uses", () => {
      expect(loadConfig({ ...jwks, HOST: "0.0.0.0" }).auth).toMatchObject({ mode: "jwks", modeReason: "AUTH_JWKS_FILE is set" });
    });
  });

  describe("the settings of issue 14", () => {
    it("finding 5: production needs EVIDENCE_KEK_FILE, named in one line", () => {
      expect(configError({ ...jwks, NODE_ENV: "production" }).message).toMatch(/^refusing to start: NODE_ENV=production needs EVIDENCE_KEK_FILE/);
      expect(loadConfig({ ...jwks, NODE_ENV: "production", EVIDENCE_KEK_FILE: "/k" }).evidenceKekFile).toBe("/k");
    });
    it("bounds AUTH_MAX_TOKEN_AGE_SECONDS and MAX_OPEN_DATA_REQUESTS", () => {
      expect(configError({ AUTH_MAX_TOKEN_AGE_SECONDS: "0" }).message).toContain("AUTH_MAX_TOKEN_AGE_SECONDS");
      expect(configError({ MAX_OPEN_DATA_REQUESTS: "0" }).message).toContain("MAX_OPEN_DATA_REQUESTS");
    });
    it("reads ALLOW_IDENTIFYING_SUBJECT_IDS as true or false only", () => {
      expect(loadConfig({ ALLOW_IDENTIFYING_SUBJECT_IDS: "false" }).allowIdentifyingSubjectIds).toBe(false);
      expect(configError({ ALLOW_IDENTIFYING_SUBJECT_IDS: "yes" }).message).toContain("ALLOW_IDENTIFYING_SUBJECT_IDS");
    });
    it("reads OCCURRED_AT_FLOOR as an RFC 3339 instant with a zone", () => {
      expect(loadConfig({ OCCURRED_AT_FLOOR: "2019-04-01T09:00:00+09:00" }).occurredAtFloor).toBe(Date.UTC(2019, 3, 1));
      for (const bad of ["2019-04-01", "yesterday", "2019-13-01T00:00:00Z"]) expect(configError({ OCCURRED_AT_FLOOR: bad }).message).toContain("OCCURRED_AT_FLOOR");
    });
  });

  describe("AUTH_ALGORITHMS", () => {
    it.each(["none", "NONE", "HS256", "RS256,HS512", "hs384"])("refuses %s", (algs) => {
      expect(configError({ AUTH_ALGORITHMS: algs }).message).toMatch(/AUTH_ALGORITHMS/);
    });
    it("refuses unknown and empty lists", () => {
      expect(configError({ AUTH_ALGORITHMS: "RS257" }).message).toMatch(/unknown algorithm/);
      expect(configError({ AUTH_ALGORITHMS: " , " }).message).toMatch(/AUTH_ALGORITHMS/);
    });
  });

  describe("numbers", () => {
    it.each([
      ["PORT", "abc"],
      ["PORT", "-1"],
      ["PORT", "65536"],
      ["PORT", "80.5"],
      ["PORT", "1e3"],
      ["DATA_REQUEST_DUE_DAYS", "0"],
      ["DATA_REQUEST_DUE_DAYS", "seven"],
      ["AUTH_CLOCK_TOLERANCE_SECONDS", "-5"],
      ["BODY_LIMIT_BYTES", "0"],
      ["MAX_QUERY_DEPTH", "x"],
      ["MAX_QUERY_COST", "0"],
      ["MAX_SUBSCRIPTIONS_PER_CONNECTION", "1.5"],
    ])("refuses %s=%s, naming the variable", (name, value) => {
      expect(configError({ [name]: value }).message).toContain(name);
    });
  });

  it("reads the transparency log's settings, and refuses an origin that cannot name a signed-note key", () => {
    const c = loadConfig({ CHECKPOINT_KEY_FILE: "/etc/checkpoint.jwk", LEDGER_ORIGIN: "ledger.example.com/prod", CHECKPOINT_INTERVAL_MS: "250" });
    expect(c).toMatchObject({ checkpointKeyFile: "/etc/checkpoint.jwk", ledgerOrigin: "ledger.example.com/prod", checkpointIntervalMs: 250 });
    expect(configError({ LEDGER_ORIGIN: "ledger example" }).message).toContain("LEDGER_ORIGIN");
    expect(configError({ LEDGER_ORIGIN: "ledger+prod" }).message).toContain("LEDGER_ORIGIN");
    expect(configError({ CHECKPOINT_INTERVAL_MS: "0" }).message).toContain("CHECKPOINT_INTERVAL_MS");
    expect(configError({ CHECKPOINT_INTERVAL_MS: "1000" }).message).toContain("CHECKPOINT_INTERVAL_MS");
  });

  it("refuses an unknown LOG_LEVEL", () => {
    expect(configError({ LOG_LEVEL: "verbose" }).message).toMatch(/LOG_LEVEL/);
  });

  it("keeps ConfigError messages on one line", () => {
    expect(new ConfigError("a\nb").message).toBe("a b");
  });
});

describe("VIEW_CACHE_MB", () => {
  it("defaults to 64 megabytes, takes 0 (no view in memory), and refuses anything but a whole number in range", () => {
    expect(loadConfig({}).viewCacheMb).toBe(64);
    expect(loadConfig({ VIEW_CACHE_MB: "0" }).viewCacheMb).toBe(0);
    expect(loadConfig({ VIEW_CACHE_MB: "512" }).viewCacheMb).toBe(512);
    for (const bad of ["-1", "1.5", "64MB", "65537"]) expect(() => loadConfig({ VIEW_CACHE_MB: bad })).toThrow(`VIEW_CACHE_MB must be an integer from 0 to 65536, got "${bad}"`);
  });
});

describe("VIEW_CACHE_MAX_LAG_MS", () => {
  it("defaults to 0 (no view on PostgreSQL), takes a bound in ms, and refuses anything but a whole number in range", () => {
    expect(loadConfig({}).viewCacheMaxLagMs).toBe(0);
    expect(loadConfig({ VIEW_CACHE_MAX_LAG_MS: "2000" }).viewCacheMaxLagMs).toBe(2000);
    for (const bad of ["-1", "2s", "1.5", "60001"])
      expect(() => loadConfig({ VIEW_CACHE_MAX_LAG_MS: bad })).toThrow(`VIEW_CACHE_MAX_LAG_MS must be an integer from 0 to 60000, got "${bad}"`);
  });
});

describe("the request limits' settings", () => {
  it("refuses a GRAPHQL_JIT that is not true or false, and limits out of range", () => {
    expect(() => loadConfig({ GRAPHQL_JIT: "yes" })).toThrow(/GRAPHQL_JIT must be true or false/);
    expect(() => loadConfig({ MAX_QUERY_TOKENS: "10" })).toThrow(/MAX_QUERY_TOKENS must be an integer from 100/);
    expect(() => loadConfig({ MAX_CONNECTIONS_PER_CALLER: "0" })).toThrow(/MAX_CONNECTIONS_PER_CALLER/);
  });
});
