// Composition root: config -> storage adapter -> ledger -> server. main.ts runs it; tests start it in-process.
import { mkdirSync } from "node:fs";
import { unlink } from "node:fs/promises";
import { dirname } from "node:path";
import { destination as pinoDestination, pino, type Logger, type DestinationStream } from "pino";
import { createTokenVerifier } from "./auth/token-verifier.js";
import { VisitorSessions, withVisitorSessions } from "./auth/visitor-sessions.js";
import { catalogTexts, checkProductionController, publishCatalogDir } from "./catalog-dir.js";
import { secureDataDir } from "./data-dir.js";
import type { Config } from "./config.js";
import type { Services } from "./graphql/context.js";
import { buildLedgerSchema } from "./graphql/schema.js";
import { Metrics } from "./http/metrics.js";
import { type RunningServer, startHttpServer } from "./http/server.js";
import { webSocketTransport } from "./http/ws.js";
import { devKekPath, loadOrCreateKek } from "./keys/evidence-kek.js";
import { KekMismatchError } from "./evidence/key-wrap.js";
import type { StoragePort } from "./storage/storage-port.js";
import { Ledger } from "./ledger.js";
import { checkpointMirrors } from "./log/checkpoint/latest-file.js";
import { TransparencyLog } from "./log/transparency-log.js";
import { type SqliteWrites, openStorage, sqliteWriterOf } from "./open-storage.js";
import { loadCheckpointKey } from "./receipts/checkpoint-key.js";
import { ReceiptSigner } from "./receipts/signer.js";
import { AppliedPosition } from "./feed/applied-position.js";
import { ChangeFeed } from "./feed/change-feed.js";
import { DueChangesScheduler } from "./schedule/due-changes.js";
import { Dispatcher } from "./webhooks/dispatcher.js";
import { Webhooks } from "./webhooks/webhooks.js";
import { startWorkers } from "./workers/primary.js";
import { type SharedLimits, localLimits } from "./limits/shared-limits.js";

/** Events the tree may lag the log by at start and still be built before the service listens. */
const SMALL_TREE_BACKLOG = 20_000;

export interface App {
  url: string;
  port: number;
  services: Services;
  server: RunningServer;
  metrics: Metrics;
  /** With WORKERS > 1: the process ids of the worker processes serving now. */
  workerPids?: () => number[];
  /** With WORKERS > 1 and a test's clock: resolves once every worker follows the clock's last move. */
  clockSynced?: () => Promise<void>;
  /** Graceful stop: drain requests and subscriptions, then close the store cleanly. */
  close(): Promise<void>;
}

/** What a worker process (WORKERS > 1, src/workers/) starts the service with: the primary keeps the writer and the jobs that run once. */
export interface WorkerRole {
  /** SQLite: the primary's writer, over the IPC channel; null on PostgreSQL (each worker writes itself). */
  sqliteWrites: SqliteWrites | null;
  /** The primary's webhook dispatcher, told of webhooks added and deleted here. */
  dispatcher: Pick<Dispatcher, "refresh" | "forget">;
  /** /metrics: every process's registry, aggregated by the primary. */
  metricsText: () => Promise<string>;
  /** The per-caller and per-subject limits, counted by the primary for the whole service. */
  limits: SharedLimits;
}

/**
 * The service's logger: one JSON object per line on stdout. Lines are written synchronously, so
 * nothing is left to flush at exit: pino's asynchronous stdout flushes at exit with a loop that
 * never ends once the reader of the pipe is gone (EPIPE). A reader that goes away only silences
 * the log (pino drops writes after EPIPE).
 */
export function createLogger(level: string, destination: DestinationStream = pinoDestination({ dest: 1, sync: true })): Logger {
  return pino(
    {
      level,
      base: { service: "consent-ledger" },
      redact: { paths: ["authorization", "*.authorization", "req.headers.authorization", "headers.authorization"], censor: "[redacted]" },
    },
    destination,
  );
}

