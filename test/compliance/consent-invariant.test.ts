// The invariant of consent-requiring changes, on SQLite and PostgreSQL: over random catalogues and
// histories, no OPT_IN purpose of any subject becomes permitted without a grant by that subject.
// Each run publishes its own policy (and subjects) in one ledger per backend; versions that need
// consent but say they do not are refused (CONSENT_REQUIRED_CHANGE), and that is what keeps it.
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ConsentMode, Purpose } from "../../src/domain/catalog.js";
import { LedgerError } from "../../src/domain/errors.js";
import { DAY_MS } from "../../src/domain/time.js";
import { Ledger } from "../../src/ledger.js";
import { PostgresStorage } from "../../src/storage/postgres/postgres-storage.js";
import { SqliteStorage } from "../../src/storage/sqlite/sqlite-storage.js";
import type { StoragePort } from "../../src/storage/storage-port.js";
import { freshDatabase } from "../support/postgres.js";
import { OFFICER, START, TestClock, subjectActor } from "../support/ledger-commands.js";
import { commandProgram } from "../../src/application/handle-command.js";

const PURPOSES = ["a", "b", "c"] as const;
const SUBJECTS = 2;

type VersionSpec = { requiresConsent: boolean; effectiveInDays: number; modes: (ConsentMode | null)[]; thirdParty: boolean[] };
type Step =
  | { kind: "publish"; spec: VersionSpec }
  | { kind: "accept"; subject: number; version: number; grant: boolean[] }
  | { kind: "withdraw"; subject: number; purpose: number }
  | { kind: "advance"; days: number };

const mode = fc.constantFrom<ConsentMode | null>("OPT_IN", "OPT_OUT", "REQUIRED", null);
const versionSpec = fc.record({
  requiresConsent: fc.boolean(),
  effectiveInDays: fc.integer({ min: -3, max: 6 }),
  modes: fc.array(mode, { minLength: PURPOSES.length, maxLength: PURPOSES.length }),
  thirdParty: fc.array(fc.boolean(), { minLength: PURPOSES.length, maxLength: PURPOSES.length }),
});
const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("publish" as const), spec: versionSpec }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("accept" as const),
      subject: fc.nat(SUBJECTS - 1),
      version: fc.integer({ min: 1, max: 6 }),
      grant: fc.array(fc.boolean(), { minLength: PURPOSES.length, maxLength: PURPOSES.length }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("withdraw" as const), subject: fc.nat(SUBJECTS - 1), purpose: fc.nat(PURPOSES.length - 1) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("advance" as const), days: fc.integer({ min: 1, max: 4 }) }) },
);

const purposesOf = (spec: VersionSpec): Purpose[] =>
  PURPOSES.flatMap((id, i) => {
    const m = spec.modes[i]!;
    if (m === null) return [];
    const recipients = spec.thirdParty[i] ? [{ id: `tp-${id}`, name: "Third party", kind: "THIRD_PARTY" as const, country: "JP", privacyPolicyUrl: null }] : [];
    return [{ id, title: id, description: null, mode: m, basis: m === "OPT_IN" ? "CONSENT" : "CONTRACT", dataCategories: ["profile"], recipients, consentTtlDays: null }];
  });

