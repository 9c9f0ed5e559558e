// DateTime (RFC 3339, UTC on output; epoch ms inside) and JSON scalars.
import { GraphQLError, GraphQLScalarType, Kind } from "graphql";
import { GraphQLJSON } from "graphql-scalars";
import { parseRfc3339, toIso } from "../domain/time.js";

const badDate = (v: unknown) =>
  new GraphQLError(`DateTime must be an RFC 3339 date-time with an offset, e.g. 2024-04-01T09:00:00Z; got ${JSON.stringify(v)?.slice(0, 64)}`, {
    extensions: { code: "BAD_USER_INPUT" },
  });

function parse(v: unknown): number {
  if (typeof v !== "string" || v.length > 40) throw badDate(v);
  const t = parseRfc3339(v);
  if (t === undefined) throw badDate(v);
  return t;
}

export const DateTimeScalar = new GraphQLScalarType<number, string>({
  name: "DateTime",
  description: "An instant as an RFC 3339 date-time; always UTC on output, any offset on input.",
  serialize: (v) => {
    if (typeof v === "number") return toIso(v);
    if (v instanceof Date) return v.toISOString();
    throw new GraphQLError("DateTime cannot represent this value");
  },
  parseValue: parse,
  parseLiteral: (ast) => {
    if (ast.kind !== Kind.STRING) throw badDate("(not a string)");
    return parse(ast.value);
  },
});

export const JSONScalar = GraphQLJSON;
