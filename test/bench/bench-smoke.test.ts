// The bench functions at tiny sizes: they run, count what they wrote, and give positive rates (no timing asserted).
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { chainInputs, rawHash, timedIntegrity } from "../../bench/integrity.js";
import { fmtRatio } from "../../bench/util.js";
import { chainHash } from "../../src/log/canonical.js";
import { EVENTS_PER_SUBJECT, openLedger, populate } from "../../bench/populate.js";
import { rawRead, timedRebuild } from "../../bench/rebuild.js";
import { renderResults } from "../../bench/run.js";
import { rawInsertLoop, storeAppends } from "../../bench/store-append.js";
import { median, percentile, tempDir } from "../../bench/util.js";
import { sqlite } from "../support/ledger-commands.js";

let cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups) c();
  cleanups = [];
});
const dir = () => {
  const t = tempDir();
  cleanups.push(t.cleanup);
  return t.dir;
};

describe("bench helpers", () => {
  it("median and percentile pick the middle and the nearest rank", () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(percentile([10, 20, 30, 40, 50, 60, 70, 80, 90, 100], 50)).toBe(50);
    expect(percentile([10, 20, 30, 40, 50, 60, 70, 80, 90, 100], 99)).toBe(100);
  });
});

describe("store-append bench", () => {
  it("the raw loop and the store each write exactly the appends asked for, at a positive rate", async () => {
    const d = dir();
    expect(rawInsertLoop(join(d, "raw.db"), 64, 32)).toBeGreaterThan(0);
    // storeAppends throws when the store holds another count than it was asked to append.
    const grouped = await storeAppends(join(d, "store.db"), 64, 32);
    const single = await storeAppends(join(d, "single.db"), 8, 1);
    expect(grouped).toBeGreaterThan(0);
    expect(single).toBeGreaterThan(0);
  });
});

describe("rebuild and integrity benches", () => {
  it("replay and verify every event populate appended, and the raw baselines see the same count", async () => {
    const ledger = await openLedger(join(dir(), "ledger.db"));
    try {
      const appended = await populate(ledger, 10 * EVENTS_PER_SUBJECT, 16);
      expect(appended).toBe(10 * EVENTS_PER_SUBJECT);
      const total = sqlite(ledger).store.eventCount(); // plus the shipped catalogue's publication
      const rebuild = await timedRebuild(ledger);
      const raw = rawRead(ledger);
      expect(rebuild.events).toBe(total);
      expect(raw.rows).toBe(total);
      // Each figure is a rate over the events it reports: finite, and the ratio the bench prints is one.
      for (const rate of [rebuild.perSecond, raw.perSecond]) expect(Number.isFinite(rate) && rate > 0).toBe(true);
      expect(fmtRatio(rebuild.perSecond / raw.perSecond)).toMatch(/^\d+\.\d\dx$/);
      const integrity = await timedIntegrity(ledger);
      expect(integrity).toMatchObject({ ok: true, events: total });
      const inputs = chainInputs(ledger);
      expect(inputs).toHaveLength(total);
      // The baseline hashes the very bytes the chain covers: hashing them again ends at the head's hash.
      let last = inputs[0]![0];
      for (const [prev, content] of inputs) {
        expect(prev).toBe(last);
        last = chainHash(prev, content);
      }
      expect(last).toBe((await ledger.head())!.hash);
      expect(fmtRatio(integrity.perSecond / rawHash(inputs))).toMatch(/^\d+\.\d\dx$/);
    } finally {
      await ledger.close();
    }
  });
});

describe("the results file", () => {
  it("lists every row with its ratio and verdict, and the machine it ran on", () => {
    const md = renderResults(
      [
        { bench: "x", what: "a figure", figure: "10 ops/s", baseline: "20 ops/s", ratio: 0.5, aim: ">= 0.4x", met: true, how: "somehow" },
        { bench: "y", what: "a peer", figure: "not measured: no network", baseline: "—", ratio: null, aim: ">= 5x", met: null, how: "", note: "no network" },
      ],
      { quick: true, seconds: 1, runs: 1 },
    );
    expect(md).toContain("| a figure | 10 ops/s | 20 ops/s | 0.50x | >= 0.4x | met |");
    expect(md).toContain("| a peer | not measured: no network | — | — | >= 5x | not measured |");
    expect(md).toMatch(/\d+ cores \(os\.cpus\(\)\.length\)/);
    expect(md).toContain(`node ${process.version}`);
  });
});
