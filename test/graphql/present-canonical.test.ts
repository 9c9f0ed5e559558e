// An event's `canonical` is built when asked for, and once per presented event however many aliases
// (or messages of a replay) select it: it is the chain's canonical content, unchanged.
import { describe, expect, it } from "vitest";
import type { LedgerEvent } from "../../src/domain/events.js";
import { presentEvent } from "../../src/graphql/present.js";
import { canonicalJson, hashedContent } from "../../src/log/canonical.js";

function event(): { e: LedgerEvent; reads: () => number } {
  let reads = 0;
  const data = { policyId: "p", number: 1, title: "t" };
  const e = {
    id: "ev-1",
    position: 7,
    streamId: "policy:p",
    streamVersion: 1,
    schemaVersion: 1,
    subjectId: null,
    recordedAt: 1_700_000_000_000,
    occurredAt: 1_700_000_000_000,
    actor: { kind: "SYSTEM", id: "seed" },
    type: "PolicyAnnounced",
    prevHash: "0".repeat(64),
    hash: "1".repeat(64),
    get data() {
      reads++;
      return data;
    },
  } as unknown as LedgerEvent;
  return { e, reads: () => reads };
}

describe("presentEvent's canonical", () => {
  it("is the chain's canonical content, built only when asked for and then once", () => {
    const { e, reads } = event();
    const presented = presentEvent(e);
    expect(reads()).toBe(0);
    const all = Array.from({ length: 20 }, () => presented.canonical);
    expect(reads()).toBe(1);
    expect(new Set(all)).toEqual(new Set([canonicalJson(hashedContent(e))]));
  });
});
