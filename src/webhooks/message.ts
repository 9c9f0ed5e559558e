// A webhook message: the JSON body of one consent change (what consentChanged delivers, never
// evidence) and its Standard Webhooks signature.
import { createHmac } from "node:crypto";
import type { ConsentChangeFact } from "../feed/consent-changes.js";
import { encodeChangeCursor } from "../feed/feed-cursor.js";
import { encodePosition } from "../log/position.js";

export const SECRET_PREFIX = "whsec_";

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/** Bodies by change: the feed hands every webhook the same fact object, so each is serialised once. */
const bodies = new WeakMap<ConsentChangeFact, string>();

/** The body POSTed for a change. */
export function messageBody(f: ConsentChangeFact): string {
  let body = bodies.get(f);
  if (body === undefined) bodies.set(f, (body = serialise(f)));
  return body;
}

function serialise(f: ConsentChangeFact): string {
  const c = f.current;
  return JSON.stringify({
    type: "consent.changed",
    timestamp: new Date(f.event.recordedAt).toISOString(),
    data: {
      cursor: encodeChangeCursor(f.event.position, f.index),
      position: encodePosition(f.event.position),
      subjectId: f.subjectId,
      policyId: c.policyId,
      purposeId: c.purposeId,
      previous: f.previous?.status ?? null,
      current: {
        policyId: c.policyId,
        purposeId: c.purposeId,
        status: c.status,
        permitted: c.permitted,
        reason: c.reason,
        since: iso(c.since),
        expiresAt: iso(c.expiresAt),
        policyVersion: c.policyVersion,
        eventId: c.eventId,
      },
    },
  });
}

/** The `webhook-id` of a change to a webhook: the same on every attempt, on every replica, after any restart. */
export const messageId = (webhookId: string, position: number, index: number): string => `msg_${webhookId}_${encodeChangeCursor(position, index)}`;

/** `v1,<base64 HMAC-SHA256 of "id.timestamp.body">` (Standard Webhooks). */
export function signature(secret: Uint8Array, id: string, timestampSeconds: number, body: string): string {
  return `v1,${createHmac("sha256", secret).update(`${id}.${timestampSeconds}.${body}`).digest("base64")}`;
}
