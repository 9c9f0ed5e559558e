// The canonical encoding that the hash chain covers, and the chain's hash function.
//
// Canonical JSON: objects with keys sorted by UTF-16 code unit order (Array.prototype.sort),
// no whitespace, strings and numbers as JSON.stringify writes them, `undefined` members left out.
// An event's hash is SHA-256 over the UTF-8 bytes of `prevHash` (64 lowercase hex digits)
// followed by the canonical JSON of its content (see `hashedContent`).
import { createHash } from "node:crypto";
import type { LedgerEvent } from "../domain/events.js";

export const GENESIS_HASH = "0".repeat(64);

export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") {
    if (typeof value === "number" && !Number.isFinite(value)) throw new TypeError("non-finite number in canonical JSON");
    return JSON.stringify(value) ?? "null";
  }
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? "null" : canonicalJson(v))).join(",")}]`;
  const obj = value as Record<string, unknown>;
  const parts: string[] = [];
  for (const k of Object.keys(obj).sort()) {
    const v = obj[k];
    if (v !== undefined) parts.push(`${JSON.stringify(k)}:${canonicalJson(v)}`);
  }
  return `{${parts.join(",")}}`;
}

/** Everything about an event that the chain vouches for: all but the hashes themselves. */
export function hashedContent(e: Omit<LedgerEvent, "prevHash" | "hash">): Record<string, unknown> {
  return {
    id: e.id,
    position: e.position,
    streamId: e.streamId,
    streamVersion: e.streamVersion,
    type: e.type,
    schemaVersion: e.schemaVersion,
    subjectId: e.subjectId,
    occurredAt: e.occurredAt,
    recordedAt: e.recordedAt,
    actor: e.actor,
    data: e.data,
  };
}

/** SHA-256 over prevHash and the canonical content, as lowercase hex. */
export function chainHash(prevHash: string, canonicalContent: string): string {
  return createHash("sha256").update(prevHash).update(canonicalContent).digest("hex");
}

export const sha256Hex = (s: string | Uint8Array) => createHash("sha256").update(s).digest("hex");

/** The digest of a caller's input that an idempotency key is bound to. */
export const requestHash = (input: unknown) => sha256Hex(canonicalJson(input));
