// Checks every command shares: tame identifiers and bounded texts, safe links and lists, and a
// subject that is still active at the version the caller expects.
import { LedgerError, badInput } from "./errors.js";
import type { SubjectState } from "./subject.js";

/** How far ahead of the server clock an occurredAt may lie (clock skew of the caller). */
export const MAX_FUTURE_SKEW_MS = 5 * 60_000;
export const LIMITS = {
  idLength: 128,
  textLength: 4_096,
  listLength: 200,
} as const;

const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:@-]*$/;

/** Checks an identifier the caller chose; ids appear in stream names and logs, so keep them tame. */
export function checkId(kind: string, id: string): void {
  // ID_PATTERN needs a first character, so an empty id fails it.
  if (id.length > LIMITS.idLength || !ID_PATTERN.test(id))
    throw badInput(`${kind} must be 1–${LIMITS.idLength} characters of letters, digits and . _ : @ -`, { field: kind });
}

export function checkText(field: string, s: string | null | undefined, max: number = LIMITS.textLength): void {
  if (s != null && s.length > max) throw badInput(`${field} is longer than ${max} characters`, { field });
}

/**
 * A link a page or a receipt shows: an absolute `https:` or `http:` URL of at most 2,048 characters,
 * with no whitespace or control characters. `javascript:`, `data:` and other schemes would run or
 * load something when a reader follows the link.
 */
export function checkUrl(field: string, s: string | null | undefined): void {
  if (s == null) return;
  checkText(field, s, 2_048);
  let url: URL | null = null;
  try {
    url = /[\u0000-\u0020\u007f-\u009f]/.test(s) ? null : new URL(s);
  } catch {
    url = null;
  }
  if (!url || (url.protocol !== "https:" && url.protocol !== "http:") || url.hostname === "")
    throw badInput(`${field} must be an absolute https: or http: URL`, { field });
}

export function checkList(field: string, xs: readonly unknown[]): void {
  if (xs.length > LIMITS.listLength) throw badInput(`${field} has more than ${LIMITS.listLength} items`, { field });
}

const INACTIVE_WORDS = { LEFT: "left the service", ERASED: "been erased", MERGED: "been merged into another subject" } as const;

/** Refuses commands for a subject that has left, been erased or been merged into another. */
export function requireActive(state: SubjectState): void {
  if (state.status === "LEFT" || state.status === "ERASED" || state.status === "MERGED")
    throw new LedgerError("SUBJECT_INACTIVE", `the subject has ${INACTIVE_WORDS[state.status]}`);
}

export function checkExpectedVersion(state: SubjectState, expected: number | null): void {
  if (expected !== null && expected !== state.version)
    throw new LedgerError("VERSION_CONFLICT", `expected version ${expected}, the subject is at ${state.version}`, {
      expectedVersion: expected,
      actualVersion: state.version,
    });
}
