// The fast path lets a compiled operation coerce its variables once, as it runs, and hands those it
// refuses to Apollo (which refuses them as on the text path). That is exact only if graphql-jit refuses
// every value graphql-js refuses: checked here on valid inputs mutated at random places.
import fc from "fast-check";
import { type GraphQLSchema, getOperationAST, getVariableValues, parse } from "graphql";
import { compileQuery, isCompiledQuery } from "graphql-jit";
import { beforeAll, describe, expect, it } from "vitest";
import { buildLedgerSchema } from "../../src/graphql/schema.js";

let schema: GraphQLSchema;
beforeAll(async () => {
  schema = await buildLedgerSchema();
});

const RECORD = "mutation($input: RecordConsentInput!) { recordConsent(input: $input) { subject { id version } receipt } }";
const PERMISSION = "query($s: ID!, $p: ID!) { permission(subjectId: $s, purposeId: $p) { permitted reason status } }";
const validRecord = {
  input: {
    subjectId: "s-1",
    policyVersion: 1,
    acceptPolicy: true,
    grant: ["location", "access-analytics"],
    withdraw: [],
    expectedVersion: 3,
    occurredAt: "2026-03-01T00:00:00.000Z",
    idempotencyKey: "k",
    evidence: { channel: "web", ipAddress: "203.0.113.7", userAgent: "UA", locale: "ja", formId: "f", signal: "GPC" },
  },
};
const validPermission = { s: "subject", p: "location" };

type Json = unknown;
const oddValue = fc.oneof(
  fc.constant(null),
  fc.constant(undefined),
  fc.integer(),
  fc.double(),
  fc.constant(2 ** 31),
  fc.string(),
  fc.boolean(),
  fc.array(fc.oneof(fc.string(), fc.integer(), fc.constant(null)), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 4 }), fc.oneof(fc.string(), fc.integer()), { maxKeys: 2 }),
  fc.constantFrom("2026-13-01T00:00:00Z", "not a date", "1", "", "location"),
);

/** `value` with the member at `path` (indices into the keys met on the way) replaced, removed, or given a sibling. */
function mutate(value: Json, path: number[], replacement: unknown, mode: "replace" | "delete" | "extra"): Json {
  if (path.length === 0 || value === null || typeof value !== "object") return mode === "replace" ? replacement : value;
  const copy: Record<string, unknown> | unknown[] = Array.isArray(value) ? [...value] : { ...(value as Record<string, unknown>) };
  const keys = Object.keys(copy);
  if (keys.length === 0) return mode === "extra" ? (Array.isArray(copy) ? [replacement] : { extra: replacement }) : copy;
  const key = keys[path[0]! % keys.length]!;
  if (path.length === 1 && mode === "delete") {
    if (Array.isArray(copy)) copy.splice(Number(key), 1);
    else delete copy[key];
    return copy;
  }
  if (path.length === 1 && mode === "extra" && !Array.isArray(copy)) return { ...copy, [`x${path[0]}`]: replacement };
  (copy as Record<string, unknown>)[key] = mutate((copy as Record<string, unknown>)[key], path.slice(1), replacement, mode);
  return copy;
}

describe("graphql-jit's coercion of variables", () => {
  for (const [name, text, valid] of [
    ["recordConsent", RECORD, validRecord],
    ["permission", PERMISSION, validPermission],
  ] as const) {
    it(`refuses whatever graphql-js refuses (${name})`, async () => {
      const document = parse(text);
      const op = getOperationAST(document)!;
      const compiled = compileQuery(schema, document, undefined, { disablingCapturingStackErrors: true, customJSONSerializer: true });
      if (!isCompiledQuery(compiled)) throw new Error("does not compile");
      // Nothing may run: a context the resolvers cannot use makes any run fail inside, with data.
      const jitRefuses = async (variables: unknown) => !("data" in (await compiled.query(undefined, {}, variables as Record<string, unknown>)));
      const jsRefuses = (variables: unknown) => getVariableValues(schema, op.variableDefinitions ?? [], variables as Record<string, unknown>, { maxErrors: 1 }).errors !== undefined;
      expect(jsRefuses(valid)).toBe(false);
      let refused = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(fc.nat(20), { minLength: 1, maxLength: 4 }), oddValue, fc.constantFrom("replace", "delete", "extra"), async (path, replacement, mode) => {
          const variables = mutate(valid, path, replacement, mode as "replace" | "delete" | "extra");
          if (!jsRefuses(variables)) return;
          refused++;
          expect(await jitRefuses(variables)).toBe(true);
        }),
        { numRuns: 400 },
      );
      // The mutations reach refusals often enough for the property to say something.
      expect(refused).toBeGreaterThan(40);
    });
  }
});
