// How much one request, connection, caller or subject may take: body and query size, depth and
// cost, subscriptions and their queues, whole-log reads, replays, exports and writes per subject.
import { type Get, intSetting } from "./settings.js";
import type { Config } from "./types.js";

export function limitsSettings(get: Get): Config["limits"] {
  return {
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
  };
}
