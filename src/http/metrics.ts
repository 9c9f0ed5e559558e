// Prometheus metrics: default process metrics, operation durations, events appended, errors by code.
import { Counter, Histogram, Registry, collectDefaultMetrics } from "prom-client";

export class Metrics {
  readonly registry = new Registry();
  readonly operationDuration = new Histogram({
    name: "graphql_operation_duration_seconds",
    help: "GraphQL operation duration by operation name and type",
    labelNames: ["operation", "type"] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly eventsAppended = new Counter({
    name: "ledger_events_appended_total",
    help: "Events durably appended to the ledger, by type",
    labelNames: ["type"] as const,
    registers: [this.registry],
  });
  readonly errors = new Counter({
    name: "graphql_errors_total",
    help: "Errors returned to clients, by extensions.code",
    labelNames: ["code"] as const,
    registers: [this.registry],
  });
  readonly subscriptions = new Counter({
    name: "graphql_subscriptions_started_total",
    help: "Subscriptions started over WebSocket",
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }
}
