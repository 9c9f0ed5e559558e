// The scopes (docs/api.md) and the authenticated caller they are read into.

export const SCOPES = [
  "consent:self",
  "consent:read",
  "consent:write",
  "ledger:read",
  "policy:write",
  "subject:admin",
  "transfer:write",
  "webhook:admin",
] as const;
export type Scope = (typeof SCOPES)[number];

/** Who is calling, as a verified access token says. */
export interface Caller {
  subject: string;
  scopes: ReadonlySet<string>;
  /** The token's `exp` in epoch milliseconds; null for callers not backed by a token. */
  expiresAt: number | null;
}

export const isScope = (s: string): s is Scope => (SCOPES as readonly string[]).includes(s);

/**
 * Scopes from a JWT payload: `scope` (space separated) and `scp` (an array, or a space separated
 * string as some issuers send it). Both are read; values of other types are ignored, not fatal.
 * Only U+0020 separates scopes (RFC 6749 §3.3): an ideographic or no-break space is part of a
 * scope token, so `"consent:self\u3000consent:read"` is one unknown scope, not two.
 */
export function scopesFromClaims(payload: Readonly<Record<string, unknown>>): Set<string> {
  const out = new Set<string>();
  const add = (v: unknown): void => {
    if (typeof v === "string") for (const s of v.split(" ")) if (s !== "") out.add(s);
  };
  add(payload["scope"]);
  const scp = payload["scp"];
  if (Array.isArray(scp)) for (const s of scp as unknown[]) add(s);
  else add(scp);
  return out;
}
