// WEBHOOK_* settings: the retry schedule spans a day by default and must in production; the lease outlasts a request.
import { describe, expect, it } from "vitest";
import { ConfigError, DEFAULT_WEBHOOK_RETRY_DELAYS_MS, loadConfig } from "../../src/config.js";

const jwks = { AUTH_JWKS_FILE: "/etc/jwks.json", AUTH_ISSUER: "https://idp", AUTH_AUDIENCE: "ledger", EVIDENCE_KEK_FILE: "/etc/kek" };
const refusal = (env: NodeJS.ProcessEnv): string => {
  try {
    loadConfig(env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error("expected a ConfigError");
};

describe("webhook settings", () => {
  it("retry for more than 24 hours by default", () => {
    const total = DEFAULT_WEBHOOK_RETRY_DELAYS_MS.reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThanOrEqual(24 * 3_600_000);
    expect(DEFAULT_WEBHOOK_RETRY_DELAYS_MS).toEqual([...DEFAULT_WEBHOOK_RETRY_DELAYS_MS].sort((a, b) => a - b));
  });

  it("take a schedule of delays, refused in production when it spans less than a day", () => {
    expect(loadConfig({ WEBHOOK_RETRY_DELAYS_MS: "1, 2,3" }).webhooks.retryDelaysMs).toEqual([1, 2, 3]);
    expect(refusal({ ...jwks, NODE_ENV: "production", WEBHOOK_RETRY_DELAYS_MS: "1000,2000" })).toMatch(/at least 24 hours/);
    expect(loadConfig({ ...jwks, NODE_ENV: "production", WEBHOOK_RETRY_DELAYS_MS: "43200000,43200000" }).webhooks.retryDelaysMs).toHaveLength(2);
    expect(refusal({ WEBHOOK_RETRY_DELAYS_MS: "5s" })).toMatch(/WEBHOOK_RETRY_DELAYS_MS/);
    expect(refusal({ WEBHOOK_RETRY_DELAYS_MS: "" + ",".repeat(3) })).toMatch(/WEBHOOK_RETRY_DELAYS_MS/);
  });

  it("need a lease more than twice the request time-out", () => {
    expect(refusal({ WEBHOOK_LEASE_MS: "1000", WEBHOOK_TIMEOUT_MS: "500" })).toMatch(/WEBHOOK_LEASE_MS/);
    expect(loadConfig({ WEBHOOK_LEASE_MS: "2000", WEBHOOK_TIMEOUT_MS: "500" }).webhooks).toMatchObject({ leaseMs: 2_000, timeoutMs: 500 });
    expect(refusal({ WEBHOOK_ALLOW_PRIVATE: "yes" })).toMatch(/WEBHOOK_ALLOW_PRIVATE must be true or false/);
  });

  it("deliver from a thread of their own unless WEBHOOK_DELIVERY_THREAD=false", () => {
    expect(loadConfig({}).webhooks.deliveryThread).toBe(true);
    expect(loadConfig({ WEBHOOK_DELIVERY_THREAD: "false" }).webhooks.deliveryThread).toBe(false);
    expect(refusal({ WEBHOOK_DELIVERY_THREAD: "on" })).toMatch(/WEBHOOK_DELIVERY_THREAD must be true or false/);
  });
});
