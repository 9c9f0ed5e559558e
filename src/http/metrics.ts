// Prometheus metrics: default process metrics, operation durations, events appended, errors by code.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { ViewCacheStats } from "../storage/view-cache.js";

/** The label of operations past the set of names /metrics keeps, and of names that are not plain GraphQL names. */
export const OTHER_OPERATION = "other";
/** Longer operation names are counted as "other": a label is not a place for a client's essay. */
const MAX_NAME_LENGTH = 64;
const GRAPHQL_NAME = /^[_A-Za-z][_0-9A-Za-z]*$/;

export class Metrics {
  readonly registry = new Registry();
  readonly operationDuration = new Histogram({
    name: "graphql_operation_duration_seconds",
    help: "GraphQL operation duration by operation name and type",
    labelNames: ["operation", "type"] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly eventsAppended = this.counter("ledger_events_appended_total", "Events durably appended to the ledger, by type", ["type"]);
  readonly errors = this.counter("graphql_errors_total", "Errors returned to clients, by extensions.code", ["code"]);
  readonly subscriptions = this.counter("graphql_subscriptions_started_total", "Subscriptions started over WebSocket");
  readonly webhookDeliveries = this.counter(
    "webhook_deliveries_total",
    "Webhook delivery attempts by outcome (delivered, failed, timeout, unreachable, refused, gone)",
    ["outcome"],
  );
  readonly webhookFeedReads = this.counter(
    "webhook_feed_reads_total",
    "Reads of the log for webhooks: a commit's consent changes read once for every webhook on the shared stream (commit), or a page of one webhook's backlog (page)",
    ["read"],
  );
  /** Per webhook this replica delivers, the age (ms) of the change it is on; set by the composition root. */
  webhookAges: () => Map<string, number> = () => new Map();
  readonly webhookQueueAge = new Gauge({
    name: "webhook_queue_age_seconds",
    help: "Per webhook delivered by this replica, how long ago the change it is delivering was committed (0 when caught up)",
    labelNames: ["webhook"] as const,
    registers: [this.registry],
    collect: () => {
      this.webhookQueueAge.reset();
      for (const [webhook, ms] of this.webhookAges()) this.webhookQueueAge.set({ webhook }, ms / 1000);
    },
  });

  /** The position this replica has applied and the reads waiting for a later one; set by the composition root. */
  applied: () => { position: number; waiting: number } = () => ({ position: 0, waiting: 0 });
  readonly appliedPosition = this.readGauge("ledger_applied_position", "The log position this replica has applied (its catalogue, subscriptions and views include every commit up to it)", () => this.applied().position);
  readonly positionWaits = this.readGauge("ledger_min_position_waits", "Requests waiting for this replica to apply the position their Ledger-Min-Position names", () => this.applied().waiting);
  /** The in-memory view of subjects' figures (VIEW_CACHE_MB); set by the composition root, null when there is none. */
  viewCache: () => ViewCacheStats | null = () => null;
  readonly viewCacheBytes = this.readGauge("view_cache_bytes", "Estimated bytes the permission reads (permission, permissions, me) hold in memory; bounded by VIEW_CACHE_MB", () => this.viewCache()?.bytes ?? 0);
  readonly viewCacheEntries = this.readGauge("view_cache_entries", "Entries the permission reads hold in memory (one per identity read)", () => this.viewCache()?.entries ?? 0);
  readonly viewCacheReads = new Counter({
    name: "view_cache_reads_total",
    help: "Permission reads answered from memory (hit), from the database (miss), or from the database without looking at memory because it could not answer then (bypass: PostgreSQL's change feed behind or disconnected)",
    labelNames: ["result"] as const,
    registers: [this.registry],
    collect: () => {
      const s = this.viewCache();
      this.viewCacheReads.reset();
      this.viewCacheReads.inc({ result: "hit" }, s?.hits ?? 0);
      this.viewCacheReads.inc({ result: "miss" }, s?.misses ?? 0);
      this.viewCacheReads.inc({ result: "bypass" }, s?.bypasses ?? 0);
    },
  });

  /** Operation names with a label of their own: the first ones seen, up to the configured number. */
  private readonly operationNames = new Set<string>();

  /** `maxOperationNames`: distinct names labelled before the rest are counted as "other", so clients cannot grow /metrics. */
  constructor(private readonly maxOperationNames = 100) {
    collectDefaultMetrics({ register: this.registry });
  }

  /** A gauge set from `read` whenever /metrics is scraped. */
  private readGauge(name: string, help: string, read: () => number): Gauge {
    const gauge: Gauge = new Gauge({ name, help, registers: [this.registry], collect: () => gauge.set(read()) });
    return gauge;
  }

  /** The label an operation is counted under: its name while the set of names has room, else "other". */
  operationLabel(name: string | null | undefined): string {
    if (!name) return "anonymous";
    if (this.operationNames.has(name)) return name;
    if (name === OTHER_OPERATION || name.length > MAX_NAME_LENGTH || !GRAPHQL_NAME.test(name) || this.operationNames.size >= this.maxOperationNames)
      return OTHER_OPERATION;
    this.operationNames.add(name);
    return name;
  }

  observeOperation(name: string | null | undefined, type: string, seconds: number): void {
    this.operationDuration.observe({ operation: this.operationLabel(name), type }, seconds);
  }

  /** A counter kept in this registry. */
  private counter<L extends string = never>(name: string, help: string, labelNames: readonly L[] = []): Counter<L> {
    return new Counter({ name, help, labelNames, registers: [this.registry] });
  }
}
