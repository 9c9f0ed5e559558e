// A statement written out with its values as literals (to travel with BEGIN or COMMIT in one round
// trip) means exactly what the parameterised statement means: every value reaches PostgreSQL as it
// was, whatever quotes, backslashes or placeholders it holds.
import fc from "fast-check";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inlineParams } from "../../../src/storage/postgres/store/inline-sql.js";
import { freshDatabase } from "../../support/postgres.js";

describe("inlineParams", () => {
  let client: pg.Client;

  beforeAll(async () => {
    client = new pg.Client({ connectionString: await freshDatabase() });
    await client.connect();
  });
  afterAll(async () => {
    await client?.end();
  });

  const SQL = "SELECT $1::text AS s, $2::bigint AS n, $3::text[] AS a, $4::bytea AS b, $5::boolean AS t, $6::text AS z, $7::bigint[] AS ns";

  it("round-trips strings, numbers, arrays, bytes, booleans and null as the parameterised statement does", async () => {
    const text = fc.string({ unit: "binary" }).map((s) => s.replace(/\u0000/g, ""));
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(text, fc.constantFrom("'; DROP TABLE x; --", "\\'", "$1", "E'\\\\'", "$$", "''")),
        fc.integer({ min: -(2 ** 52), max: 2 ** 52 }),
        fc.array(text, { maxLength: 4 }),
        fc.uint8Array({ maxLength: 40 }),
        fc.boolean(),
        fc.array(fc.integer(), { maxLength: 4 }),
        async (s, n, a, b, t, ns) => {
          const values = [s, n, a, Buffer.from(b), t, null, ns];
          const [literal, bound] = await Promise.all([client.query(inlineParams(SQL, values)), client.query(SQL, values)]);
          expect(literal.rows[0]).toEqual(bound.rows[0]);
          expect(literal.rows[0].s).toBe(s);
          expect(literal.rows[0].a).toEqual(a);
        },
      ),
      { numRuns: 60 },
    );
  });

  it("travels in one simple query with the statements around it", async () => {
    const results = (await client.query(`BEGIN; ${inlineParams("SELECT $1::text AS s", ["it's"])}; COMMIT`)) as unknown as pg.QueryResult[];
    expect(results.map((r) => r.command)).toEqual(["BEGIN", "SELECT", "COMMIT"]);
    expect(results[1]!.rows).toEqual([{ s: "it's" }]);
  });

  it("refuses a placeholder without a value and a value it cannot write", () => {
    expect(() => inlineParams("SELECT $2", [1])).toThrow(/no value for \$2/);
    expect(() => inlineParams("SELECT $1", [Number.NaN])).toThrow();
    expect(() => inlineParams("SELECT $1", [{}])).toThrow();
  });
});
