// What any request's values must satisfy before anything reads them: bounded nesting, and no NUL.
import { GraphQLError } from "graphql";

/**
 * How deep a request's variables may nest. The deepest input the schema takes (a publication's
 * purposes, their recipients, their fields) is a few levels; JSON nested thousands of levels deep
 * is an attack on whatever walks it recursively (serialising it overflows the stack).
 */
export const MAX_VARIABLE_DEPTH = 32;

const refusal = (message: string) => new GraphQLError(message, { extensions: { code: "BAD_USER_INPUT", http: { status: 400 } } });

/**
 * Refuses values nested deeper than `maxDepth`, and any string (or object key) holding U+0000:
 * PostgreSQL's text cannot store NUL, and no identifier, filter or text of this service has one.
 * The walk is iterative and stops at the first fault, so no input can overflow the stack here.
 */
export function checkInputValues(values: unknown, what: string, maxDepth = MAX_VARIABLE_DEPTH): void {
  const stack: { value: unknown; depth: number }[] = [{ value: values, depth: 0 }];
  while (stack.length > 0) {
    const { value, depth } = stack.pop()!;
    if (typeof value === "string") {
      if (value.includes("\u0000")) throw refusal(`${what} hold a NUL character (U+0000), which no input may contain`);
      continue;
    }
    if (value === null || typeof value !== "object") continue;
    if (depth >= maxDepth) throw refusal(`${what} nest deeper than ${maxDepth} levels`);
    if (Array.isArray(value)) for (const v of value) stack.push({ value: v, depth: depth + 1 });
    else
      for (const [k, v] of Object.entries(value)) {
        if (k.includes("\u0000")) throw refusal(`${what} hold a NUL character (U+0000), which no input may contain`);
        stack.push({ value: v, depth: depth + 1 });
      }
  }
}

/**
 * Whether a JSON text nests deeper than `maxDepth` arrays and objects, by one pass over its
 * characters (strings skipped): a body nested hundreds of thousands of levels is refused before
 * `JSON.parse` spends a quarter of a second building it.
 */
export function jsonNestsDeeperThan(text: string, maxDepth: number): boolean {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // A string: skip to its closing quote, past escapes.
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === 0x5c) i++;
        else if (d === 0x22) break;
      }
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > maxDepth) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}
