import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { buildLedgerSchema, printLedgerSchema } from "../src/graphql/schema.js";

describe("schema.graphql", () => {
  it("is exactly what the code emits (run `npm run emit-schema` after changing the API)", async () => {
    const emitted = printLedgerSchema(await buildLedgerSchema());
    expect(readFileSync("schema.graphql", "utf8")).toBe(emitted);
  });
});
