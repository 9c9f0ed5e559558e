// A storage adapter without a transparency log (PostgreSQL): the log's queries refuse clearly, nothing crashes.
import "reflect-metadata";
import { describe, expect, it } from "vitest";
import type { GraphQLContext } from "../../src/graphql/context.js";
import { TransparencyResolver } from "../../src/graphql/resolvers/transparency-resolver.js";

const ctx = { caller: { subject: "auditor", scopes: new Set(["ledger:read"]), expiresAt: null }, services: { transparency: null } } as unknown as GraphQLContext;

describe("the transparency log's queries on an adapter that keeps no tree", () => {
  it("answer TRANSPARENCY_UNAVAILABLE", async () => {
    const r = new TransparencyResolver();
    expect(() => r.ledgerCheckpoint(ctx)).toThrow(expect.objectContaining({ code: "TRANSPARENCY_UNAVAILABLE" }));
    await expect(r.inclusionProof("e1", ctx)).rejects.toMatchObject({ code: "TRANSPARENCY_UNAVAILABLE" });
    expect(() => r.consistencyProof(1, ctx)).toThrow(expect.objectContaining({ code: "TRANSPARENCY_UNAVAILABLE" }));
  });
});
