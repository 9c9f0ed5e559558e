// The change feed's before/after come from the read models bounded by log position; they must be the fold's.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Catalog } from "../../src/domain/catalog.js";
import { decideAll, viewOf } from "../../src/domain/permission.js";
import { type SubjectState, consentKey, evolve, initialSubject } from "../../src/domain/subject.js";
import type { LedgerEvent } from "../../src/domain/events.js";
import type { Ledger } from "../../src/ledger.js";
import { consentChangesOf, isConsentAffecting, versionEffectOf, withDropped } from "../../src/feed/consent-changes.js";
import { TestClock, commandBatches, ledgerWithCatalog, run } from "../support/ledger-commands.js";

/** The reference: fold the subject's stream up to each event and compare every decision before and after. */
function byFold(ledger: Ledger, events: readonly LedgerEvent[]) {
  const decisions = (s: SubjectState, e: LedgerEvent, catalog = ledger.catalogAt(e.recordedAt)) => {
    const asOf = { at: e.recordedAt, knownAt: e.recordedAt };
    const out = new Map<string, { status: string; permitted: boolean; reason: string }>();
    for (const p of catalog.policies())
      for (const d of decideAll(catalog, viewOf(s), p.id, asOf)) {
        const k = consentKey(d.policyId, d.purposeId);
        if (!out.has(k)) out.set(k, { status: d.status, permitted: d.permitted, reason: d.reason });
      }
    return out;
  };
  const out: { position: number; key: string; previous: string | null; current: { status: string; permitted: boolean; reason: string } }[] = [];
  const states = new Map<string, SubjectState>();
  const diff = (position: number, before: ReturnType<typeof decisions>, after: ReturnType<typeof decisions>) => {
    for (const [key, d] of [...after].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const p = before.get(key);
      if (!p || p.status !== d.status || p.permitted !== d.permitted) out.push({ position, key, previous: p?.status ?? null, current: d });
    }
  };
  for (const e of events) {
    // A version coming into effect: every subject who had accepted the policy, the catalogue without it against with it.
    const effect = versionEffectOf(e);
    if (effect) {
      const full = ledger.catalogAt(e.recordedAt);
      const without = Catalog.of(full.policies().flatMap((p) => p.versions).filter((v) => !(v.policyId === effect.policyId && v.number === effect.version)));
      for (const [, s] of [...states].sort(([a], [b]) => (a < b ? -1 : 1)))
        if ((s.acceptances.get(effect.policyId)?.version ?? 0) > 0) {
          const asOf = { at: e.recordedAt, knownAt: e.recordedAt };
          const before = decisions(s, e, without);
          // A purpose the version dropped is reported too, decided under the new catalogue.
          const after = decisions(s, e, full);
          const dropped = withDropped(full, viewOf(s), asOf, new Map([...before].map(([k]) => [k, { policyId: k.split("\u0000")[0]!, purposeId: k.split("\u0000")[1]! } as never])), new Map());
          for (const [k, d] of dropped) if (!after.has(k)) after.set(k, { status: d.status, permitted: d.permitted, reason: d.reason });
          diff(e.position, before, after);
        }
      continue;
    }
    if (e.subjectId === null) continue;
    const s = states.get(e.subjectId) ?? initialSubject(e.subjectId);
    const next = evolve(s, e);
    states.set(e.subjectId, next);
    if (!isConsentAffecting(e)) continue;
    diff(e.position, decisions(s, e), decisions(next, e));
  }
  return out;
}

describe("consent changes", () => {
  it("are exactly the fold's, event by event, after any sequence of commands", async () => {
    let changes = 0;
    await fc.assert(
      fc.asyncProperty(commandBatches, async (batches) => {
        const { ledger, clock } = await ledgerWithCatalog(new TestClock());
        await run(ledger, clock, batches);
        const events = (await ledger.events(0, Number.MAX_SAFE_INTEGER));
        const got = (await consentChangesOf(ledger, events)).map((c) => ({
          position: c.event.position,
          key: consentKey(c.current.policyId, c.current.purposeId),
          previous: c.previous?.status ?? null,
          current: { status: c.current.status, permitted: c.current.permitted, reason: c.current.reason },
        }));
        expect(got).toEqual(byFold(ledger, events));
        changes += got.length;
        await ledger.close();
      }),
      { numRuns: 40 },
    );
    expect(changes).toBeGreaterThan(40);
  });
});
