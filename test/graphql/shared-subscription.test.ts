// subscribeShared: one execution per source value and sharing group; separate ones across visibility and operations.
import { GraphQLObjectType, GraphQLSchema, GraphQLString, type ExecutionResult, parse } from "graphql";
import { describe, expect, it } from "vitest";
import type { Caller } from "../../src/auth/scopes.js";
import type { GraphQLContext } from "../../src/graphql/context.js";
import { operationKeyOf, personalSubjectOf, sharingKey, subscribeShared } from "../../src/graphql/shared-subscription.js";

interface Value {
  subjectId: string | null;
  text: string;
}

/** A schema whose one subscription yields the values pushed to `source`, counting the selection's executions. */
function fixture(values: Value[]) {
  let executions = 0;
  const Item = new GraphQLObjectType({
    name: "Item",
    fields: {
      text: {
        type: GraphQLString,
        resolve: (v: Value) => {
          executions++;
          return v.text;
        },
      },
    },
  });
  const schema = new GraphQLSchema({
    query: new GraphQLObjectType({ name: "Query", fields: { x: { type: GraphQLString } } }),
    subscription: new GraphQLObjectType({
      name: "Subscription",
      fields: {
        items: {
          type: Item,
          args: { after: { type: GraphQLString } },
          subscribe: async function* () {
            yield* values;
          },
          resolve: (v: Value) => v,
        },
      },
    }),
  });
  return { schema, executions: () => executions };
}

const caller = (subject: string, scopes: string): Caller => ({ subject, scopes: new Set(scopes.split(" ")), expiresAt: null });
const context = (c: Caller) => ({ caller: c }) as unknown as GraphQLContext;

async function collect(schema: GraphQLSchema, query: string, c: Caller): Promise<ExecutionResult[]> {
  const document = parse(query);
  const it = await subscribeShared({ schema, document, contextValue: context(c) }, operationKeyOf(document, { query }));
  if (!(Symbol.asyncIterator in it)) throw new Error(JSON.stringify(it));
  const out: ExecutionResult[] = [];
  for await (const r of it) out.push(r);
  return out;
}

describe("subscribeShared", () => {
  it("executes a value once for subscribers of one operation who see the same personal data, and hands them the same result", async () => {
    const values = [{ subjectId: "s1", text: "a" }, { subjectId: "s2", text: "b" }];
    const { schema, executions } = fixture(values);
    const q = "subscription { items { text } }";
    const first = await collect(schema, q, caller("svc-1", "consent:read"));
    const second = await collect(schema, q, caller("svc-2", "consent:read"));
    expect(executions()).toBe(2);
    expect(second).toEqual([{ data: { items: { text: "a" } } }, { data: { items: { text: "b" } } }]);
    expect(second[0]).toBe(first[0]);
  });

  it("executes separately for another visibility, another query text or other variables", async () => {
    const values = [{ subjectId: "s1", text: "a" }];
    const { schema, executions } = fixture(values);
    const q = "subscription { items { text } }";
    await collect(schema, q, caller("svc", "consent:read"));
    await collect(schema, q, caller("s1", "consent:self")); // the subject sees its own evidence
    await collect(schema, q, caller("auditor", "ledger:read"));
    await collect(schema, "subscription { items { t: text } }", caller("svc", "consent:read"));
    expect(executions()).toBe(3);
    const named = "subscription A { items { text } } subscription B { items { text } }";
    expect(operationKeyOf(parse(named), { query: named, operationName: "A" })).not.toBe(operationKeyOf(parse(named), { query: named, operationName: "B" }));
  });

  it("keeps in the key the variables a message depends on, and leaves out those only the root field's arguments use", () => {
    const q = `subscription($after: String, $t: Boolean!, $f: Boolean!, $r: Boolean!) {
      items(after: $after) @include(if: $r) { text @include(if: $t) ...F }
    }
    fragment F on Item { t2: text @skip(if: $f) }`;
    const key = (variables: Record<string, unknown>) => operationKeyOf(parse(q), { query: q, variables });
    const base = { after: "0000000000000001", t: true, f: false, r: true };
    expect(key({ ...base, after: "0000000000000042" })).toBe(key(base));
    expect(key({ ...base, after: null })).toBe(key(base));
    expect(key({ ...base, t: false })).not.toBe(key(base));
    expect(key({ ...base, f: true })).not.toBe(key(base));
    expect(key({ ...base, r: false })).not.toBe(key(base));
    const other = "subscription($after: String) { items(after: $after) { t: text } }";
    expect(operationKeyOf(parse(other), { query: other, variables: { after: "1" } })).not.toBe(key(base));
  });

  it("reads a consent change's visibility from its event, which names no subject when a version came into effect", () => {
    const effect = { subjectId: "s1", event: { subjectId: null, type: "PolicyVersionEffective" } };
    const own = { subjectId: "s1", event: { subjectId: "s1", type: "ConsentGranted" } };
    expect(personalSubjectOf(effect)).toBeNull();
    expect(personalSubjectOf(own)).toBe("s1");
    expect(personalSubjectOf({ subjectId: "s2", type: "ConsentGranted" })).toBe("s2");
    const self = context(caller("s1", "consent:self"));
    const reader = context(caller("svc", "consent:read"));
    const auditor = context(caller("auditor", "ledger:read"));
    expect(sharingKey("op", self, effect)).toBe(sharingKey("op", reader, effect));
    expect(sharingKey("op", self, own)).not.toBe(sharingKey("op", reader, own));
    expect(sharingKey("op", self, own)).toBe(sharingKey("op", auditor, own));
    expect(sharingKey("op", self, own)).not.toBe(sharingKey("other", self, own));
  });
});
