// POST /visitor-session: a token for a visitor without an account (scope consent:visitor), from allowed origins only.
import type { IncomingMessage, ServerResponse } from "node:http";
import { bearerToken } from "../auth/token-verifier.js";
import { type AddressRatePort, AddressRateLimit, type VisitorSessions } from "../auth/visitor-sessions.js";
import type { Config } from "../config.js";
import { applyCors, originAllowed } from "./cors.js";

const send = (res: ServerResponse, status: number, body: unknown, extra: Record<string, string> = {}) => {
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "cache-control": "no-store", ...extra });
  res.end(JSON.stringify(body));
};
const refuse = (res: ServerResponse, status: number, code: string, message: string, extra: Record<string, string> = {}) =>
  send(res, status, { errors: [{ message, extensions: { code } }] }, extra);

/** Whether the browser's Origin is this service's own (the Host it was asked under). */
function sameOrigin(req: IncomingMessage, origin: string): boolean {
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

/**
 * The handler, or one answering 404 when VISITOR_SESSIONS=false. A request carrying a valid visitor
 * token gets a fresh token for the same visitor (renewal); any other gets a new visitor. The answer
 * says whether the browser sent `Sec-GPC: 1`, which a page's script cannot read by itself.
 */
export function visitorSessionRoute(
  config: Config,
  sessions: VisitorSessions | null,
  now: () => number = Date.now,
  limit: AddressRatePort = new AddressRateLimit(config.visitorSessions.perAddressPerMinute, 60_000, now),
) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (!sessions) return refuse(res, 404, "NOT_FOUND", "visitor sessions are turned off (VISITOR_SESSIONS=false)");
    const origin = req.headers.origin;
    if (applyCors(config.corsOrigins, req, res)) return;
    // A browser always names the page's origin on a POST; a server-side caller sends none.
    if (origin !== undefined && !originAllowed(config.corsOrigins, origin) && !sameOrigin(req, origin))
      return refuse(res, 403, "FORBIDDEN", "origin not allowed: add it to CORS_ORIGINS to open visitor sessions from it");
    if (req.method !== "POST") return refuse(res, 405, "BAD_REQUEST", "use POST", { allow: "POST, OPTIONS" });
    req.resume();
    if (!(await limit.take(req.socket.remoteAddress ?? "unknown")))
      return refuse(res, 429, "TOO_MANY_REQUESTS", "too many visitor sessions from this address; try again in a minute", { "retry-after": "60" });
    let renew: string | undefined;
    try {
      const token = bearerToken(req.headers.authorization);
      if (token) renew = (await sessions.verify(token)).subject;
    } catch {
      // An expired or foreign token is no reason to refuse: the visitor starts afresh.
    }
    const session = await sessions.issue(renew);
    send(res, 200, { ...session, gpc: req.headers["sec-gpc"] === "1" });
  };
}
