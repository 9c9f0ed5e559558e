// What reaches out of the service and into it from browsers: webhook delivery (WEBHOOK_*) and the
// origins allowed to call /graphql (CORS_ORIGINS).
import { DAY_MS } from "../domain/time.js";
import { ConfigError, type Get, boolSetting, intSetting } from "./settings.js";
import type { Config } from "./types.js";

/** WEBHOOK_*: how webhooks are delivered and retried. */
export function webhookSettings(get: Get, production: boolean): Config["webhooks"] {
  const w = {
    allowHttp: boolSetting(get, "WEBHOOK_ALLOW_HTTP", false),
    allowPrivate: boolSetting(get, "WEBHOOK_ALLOW_PRIVATE", false),
    retryDelaysMs: retryDelays(get("WEBHOOK_RETRY_DELAYS_MS"), production),
    timeoutMs: intSetting(get, "WEBHOOK_TIMEOUT_MS", 10_000, 1, 60_000),
    concurrencyPerReceiver: intSetting(get, "WEBHOOK_CONCURRENCY_PER_RECEIVER", 16, 1, 1_000),
    leaseMs: intSetting(get, "WEBHOOK_LEASE_MS", 30_000, 100, 600_000),
    flushMs: intSetting(get, "WEBHOOK_FLUSH_MS", 50, 1, 10_000),
    deliveryThread: boolSetting(get, "WEBHOOK_DELIVERY_THREAD", true),
  };
  // A replica starts a request only while its lease outlasts the request's time-out, so the lease must be the longer by far.
  if (w.leaseMs <= 2 * w.timeoutMs)
    throw new ConfigError(`WEBHOOK_LEASE_MS (${w.leaseMs}) must be more than twice WEBHOOK_TIMEOUT_MS (${w.timeoutMs}): a replica sends only while its lease outlasts a request`);
  return w;
}

/** 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h: eight attempts over 27 h 35 min before a webhook is disabled. */
export const DEFAULT_WEBHOOK_RETRY_DELAYS_MS = [5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000];

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
