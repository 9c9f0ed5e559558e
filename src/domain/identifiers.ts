// Who and whom: the shape of actor ids (token `sub`) and the pseudonymity of subject ids.
import { badInput } from "./errors.js";

/** Longest actor id kept in the log; issuers' `sub` values (UUIDs, `auth0|…`, `…@clients`) are far shorter. */
export const MAX_ACTOR_ID_LENGTH = 255;

/**
 * Letters, digits, punctuation and symbols (combining marks after the first character); no
 * whitespace, control, format (bidi overrides, zero-width) or separator characters, which would
 * let an id read differently in a log or a console than it is stored.
 */
const ACTOR_ID = /^[\p{L}\p{N}\p{P}\p{S}][\p{L}\p{N}\p{P}\p{S}\p{M}]*$/u;

/**
 * Characters that draw nothing although their category says letter or symbol: Unicode's
 * default-ignorable code points (Hangul fillers U+115F, U+1160, U+3164, U+FFA0, zero-width and
 * joiner characters U+200B–U+200F, U+2060–U+206F, U+FEFF, U+180E, variation selectors, the soft
 * hyphen) and the blank braille pattern U+2800. `"\u3164"` or `"admin\u3164"` would otherwise read
 * as nothing, or as another actor, in a log or a console.
 */
const INVISIBLE = /[\p{Default_Ignorable_Code_Point}\u2800]/u;

/** True when `id` may be recorded as an actor: 1–255 visible characters. */
export function isValidActorId(id: string): boolean {
  // ACTOR_ID needs a first character, so an empty id fails it.
  return id.length <= MAX_ACTOR_ID_LENGTH && ACTOR_ID.test(id) && !INVISIBLE.test(id);
}

/** A domain may end in the root's dot (`hana@example.jp.` is the same address as `hana@example.jp`). */
const EMAIL = /^[^@]+@[^@]+\.[A-Za-z]{2,}\.?$/;
/** National (trunk prefix 0) or international (00) dialling, digits optionally grouped by `-` or `.`. */
const PHONE = /^0[0-9]*(?:[-.][0-9]+)*$/;

/**
 * What kind of personal identifier a subject id looks like, or null. Subject ids must be
 * pseudonymous: erasure destroys evidence keys, not ids, so an email address or phone number used
 * as an id would stay in the log for good. A heuristic: `user@example.com`, `090-1234-5678`,
 * `hana@example.jp.`, `0312345678`, `0081312345678`; plain numbers without a leading 0 pass as numeric ids.
 */
export function identifyingShape(subjectId: string): "email address" | "phone number" | null {
  if (EMAIL.test(subjectId)) return "email address";
  if (PHONE.test(subjectId)) {
    const digits = subjectId.replace(/[-.]/g, "").length;
    if (digits >= 9 && digits <= 15) return "phone number";
  }
  return null;
}

/**
 * Refuses to start a subject's record under an id shaped like an email address or phone number
 * (unless the operator allows it); subjects already in the log keep working, so they can still be
 * erased or leave.
 */
export function checkPseudonymousSubject(subjectId: string, isNew: boolean, allowIdentifying: boolean): void {
  if (!isNew || allowIdentifying) return;
  const shape = identifyingShape(subjectId);
  if (shape)
    throw badInput(`subjectId looks like ${shape === "email address" ? "an" : "a"} ${shape}; subject ids must be pseudonymous (an id from your user table, not contact data)`, {
      field: "subjectId",
    });
}
