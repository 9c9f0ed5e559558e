// Where a webhook may point: https (http only when allowed), and a host whose every resolved address is
// public. Checked when the webhook is created and again before each delivery; the delivery then
// connects to the very address that was checked, so a name that resolves elsewhere a moment later
// (DNS rebinding) cannot steer the request inside.
import { lookup } from "node:dns/promises";
import { BlockList, isIP } from "node:net";
import type { ErrorCode } from "../domain/errors.js";

export interface AddressPolicy {
  /** WEBHOOK_ALLOW_HTTP: plain http URLs are accepted. */
  allowHttp: boolean;
  /** WEBHOOK_ALLOW_PRIVATE: loopback, private, link-local and other internal addresses are accepted. */
  allowPrivate: boolean;
}

/** A URL or an address a webhook may not use; the message says why. */
export class WebhookAddressError extends Error {
  /** What the client is answered (with `field: "url"`). */
  static readonly code: ErrorCode = "BAD_USER_INPUT";
  readonly code = WebhookAddressError.code;
  override readonly name = "WebhookAddressError";
}

export interface CheckedAddress {
  address: string;
  family: 4 | 6;
}

const MAX_URL_LENGTH = 2_048;

/** Addresses that reach this machine, its networks or nothing at all. */
const INTERNAL = new BlockList();
for (const [net, prefix] of [
  ["0.0.0.0", 8], // "this" network, unspecified
  ["10.0.0.0", 8],
  ["100.64.0.0", 10], // carrier-grade NAT
  ["127.0.0.0", 8],
  ["169.254.0.0", 16], // link-local (cloud metadata lives here)
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["224.0.0.0", 4], // multicast
  ["240.0.0.0", 4], // reserved, broadcast
] as const)
  INTERNAL.addSubnet(net, prefix, "ipv4");
for (const [net, prefix] of [
  ["::", 128], // unspecified
  ["::1", 128],
  ["64:ff9b::", 96], // NAT64, which can embed an internal IPv4 address
  ["2002::", 16], // 6to4, likewise
  ["fc00::", 7], // unique local
  ["fe80::", 10], // link-local
  ["ff00::", 8], // multicast
] as const)
  INTERNAL.addSubnet(net, prefix, "ipv6");

/** IPv4-mapped IPv6 (::ffff:0:0/96), kept apart: a BlockList applies an IPv6 rule for it to every IPv4 address. */
const MAPPED = new BlockList();
MAPPED.addSubnet("::ffff:0:0", 96, "ipv6");

export function isInternalAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return true;
  if (family === 6 && MAPPED.check(address, "ipv6")) return true;
  return INTERNAL.check(address, family === 4 ? "ipv4" : "ipv6");
}

/** The URL, parsed and checked for its form (not yet its addresses). */
export function checkWebhookUrl(raw: string, policy: AddressPolicy): URL {
  if (raw.length > MAX_URL_LENGTH) throw new WebhookAddressError(`url must be at most ${MAX_URL_LENGTH} characters`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new WebhookAddressError("url is not an absolute URL");
  }
  if (url.protocol !== "https:" && !(url.protocol === "http:" && policy.allowHttp))
    throw new WebhookAddressError(policy.allowHttp ? "url must be http: or https:" : "url must be https: (http: needs WEBHOOK_ALLOW_HTTP=true)");
  // Credentials in a URL would be stored and shown with it; the signature authenticates instead.
  if (url.username !== "" || url.password !== "") throw new WebhookAddressError("url must not carry a user name or password");
  if (url.hash !== "") throw new WebhookAddressError("url must not carry a fragment");
  return url;
}

const hostOf = (url: URL): string => url.hostname.replace(/^\[(.*)\]$/, "$1");

type Resolved = { address: string; family: number }[];
export type Resolve = (host: string) => Promise<Resolved>;

const systemResolve: Resolve = (host) => lookup(host, { all: true, verbatim: true });

/**
 * Answers of the resolver kept for a short while, so a delivery does not wait for a lookup each
 * time. Only the answer is kept: every address in it is checked again at every delivery, and a
 * name re-pointed elsewhere is seen once its answer expires. Failed lookups are not kept.
 */
export class LookupCache {
  private readonly answers = new Map<string, { at: number; found: Promise<Resolved> }>();

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number = () => performance.now(),
    private readonly resolve: Resolve = systemResolve,
    /** Names kept at most; the oldest is dropped first. */
    private readonly max = 1_000,
  ) {}

  lookup(host: string): Promise<Resolved> {
    const now = this.now();
    const kept = this.answers.get(host);
    if (kept && now - kept.at < this.ttlMs) return kept.found;
    const found = this.resolve(host);
    this.answers.delete(host);
    this.answers.set(host, { at: now, found });
    if (this.answers.size > this.max) this.answers.delete(this.answers.keys().next().value!);
    found.catch(() => {
      if (this.answers.get(host)?.found === found) this.answers.delete(host);
    });
    return found;
  }
}

/**
 * The addresses the URL's host resolves to, all of them checked: one internal address refuses the
 * whole name (a resolver may answer with any of them), unless internal addresses are allowed.
 * `cache`: a resolver's recent answers (deliveries); without it the name is looked up now.
 */
export async function resolveChecked(url: URL, policy: AddressPolicy, cache?: LookupCache): Promise<CheckedAddress[]> {
  const host = hostOf(url);
  let found: Resolved;
  try {
    found = isIP(host) ? [{ address: host, family: isIP(host) }] : await (cache ? cache.lookup(host) : systemResolve(host));
  } catch (e) {
    throw new WebhookAddressError(`url's host ${host} does not resolve (${(e as NodeJS.ErrnoException).code ?? "error"})`);
  }
  if (found.length === 0) throw new WebhookAddressError(`url's host ${host} does not resolve`);
  if (!policy.allowPrivate)
    for (const a of found)
      if (isInternalAddress(a.address))
        throw new WebhookAddressError(`url's host ${host} resolves to ${a.address}, a loopback, private, link-local or otherwise internal address (WEBHOOK_ALLOW_PRIVATE=true allows it)`);
  return found.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
}
