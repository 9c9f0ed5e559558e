// The emitted schema carries every type, field, argument and default that CONTRACT.md §3 fixes.
import { readFileSync } from "node:fs";
import {
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLInputField,
  type GraphQLNamedType,
  buildSchema as buildSdl,
  isEnumType,
  isInputObjectType,
  isObjectType,
} from "graphql";
import { beforeAll, describe, expect, it } from "vitest";
import { buildLedgerSchema } from "../src/graphql/schema.js";

const contract = readFileSync(new URL("../../shared/spec/CONTRACT.md", import.meta.url), "utf8");
const sdl = /```graphql\n([\s\S]*?)```/.exec(contract)![1]!;
const fixed = buildSdl(sdl);
const contractTypes = Object.values(fixed.getTypeMap()).filter((t) => !t.name.startsWith("__") && !["String", "Boolean", "Int", "Float", "ID"].includes(t.name));

const argShape = (a: GraphQLArgument | GraphQLInputField) => `${a.name}: ${String(a.type)}${a.defaultValue === undefined ? "" : ` = ${JSON.stringify(a.defaultValue)}`}`;

describe("the emitted schema against the contract", () => {
  let ours: Record<string, GraphQLNamedType>;
  beforeAll(async () => {
    ours = (await buildLedgerSchema()).getTypeMap();
  });

  it("has every contract type", () => {
    expect(contractTypes.map((t) => t.name).filter((n) => !ours[n])).toEqual([]);
  });

  it.each(contractTypes.map((t) => [t.name, t] as const))("%s has the contract's fields, arguments and values", (name, t) => {
    const mine = ours[name]!;
    if (isEnumType(t)) {
      expect(isEnumType(mine) && mine.getValues().map((v) => v.name).sort()).toEqual(t.getValues().map((v) => v.name).sort());
    } else if (isObjectType(t)) {
      expect(isObjectType(mine)).toBe(true);
      const fields = isObjectType(mine) ? mine.getFields() : {};
      for (const f of Object.values(t.getFields()) as GraphQLField<unknown, unknown>[]) {
        const m = fields[f.name];
        expect(m ? String(m.type) : "missing", `${name}.${f.name}`).toBe(String(f.type));
        expect(m?.args.map(argShape).sort(), `${name}.${f.name} arguments`).toEqual(f.args.map(argShape).sort());
      }
    } else if (isInputObjectType(t)) {
      expect(isInputObjectType(mine)).toBe(true);
      const fields = isInputObjectType(mine) ? mine.getFields() : {};
      for (const f of Object.values(t.getFields())) {
        const m = fields[f.name];
        expect(m ? argShape(m) : "missing", `${name}.${f.name}`).toBe(argShape(f));
      }
    }
  });
});
