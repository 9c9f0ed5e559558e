// The typed settings the service runs with (the settings of docs/operations.md), as loadConfig returns them.
import type { DataRequestKind } from "../domain/events.js";

export interface Config {
  port: number;
  host: string;
  /** For SQLite, `writer` says where writes run (SQLITE_WRITER; the adapter's default when absent). */
  database: { kind: "sqlite"; path: string; writer?: "thread" | "in-process" } | { kind: "postgres"; url: string; batches?: "set-based" | "savepoints" };
  /** WORKERS: request-serving processes on the one port (1: this process serves; docs/workers.md). */
  workers: number;
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
  /**
   * Trusted documents (TRUSTED_DOCUMENTS, TRUSTED_DOCUMENTS_ONLY): an operator's map of sha256 hash to
   * document, added to the pages' and the client library's own; whether every other document is refused;
   * and whether POST /graphql answers trusted documents and known texts without Apollo (HTTP_FAST_PATH).
   */
  trustedDocuments: { file: string | null; only: boolean; fastPath: boolean };
  /** VIEW_CACHE_MB: the megabytes the in-memory view of subjects (permission reads; on PostgreSQL with viewCacheMaxLagMs) may hold; 0: none. */
  viewCacheMb: number;
  /**
   * VIEW_CACHE_MAX_LAG_MS (PostgreSQL): the view is kept on a replica, and answers reads, only while
   * its change feed has read the log to its end within this many ms; 0 (the default): no view there.
   */
  viewCacheMaxLagMs: number;
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
