// The access token of this tab: from the URL fragment (#access_token=…) or the sign-in field, kept per tab.

export interface TokenClaims {
  sub?: string;
  exp?: number;
  scope?: string;
  scp?: string[];
}

/**
 * Takes a token from `#access_token=<jwt>` and removes it from the address bar and history, so it is
 * neither bookmarked nor shown. The fragment never reaches the server.
 */
export function takeTokenFromFragment(): string | null {
  const params = new URLSearchParams(location.hash.replace(/^#/, ""));
  const token = params.get("access_token");
  if (!token) return null;
  history.replaceState(null, "", location.pathname + location.search);
  return token.trim();
}

/** The token for this page, kept in sessionStorage (this tab only, gone when it closes). */
export class Session {
  constructor(private readonly key: string) {}

  get token(): string | null {
    return sessionStorage.getItem(this.key);
  }
  set token(value: string | null) {
    if (value === null) sessionStorage.removeItem(this.key);
    else sessionStorage.setItem(this.key, value);
  }
}

/** The claims of a JWT, read without verifying (the server verifies); null when it is not a JWT. */
export function readClaims(token: string): TokenClaims | null {
  const part = token.split(".")[1];
  if (!part) return null;
  try {
    const json = atob(part.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(part.length / 4) * 4, "="));
    const claims: unknown = JSON.parse(new TextDecoder().decode(Uint8Array.from(json, (c) => c.charCodeAt(0))));
    return typeof claims === "object" && claims !== null ? (claims as TokenClaims) : null;
  } catch {
    return null;
  }
}

/** Whether a token has passed its `exp` (seconds) on this clock. */
export function isExpired(claims: TokenClaims | null, nowMs = Date.now()): boolean {
  return typeof claims?.exp === "number" && claims.exp * 1000 <= nowMs;
}
