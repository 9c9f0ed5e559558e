// A parameterised statement written out as one literal SQL text, so it can travel in one simple
// query with the statements around it (`BEGIN; ...` or `...; COMMIT`): one round trip instead of
// two. Every placeholder in the text must be followed by a cast where its type is not obvious
// (an empty array in particular: `ARRAY[]::bigint[]`).
import pg from "pg";

function literal(v: unknown): string {
  if (v === null || v === undefined) return "NULL";
  if (typeof v === "number") {
    if (!Number.isFinite(v)) throw new Error(`cannot write ${v} into SQL`);
    return `(${v})`;
  }
  if (typeof v === "bigint") return `(${v})`;
  if (typeof v === "boolean") return v ? "true" : "false";
  if (typeof v === "string") return pg.escapeLiteral(v);
  if (v instanceof Uint8Array) return `'\\x${Buffer.from(v).toString("hex")}'::bytea`;
  if (Array.isArray(v)) return `ARRAY[${v.map(literal).join(",")}]`;
  throw new Error(`cannot write a ${typeof v} into SQL`);
}

/** `text` with each `$n` replaced by the literal of `values[n - 1]` (replaced text is not scanned again). */
export function inlineParams(text: string, values: readonly unknown[]): string {
  return text.replace(/\$(\d+)/g, (_, n: string) => {
    const i = Number(n) - 1;
    if (i < 0 || i >= values.length) throw new Error(`no value for $${n}`);
    return literal(values[i]);
  });
}