export async function startApp(
  config: Config,
  // `clock` replaces the real time (tests); `clockMoved` tells the due-changes scheduler when such a clock moves.
  opts: { logger?: Logger; clock?: () => number; clockMoved?: (listener: () => void) => () => void; worker?: WorkerRole } = {},
): Promise<App> {
  const logger = opts.logger ?? createLogger(config.logLevel);
  const worker = opts.worker ?? null;
  secureDataDir(config.dataDir, logger);
  if (config.database.kind === "sqlite" && config.database.path !== ":memory:") mkdirSync(dirname(config.database.path), { recursive: true, mode: 0o700 });
  const kekPath = config.evidenceKekFile ?? devKekPath(config.dataDir);
  const kek = await loadOrCreateKek(kekPath);
  let storage: StoragePort;
  try {
    storage = await openStorage(config.database, { evidenceKek: kek.key, viewCacheBytes: config.viewCacheMb * 1_048_576, viewMaxLagMs: config.viewCacheMaxLagMs, ...(worker?.sqliteWrites ? { sqliteWrites: worker.sqliteWrites } : {}) });
  } catch (e) {
    // A key generated just now for a database sealed under another one is of no use to anyone.
    if (kek.created) await unlink(kekPath).catch(() => undefined);
    if (e instanceof KekMismatchError && kek.created)
      throw new Error(`EVIDENCE_KEK_FILE ${kekPath} does not exist, and this database's subject keys are wrapped under a key-encryption key: restore that key file`);
    throw e;
  }
  // Counted here, or with WORKERS > 1 by the primary for every worker (src/workers/limits-host.ts).
  const clock = opts.clock ?? Date.now;
  const ownLimits = worker
    ? null
    : localLimits({ maxWritesPerSubjectPerMinute: config.limits.maxWritesPerSubjectPerMinute, visitorSessionsPerAddressPerMinute: config.visitorSessions.perAddressPerMinute }, clock);
  const limits: SharedLimits = worker?.limits ?? ownLimits!;
  let ledger: Ledger;
  let wrappedAtStart: number;
  try {
    wrappedAtStart = worker ? 0 : await storage.wrapEvidenceKeys();
    ledger = await Ledger.open(storage, {
      dataRequestDueDays: config.dataRequestDueDays,
      dataRequestDueDaysByKind: config.dataRequestDueDaysByKind,
      maxOpenDataRequests: config.maxOpenDataRequests,
      allowIdentifyingSubjectIds: config.allowIdentifyingSubjectIds,
      occurredAtFloor: config.occurredAtFloor,
      defaultPolicyId: config.defaultPolicyId,
      maxExtensionDays: config.dataRequestMaxExtensionDays,
      adequateCountries: config.adequateCountries,
      writeQuota: limits.writeQuota,
      ...(opts.clock ? { clock: opts.clock } : {}),
    });
  } catch (e) {
    await storage.close();
    throw e;
  }
  try {
    const published = worker ? 0 : await publishCatalogDir(ledger, config.catalogDir);
    ledger.addDocumentTexts(catalogTexts(config.catalogDir));
    if (config.production) checkProductionController(ledger.catalog);
    const receipts = await ReceiptSigner.load({ keyFile: config.receiptKeyFile, dataDir: config.dataDir });
    const visitorSessions = config.visitorSessions.enabled
      ? await VisitorSessions.load(config.dataDir, { ttlSeconds: config.visitorSessions.ttlSeconds, ...(opts.clock ? { now: opts.clock } : {}) })
      : null;
    const verifier = withVisitorSessions(await createTokenVerifier(config.auth, config.dataDir), visitorSessions);
    const metrics = new Metrics(config.metricsOperationNames);
    // Counted once, where the writer is: a worker's commits are the primary's too.
    if (!worker)
      ledger.onCommit((events) => {
        for (const e of events) metrics.eventsAppended.inc({ type: e.type });
      });
    const changes = new ChangeFeed(ledger, { logger, maxQueue: config.limits.subscriberQueue, maxReplaysPerCaller: config.limits.maxReplaysPerCaller, slots: limits.slots });
    // The transparency log: the tree is the storage's; checkpoints are signed here, on any replica.
    const tree = ledger.storage.transparency;
    const checkpointKey = await loadCheckpointKey({ keyFile: config.checkpointKeyFile, dataDir: config.dataDir, name: config.ledgerOrigin });
    const transparency = new TransparencyLog(tree, checkpointKey, {
      origin: config.ledgerOrigin,
      intervalMs: config.checkpointIntervalMs,
      ...(opts.clock ? { clock: opts.clock } : {}),
      onError: (e) => logger.error({ err: e }, "publishing a checkpoint failed; retrying at the next interval"),
      mirror: checkpointMirrors(config.dataDir),
      onNotice: (message) => logger.warn(message),
      onResume: () => logger.warn("the transparency log's guard holds again: publishing checkpoints"),
    });
    // A ledger that predates its tree gets it built in chunks while the service runs; a small backlog is waited for.
    const backlog = await tree.backlog();
    const logging = tree
      .catchUp()
      .then(() => transparency.start())
      .catch((e: unknown) => logger.error({ err: e }, `transparency log halted: ${e instanceof Error ? e.message : String(e)}`));
    if (backlog <= SMALL_TREE_BACKLOG) await logging;
    else logger.info({ backlog }, "building the transparency log's tree; proofs answer NOT_YET_LOGGED until it is done");
    const dueChanges = new DueChangesScheduler(ledger, { logger, ...(opts.clockMoved ? { clockMoved: opts.clockMoved } : {}) });
    if (!worker) dueChanges.start();
    // Webhooks follow the log's commits (one reader for all of them) from their stored cursors; their secrets are wrapped under the evidence KEK.
    let webhooks: Webhooks | null = null;
    const dispatcher = new Dispatcher({
      store: ledger.storage.webhooks,
      ledger,
      settings: config.webhooks,
      secretOf: (row) => webhooks!.secretOf(row),
      logger,
      onOutcome: (outcome) => metrics.webhookDeliveries.inc({ outcome }),
      onRead: (read) => metrics.webhookFeedReads.inc({ read }),
    });
    webhooks = new Webhooks(ledger.storage.webhooks, worker?.dispatcher ?? dispatcher, { kek: kek.key, policy: config.webhooks, head: () => ledger.headPosition, now: () => ledger.now() });
    metrics.webhookAges = () => dispatcher.queueAges();
    metrics.viewCache = () => storage.viewCache?.() ?? null;
    if (!worker) await dispatcher.start();
    // Listening last: by the time the applied position moves, the other listeners have taken the commit in.
    const applied = new AppliedPosition(ledger.headPosition, { ...(opts.clock ? { clock: opts.clock } : {}), ...(opts.clockMoved ? { clockMoved: opts.clockMoved } : {}) });
    ledger.onCommit((events) => applied.advance(events.at(-1)?.position ?? 0));
    metrics.applied = () => ({ position: applied.current, waiting: applied.waiting });
    const services: Services = { config, ledger, receipts, logger, changes, transparency, webhooks, applied, limits };
    const attachWebSocket = webSocketTransport({ services });
    let closing: Promise<void> | null = null;
    const closeAll = (server: RunningServer) =>
      (closing ??= (async () => {
        await server.close();
        await dispatcher.close();
        await dueChanges.stop();
        services.changes.close();
        transparency.stop();
        await ledger.close();
        await logging;
      })());
    // With WORKERS > 1 the primary serves no request itself (its workers do), so it builds no schema.
    const serverDeps = async () => ({ services, schema: await buildLedgerSchema(), verifier, metrics, attachWebSocket, visitorSessions, ...(worker ? { metricsText: worker.metricsText } : {}) });
    // A worker serves connections its primary hands over; its own listener is on a loopback port no one is told of.
    const server =
      worker !== null
        ? await startHttpServer(await serverDeps(), { port: 0, host: "127.0.0.1" })
        : config.workers > 1
          ? await startWorkers({ config, logger, writer: sqliteWriterOf(ledger.storage), onCommit: (l) => ledger.storage.onCommit(l), dispatcher, metrics, limits: ownLimits!, ...(opts.clock ? { clock: { now: opts.clock, ...(opts.clockMoved ? { moved: opts.clockMoved } : {}) } } : {}) })
          : await startHttpServer(await serverDeps(), { port: config.port, host: config.host });
    if (worker) return { url: server.url, port: server.port, services, server, metrics, close: () => closeAll(server) };
    const workers = config.workers > 1 ? { workers: config.workers } : {};
    logger.info({ url: server.url, port: server.port, authMode: config.auth.mode, authModeReason: config.auth.modeReason, ...workers }, `listening on ${server.url}`);
    if (config.auth.mode === "dev")
      logger.warn(
        { mode: "dev", reason: config.auth.modeReason },
        `DEV MODE (${config.auth.modeReason}): access tokens are signed by a local key under the data folder (npm run token); never use this in production`,
      );
    else logger.info({ mode: "jwks", reason: config.auth.modeReason }, `access tokens are verified against the configured JWKS (${config.auth.modeReason})`);
    // After the "listening on" line, which process supervisors and tests read first.
    if (kek.created)
      logger.warn({ kekFile: kekPath }, `generated the evidence key-encryption key ${kekPath}: back it up apart from the database; without it no evidence can be read`);
    if (wrappedAtStart > 0) logger.info({ wrapped: wrappedAtStart }, "wrapped the stored subject keys under the evidence key-encryption key");
    if (published > 0) logger.info({ published, catalogDir: config.catalogDir }, "published policy versions from the catalogue");
    if (ledger.catalog.get(config.defaultPolicyId)?.overrides !== null)
      logger.warn(
        { defaultPolicyId: config.defaultPolicyId },
        `DEFAULT_POLICY_ID ${config.defaultPolicyId} is not published as a base policy: calls without policyId use the one base policy, and are refused once a second is published`,
      );
    const workerPids = "workerPids" in server ? { workerPids: server.workerPids as () => number[], clockSynced: (server as unknown as { clockSynced: () => Promise<void> }).clockSynced } : {};
    return { url: server.url, port: server.port, services, server, metrics, ...workerPids, close: () => closeAll(server) };
  } catch (e) {
    await ledger.close();
    throw e;
  }
}

