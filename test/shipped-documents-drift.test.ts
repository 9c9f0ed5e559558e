import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { SHIPPED_DOCUMENTS } from "../src/graphql/shipped-documents.js";
import { sha256Hex } from "../src/graphql/trusted-documents.js";

// graphql-codegen writes these (persistedDocuments in codegen.json) before the tests run (npm test).
const SOURCES = ["src/web/gql/persisted-documents.json", "client/src/gql/persisted-documents.json"];

describe("src/graphql/shipped-documents.ts", () => {
  it("holds exactly the pages' and the client library's operations as codegen emits them (run `npm run emit-trusted-documents` after changing one)", () => {
    const missing = SOURCES.filter((f) => !existsSync(f));
    expect(missing, "run `npx graphql-codegen --config codegen.json` first").toEqual([]);
    const emitted: Record<string, string> = {};
    for (const f of SOURCES)
      for (const [key, text] of Object.entries(JSON.parse(readFileSync(f, "utf8")) as Record<string, string>)) emitted[key.replace(/^sha256:/, "")] = text;
    expect(SHIPPED_DOCUMENTS).toEqual(emitted);
    for (const [hash, text] of Object.entries(SHIPPED_DOCUMENTS)) expect(sha256Hex(text)).toBe(hash);
  });
});
