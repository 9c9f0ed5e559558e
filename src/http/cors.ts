// CORS for /graphql: front ends on the configured origins (CORS_ORIGINS) may call the API from a browser.
import type { IncomingMessage, ServerResponse } from "node:http";

/**
 * Request headers a front end may send: the bearer token, JSON, Apollo's CSRF markers, Apollo
 * Client's name and version, W3C trace context (OpenTelemetry's browser instrumentation), and the
 * position a read must include (read your writes on any replica).
 */
export const ALLOWED_HEADERS = [
  "Authorization",
  "Content-Type",
  "Accept",
  "Apollo-Require-Preflight",
  "X-Apollo-Operation-Name",
  "Apollographql-Client-Name",
  "Apollographql-Client-Version",
  "Traceparent",
  "Tracestate",
  "Ledger-Min-Position",
].join(", ");
/** Response headers a front end may read beyond the CORS-safelisted ones: the position a mutation's last event took. */
export const EXPOSED_HEADERS = "Ledger-Position";
const ALLOWED_METHODS = "GET, POST, OPTIONS";
/** How long a browser may reuse a preflight answer. */
const PREFLIGHT_MAX_AGE_SECONDS = 600;

/** Whether a browser page on `origin` may read the API's answers. */
export function originAllowed(allowed: "*" | readonly string[], origin: string | undefined): boolean {
  if (origin === undefined || origin === "") return false;
  return allowed === "*" || allowed.includes(origin);
}

/**
 * Adds the CORS headers a response to `req` needs, and answers a preflight (OPTIONS) outright.
 * Returns true when the request was a preflight and has been answered. Credentials (cookies) are
 * never allowed: the API authenticates with a bearer token only.
 */
export function applyCors(allowed: "*" | readonly string[], req: IncomingMessage, res: ServerResponse): boolean {
  const origin = req.headers.origin;
  const ok = originAllowed(allowed, origin);
  // The answer depends on Origin whenever a list is configured: caches must keep them apart.
  if (allowed !== "*") res.setHeader("vary", "Origin");
  if (ok) res.setHeader("access-control-allow-origin", allowed === "*" ? "*" : origin!);
  if (ok) res.setHeader("access-control-expose-headers", EXPOSED_HEADERS);
  const preflight = req.method === "OPTIONS" && req.headers["access-control-request-method"] !== undefined;
  if (!preflight) return false;
  if (!ok) {
    res.writeHead(403, { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" });
    res.end("origin not allowed: set CORS_ORIGINS to let a front end on another origin call the API\n");
    return true;
  }
  res.writeHead(204, {
    "access-control-allow-methods": ALLOWED_METHODS,
    "access-control-allow-headers": ALLOWED_HEADERS,
    "access-control-max-age": String(PREFLIGHT_MAX_AGE_SECONDS),
  });
  res.end();
  return true;
}