/** Runs one history; returns the violations found (empty when the invariant holds). */
async function runHistory(ledger: Ledger, clock: TestClock, run: number, steps: Step[]): Promise<string[]> {
  const policyId = `inv${run}`;
  const subject = (i: number) => `inv${run}-s${i}`;
  const acted = new Map<string, number[]>();
  /** Each acceptance: when, and which version (accepting a version is consenting to how it asks for each purpose). */
  const acceptances = new Map<string, { at: number; version: number }[]>();
  const first: VersionSpec = { requiresConsent: true, effectiveInDays: 0, modes: ["OPT_IN", "OPT_OUT", "REQUIRED"], thirdParty: [false, false, false] };
  const begin = clock.t;
  let digest = 0;
  const publish = async (spec: VersionSpec) => {
    const purposes = purposesOf(spec);
    if (purposes.length === 0) return;
    const cmd = {
      policyId,
      title: policyId,
      overrides: null,
      effectiveAt: clock.t + spec.effectiveInDays * DAY_MS,
      requiresConsent: spec.requiresConsent,
      documentUrl: null,
      digest: (++digest).toString(16).padStart(64, "0"),
      changeSummary: null,
      purposes,
    };
    try {
      await ledger.publishPolicyVersion(cmd, OFFICER);
    } catch (e) {
      if (!(e instanceof LedgerError) || e.code !== "CONSENT_REQUIRED_CHANGE") throw e;
    }
  };
  await publish(first);
  for (const s of steps) {
    if (s.kind === "advance") clock.advance(s.days * DAY_MS);
    else if (s.kind === "publish") await publish(s.spec);
    else {
      const versions = ledger.catalog.get(policyId)!.versions;
      const v = versions[Math.min(s.kind === "accept" ? s.version : versions.length, versions.length) - 1]!;
      const optIn = v.purposes.filter((p) => p.mode === "OPT_IN").map((p) => p.id);
      const input =
        s.kind === "accept"
          ? { acceptPolicy: true, grant: optIn.filter((id) => s.grant[PURPOSES.indexOf(id as (typeof PURPOSES)[number])]), withdraw: [] }
          : { acceptPolicy: false, grant: [], withdraw: v.purposes.some((p) => p.id === PURPOSES[s.purpose] && p.mode !== "REQUIRED") ? [PURPOSES[s.purpose]!] : [] };
      if (!input.acceptPolicy && input.withdraw.length === 0) continue;
      try {
        await ledger.recordConsent(subject(s.subject), { policyId, policyVersion: v.number, ...input, occurredAt: null, evidence: null, expectedVersion: null }, subjectActor(subject(s.subject)));
        acted.set(subject(s.subject), [...(acted.get(subject(s.subject)) ?? []), clock.t]);
        if (input.acceptPolicy) acceptances.set(subject(s.subject), [...(acceptances.get(subject(s.subject)) ?? []), { at: clock.t, version: v.number }]);
      } catch (e) {
        if (!(e instanceof LedgerError)) throw e;
      }
    }
    clock.advance(60_000);
  }
  // Every half day from the start to well after the last version took effect, as known now.
  const end = clock.t + 10 * DAY_MS;
  const violations: string[] = [];
  for (let i = 0; i < SUBJECTS; i++) {
    const id = subject(i);
    const times = acted.get(id) ?? [];
    const acceptedBy = (at: number) => Math.max(0, ...(acceptances.get(id) ?? []).filter((a) => a.at <= at).map((a) => a.version));
    let previous: { permitted: boolean; reason: string; policyVersion: number | null }[] | null = null;
    let prevAt = 0;
    for (let at = begin - DAY_MS; at <= end; at += DAY_MS / 2) {
      const checks = PURPOSES.map((purposeId) => ({ subjectId: id, purposeId, policyId }));
      const known = checks.filter((c) => ledger.catalog.get(policyId)!.versions.some((v) => v.purposes.some((p) => p.id === c.purposeId)));
      const decisions = await ledger.permissions(known, at);
      const now = PURPOSES.map((p) => decisions[known.findIndex((c) => c.purposeId === p)] ?? { permitted: false, reason: "UNKNOWN", policyVersion: null });
      // A choice of the subject's own between the two instants may change anything; without one, nothing OPT_IN and not
      // granted becomes permitted under a version the subject did not accept (one it accepted ahead of its effect is its consent).
      if (previous && !times.some((t) => t > prevAt && t <= at))
        for (const [k, d] of now.entries())
          if (previous[k]!.reason === "NOT_GRANTED" && d.permitted && d.reason !== "GRANTED" && (d.policyVersion ?? 0) > acceptedBy(at))
            violations.push(`${id} ${PURPOSES[k]}: NOT_GRANTED at ${new Date(prevAt).toISOString()}, then ${d.reason} at ${new Date(at).toISOString()}`);
      previous = now;
      prevAt = at;
    }
  }
  return violations;
}

const BACKENDS: [string, () => Promise<StoragePort>, number][] = [
  ["SQLite", () => SqliteStorage.open({ commands: commandProgram, path: ":memory:" }), 40],
  ["PostgreSQL", async () => PostgresStorage.open({ commands: commandProgram, url: await freshDatabase("invariant") }), 12],
];

describe.each(BACKENDS)("no OPT_IN purpose becomes permitted without a grant, on %s", (_name, open, numRuns) => {
  let ledger: Ledger;
  const clock = new TestClock(START);
  beforeAll(async () => {
    ledger = await Ledger.open(await open(), { clock: clock.now });
  });
  afterAll(() => ledger.close());

  it("over random catalogues and histories", async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 3, maxLength: 14 }), async (steps) => {
        expect(await runHistory(ledger, clock, run++, steps)).toEqual([]);
      }),
      { numRuns, endOnFailure: true },
    );
  }, 300_000);
});
