// Personal evidence sealed with a per-subject AES-256-GCM key, bound to the subject's id; the keys
// themselves live in storage (the port's evidence key vault), so destroying one (erasure) makes
// every sealed value of that subject unreadable for good.
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import type { DomainEvent, Personal } from "../domain/events.js";

const IV_BYTES = 12;
const TAG_BYTES = 16;
export const KEY_BYTES = 32;

/** A fresh subject key. */
export const newEvidenceKey = (): Buffer => randomBytes(KEY_BYTES);

/** Seals a value under the subject's key; the subject id is authenticated with it. */
export function sealWith<T>(key: Uint8Array, subjectId: string, value: T): Personal<T> {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  cipher.setAAD(Buffer.from(subjectId));
  const ct = Buffer.concat([cipher.update(JSON.stringify(value), "utf8"), cipher.final()]);
  return { sealed: Buffer.concat([iv, cipher.getAuthTag(), ct]).toString("base64url") };
}

/** The plaintext while the subject's key exists (`key` not null); `{ erased: true }` after erasure. */
export function openWith<T>(key: Uint8Array | null, subjectId: string, p: Personal<T> | undefined | null): T | { erased: true } | null {
  if (!p) return null;
  if ("plain" in p) return p.plain;
  if ("erased" in p) return p;
  if (!key) return { erased: true };
  const raw = Buffer.from(p.sealed, "base64url");
  const decipher = createDecipheriv("aes-256-gcm", key, raw.subarray(0, IV_BYTES));
  decipher.setAAD(Buffer.from(subjectId));
  decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
  const pt = Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]);
  return JSON.parse(pt.toString("utf8")) as T;
}

/** Whether an event carries a personal value still in plaintext (to be sealed before appending). */
export const hasPlain = (e: DomainEvent): boolean =>
  Object.values(e.data as Record<string, unknown>).some((v) => v !== null && typeof v === "object" && "plain" in v);

/** Seals every `{ plain }` member of an event's data with `seal`. */
export function sealEvent(e: DomainEvent, seal: (value: unknown) => Personal<unknown>): DomainEvent {
  const data: Record<string, unknown> = { ...(e.data as Record<string, unknown>) };
  for (const [k, v] of Object.entries(data)) if (v && typeof v === "object" && "plain" in v) data[k] = seal((v as { plain: unknown }).plain);
  return { ...e, data } as DomainEvent;
}

/** Opens every sealed member of an event's data with the subject's key (null: erased). */
export function openEventData(data: Record<string, unknown>, key: Uint8Array | null, subjectId: string): Record<string, unknown> {
  const out = { ...data };
  for (const [k, v] of Object.entries(out))
    if (v && typeof v === "object" && ("sealed" in v || "erased" in v)) out[k] = openWith(key, subjectId, v as Personal<unknown>);
  return out;
}
