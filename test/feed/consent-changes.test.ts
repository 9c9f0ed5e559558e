// The change feed's before/after come from the read models bounded by log position; they must be the fold's.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Catalog } from "../../src/domain/catalog.js";
import { decideAll, viewOf } from "../../src/domain/permission.js";
import { type SubjectState, consentKey, evolve, initialSubject } from "../../src/domain/subject.js";
import type { LedgerEvent } from "../../src/domain/events.js";
import type { Ledger } from "../../src/ledger.js";
import { consentChangesOf, isConsentAffecting, versionEffectOf, withDropped } from "../../src/feed/consent-changes.js";
import { DAY_MS } from "../../src/domain/time.js";
import { TestClock, commandBatches, ledgerWithCatalog, run } from "../support/ledger-commands.js";

/**
 * The reference: fold the subject's stream up to each event and compare every decision before and
 * after. An expiry is time-driven (the grant is EXPIRED from its expiry on, whether or not the
 * ConsentExpired is recorded yet), so its change is the one purpose's decision just before the
 * expiry against the decision at it, as the ledger knew them when the expiry was recorded.
 */
function byFold(ledger: Ledger, events: readonly LedgerEvent[]) {
  const decisions = (s: SubjectState, e: LedgerEvent, catalog = ledger.catalogAt(e.recordedAt), at = e.recordedAt) => {
    const asOf = { at, knownAt: e.recordedAt };
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
    if (e.type === "ConsentExpired") {
      const key = consentKey(e.data.policyId, e.data.purposeId);
      const only = (m: ReturnType<typeof decisions>) => new Map([...m].filter(([k]) => k === key));
      diff(e.position, only(decisions(next, e, undefined, e.occurredAt - 1)), only(decisions(next, e, undefined, e.occurredAt)));
      continue;
    }
    diff(e.position, decisions(s, e), decisions(next, e));
  }
  return out;
}

/** The feed's changes for everything `batches` recorded, checked against the fold's; resolves to how many changes and expiries there were. */
async function feedAgainstFold(batches: Batches): Promise<{ changes: number; expiries: number }> {
  const { ledger, clock } = await ledgerWithCatalog(new TestClock());
  try {
    await run(ledger, clock, batches);
    const events = await ledger.events(0, Number.MAX_SAFE_INTEGER);
    const got = (await consentChangesOf(ledger, events)).map((c) => ({
      position: c.event.position,
      key: consentKey(c.current.policyId, c.current.purposeId),
      previous: c.previous?.status ?? null,
      current: { status: c.current.status, permitted: c.current.permitted, reason: c.current.reason },
    }));
    expect(got).toEqual(byFold(ledger, events));
    return { changes: got.length, expiries: events.filter((e) => e.type === "ConsentExpired").length };
  } finally {
    await ledger.close();
  }
}

type Batches = typeof commandBatches extends fc.Arbitrary<infer T> ? T : never;
const LOCATION_TTL_MS = 365 * DAY_MS;
const consent = (subject: number, grant: string[], backdateMs: number) => ({ kind: "consent" as const, subject, version: 1 as const, accept: grant.length > 0, grant, withdraw: [], backdateMs, ip: false });

/**
 * A suspended subject's location grant expires and the expiry is recorded at its very instant: the
 * status goes from GRANTED to EXPIRED while `permitted` stays false, a change (found by the property).
 */
const suspendedSubjectsExpiry: Batches = [
  { advanceMs: 0, commands: [consent(0, ["location"], 31_273_635_813), { kind: "suspend", subject: 0 }] },
  { advanceMs: 57_868_315, commands: [consent(0, [], 0)] },
  { advanceMs: 204_495_872, commands: [{ kind: "recordDue" }, consent(0, [], 0)] },
];
/** An active subject's grant expires and its expiry is recorded a day late: GRANTED (permitted) to EXPIRED, reported at the expiry. */
const expiryRecordedLate: Batches = [
  { advanceMs: 0, commands: [consent(1, ["location", "access-analytics"], LOCATION_TTL_MS - DAY_MS)] },
  { advanceMs: DAY_MS, commands: [consent(1, [], 0)] },
  { advanceMs: DAY_MS, commands: [{ kind: "recordDue" }, consent(1, ["access-analytics"], 0)] },
];

/**
 * The same commands with every back-dated consent granting location within the last four days of the
 * grant's lifetime, and the expiries due recorded three days after the last batch, so that expiries
 * fall due and are recorded (with back-dating over the whole year they almost never are), some while
 * the commands run. About one run in five records one.
 */
const nearExpiry: fc.Arbitrary<Batches> = commandBatches.map((batches) => [
  ...batches.map((b) => ({
    ...b,
    commands: b.commands.map((c) =>
      c.kind === "consent" && c.backdateMs > 0
        ? { ...c, grant: [...new Set([...c.grant, "location"])], backdateMs: LOCATION_TTL_MS - (c.backdateMs % (4 * DAY_MS)) }
        : c,
    ),
  })),
  { advanceMs: 3 * DAY_MS, commands: [{ kind: "recordDue" as const }] },
]);

describe("consent changes", () => {
  it("are exactly the fold's, event by event, after any sequence of commands", async () => {
    let changes = 0;
    await fc.assert(
      fc.asyncProperty(commandBatches, async (batches) => {
        changes += (await feedAgainstFold(batches)).changes;
      }),
      { numRuns: 40, examples: [[suspendedSubjectsExpiry], [expiryRecordedLate]] },
    );
    expect(changes).toBeGreaterThan(40);
  });

  it("report each expiry once, at its ConsentExpired, whether it changes `permitted` or only the status", async () => {
    for (const batches of [suspendedSubjectsExpiry, expiryRecordedLate]) {
      const { ledger, clock } = await ledgerWithCatalog(new TestClock());
      try {
        await run(ledger, clock, batches);
        const events = await ledger.events(0, Number.MAX_SAFE_INTEGER);
        const expired = events.filter((e) => e.type === "ConsentExpired");
        expect(expired.map((e) => e.data)).toEqual([expect.objectContaining({ policyId: "clavis-privacy", purposeId: "location" })]);
        const location = (await consentChangesOf(ledger, events)).filter((c) => c.current.purposeId === "location");
        const suspended = batches === suspendedSubjectsExpiry;
        expect(location.at(-1)).toMatchObject({
          event: { position: expired[0]!.position },
          previous: { status: "GRANTED", permitted: !suspended },
          current: { status: "EXPIRED", permitted: false, reason: suspended ? "SUBJECT_SUSPENDED" : "EXPIRED" },
        });
        expect(location.filter((c) => c.current.status === "EXPIRED")).toHaveLength(1);
      } finally {
        await ledger.close();
      }
    }
  });

  it("are exactly the fold's when grants expire while the commands run", async () => {
    let expiries = 0;
    await fc.assert(
      fc.asyncProperty(nearExpiry, async (batches) => {
        expiries += (await feedAgainstFold(batches)).expiries;
      }),
      { numRuns: 60 },
    );
    expect(expiries).toBeGreaterThan(0);
  });
});
