// The shard model's arithmetic: what it predicts must hold whatever the measured figures are.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type ResultRow, measuredInputs, shardThroughput } from "../../bench/shard-model.js";

const inputs = fc.record({
  perShard: fc.double({ min: 1, max: 1e6, noNaN: true }),
  integrator: fc.oneof(fc.constant(Infinity), fc.double({ min: 1, max: 1e7, noNaN: true })),
  crossShare: fc.double({ min: 0, max: 1, noNaN: true }),
  crossCost: fc.double({ min: 1, max: 10, noNaN: true }),
});

describe("shardThroughput", () => {
  it("one shard is one primary, capped only by the integrator", () => {
    fc.assert(
      fc.property(inputs, (s) => {
        expect(shardThroughput(1, s)).toBe(Math.min(s.perShard, s.integrator));
      }),
    );
  });

  it("never beats N independent primaries nor the integrator, and never falls when shards are added past two", () => {
    fc.assert(
      fc.property(inputs, fc.integer({ min: 2, max: 512 }), (s, n): void => {
        const x = shardThroughput(n, s);
        expect(x).toBeLessThanOrEqual(n * s.perShard * (1 + 1e-9));
        expect(x).toBeLessThanOrEqual(s.integrator);
        expect(shardThroughput(n + 1, s)).toBeGreaterThanOrEqual(x * (1 - 1e-9));
      }),
    );
  });

  it("with no cross-shard commands and no integrator, scales linearly", () => {
    expect(shardThroughput(8, { perShard: 1_000, integrator: Infinity, crossShare: 0, crossCost: 3 })).toBe(8_000);
    // 1% of commands at 3 appends on both shards: 8,000 / (0.99 + 0.06).
    expect(shardThroughput(8, { perShard: 1_000, integrator: Infinity, crossShare: 0.01, crossCost: 3 })).toBeCloseTo(8_000 / 1.05, 6);
  });

  it("refuses a shard count that is not a whole number >= 1", () => {
    for (const n of [0, -1, 1.5, Number.NaN]) expect(() => shardThroughput(n, { perShard: 1, integrator: 1, crossShare: 0, crossCost: 1 })).toThrow();
  });
});

describe("measuredInputs", () => {
  it("reads the sequencer and the plain-INSERT rows, and says what to run when they are missing", () => {
    const rows: ResultRow[] = [
      { bench: "postgres", what: "PostgreSQL sequencer: events ordered per second, 1 event per append", values: { figure: 500, baseline: 3_000 } },
      { bench: "postgres", what: "PostgreSQL sequencer: events ordered per second, 10 events per append", values: { figure: 3_000, baseline: 18_000 } },
      { bench: "transparency", what: "PostgreSQL: Merkle tree integration, leaves/s", values: { sequencer: 100_000 } },
    ];
    expect(measuredInputs(rows)).toEqual({ perShard: 500, integratorBound: 18_000, treeLeaves: 100_000 });
    expect(() => measuredInputs([])).toThrow(/--only postgres/);
  });
});
