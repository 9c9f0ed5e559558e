// Random command sequences against a Ledger with a controllable clock, shared by the property tests.
import fc from "fast-check";
import { publishCatalogDir } from "../../src/catalog-dir.js";
import type { PublishCommand } from "../../src/domain/decide.js";
import { LedgerError } from "../../src/domain/errors.js";
import type { Actor } from "../../src/domain/events.js";
import { DAY_MS } from "../../src/domain/time.js";
import { Ledger } from "../../src/ledger.js";
import { SqliteStorage } from "../../src/storage/sqlite/sqlite-storage.js";
import { TestClock as ManualClock } from "./clock.js";
import { type OfflineReport, type VerifyOfflineOptions, verifyOffline } from "../../src/rights/verify-offline.js";
import { commandProgram } from "../../src/application/handle-command.js";

export const SUBJECTS = ["alice", "bob", "carol"] as const;
export const START = Date.parse("2025-03-01T00:00:00.000Z");
export const OFFICER: Actor = { kind: "OFFICER", id: "officer" };
export const SYSTEM: Actor = { kind: "SYSTEM", id: "test" };
export const subjectActor = (id: string): Actor => ({ kind: "SUBJECT", id });

/** A clock the test moves by hand, starting at START. */
export class TestClock extends ManualClock {
  constructor(t: number = START) {
    super(t);
  }
}

/** A ledger on the SQLite adapter (":memory:" or a file). */
export async function newLedger(clock: TestClock, databasePath = ":memory:"): Promise<Ledger> {
  return Ledger.open(await SqliteStorage.open({ commands: commandProgram, path: databasePath }), { clock: clock.now });
}

/** A ledger on an existing SQLite file (no clock of its own). */
export async function openSqliteLedgerAt(path: string): Promise<Ledger> {
  return Ledger.open(await SqliteStorage.open({ commands: commandProgram, path }));
}

/** The offline check of a database file, as `npm run cli -- verify` runs it. */
export async function verifyFile(path: string, opts: VerifyOfflineOptions = {}): Promise<OfflineReport> {
  const storage = await SqliteStorage.open({ path, readonly: true });
  try {
    return await verifyOffline(storage, path, opts);
  } finally {
    await storage.close();
  }
}

/** The SQLite adapter's parts under a ledger, for tests that inspect the adapter itself. */
export const sqlite = (ledger: Ledger) => (ledger.storage as SqliteStorage).internals;

export async function ledgerWithCatalog(clock: TestClock = new TestClock(), databasePath = ":memory:") {
  const ledger = await newLedger(clock, databasePath);
  await publishCatalogDir(ledger, "data/policies");
  return { ledger, clock };
}


/** Purposes of the shipped policy (v1), with one REQUIRED so that some withdrawals are refused. */
const V1_PURPOSES = ["location", "linked-accounts", "access-analytics", "traffic-analysis", "service-provision"] as const;
/** v2 drops linked-accounts and adds newsletter. */
const V2_PURPOSES = ["location", "newsletter", "access-analytics", "traffic-analysis"] as const;

/** A second version of the shipped policy, built from the first. */
export function secondVersion(ledger: Ledger, requiresConsent: boolean, effectiveAt: number): PublishCommand {
  const v1 = ledger.catalog.get("clavis-privacy")!.versions[0]!;
  return {
    policyId: v1.policyId,
    title: v1.title,
    overrides: null,
    effectiveAt,
    requiresConsent,
    documentUrl: null,
    digest: "b".repeat(64),
    changeSummary: "v2",
    purposes: [
      ...v1.purposes.filter((p) => p.id !== "linked-accounts"),
      { id: "newsletter", title: "Newsletter", description: null, mode: "OPT_IN", basis: "CONSENT", dataCategories: ["contact"], recipients: [], consentTtlDays: 30 },
    ],
  };
}

export type Command =
  | { kind: "consent"; subject: number; version: 1 | 2; accept: boolean; grant: string[]; withdraw: string[]; backdateMs: number; ip: boolean }
  | { kind: "suspend" | "resume" | "leave" | "erase"; subject: number }
  | { kind: "openRequest"; subject: number; requestKind: "DISCLOSURE" | "CORRECTION" | "DELETION" | "SUSPENSION"; scoped: boolean }
  | { kind: "extendRequest"; subject: number; nth: number; days: number }
  | { kind: "merge"; subject: number; into: number }
  | { kind: "transfer"; subject: number; basis: "CONSENT" | "OUTSOURCING" }
  | { kind: "recordDue" }
  | { kind: "verifyRequest"; subject: number; nth: number }
  | { kind: "closeRequest"; subject: number; nth: number; fulfilled: boolean }
  | { kind: "publishV2"; requiresConsent: boolean; effectiveInDays: number };

const subject = fc.nat({ max: SUBJECTS.length - 1 });
const consent = fc.record({
  kind: fc.constant("consent" as const),
  subject,
  version: fc.constantFrom(1 as const, 1 as const, 2 as const),
  accept: fc.boolean(),
  grant: fc.subarray([...new Set([...V1_PURPOSES, ...V2_PURPOSES])], { maxLength: 3 }),
  withdraw: fc.subarray([...new Set([...V1_PURPOSES, ...V2_PURPOSES])], { maxLength: 2 }),
  // Mostly now, sometimes back-dated within the past year, rarely a little ahead (clock skew).
  backdateMs: fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 3, arbitrary: fc.integer({ min: 1, max: 365 * DAY_MS }) }, { weight: 1, arbitrary: fc.integer({ min: -4 * 60_000, max: -1 }) }),
  ip: fc.boolean(),
});
export const command: fc.Arbitrary<Command> = fc.oneof(
  { weight: 8, arbitrary: consent },
  { weight: 1, arbitrary: fc.record({ kind: fc.constantFrom("suspend" as const, "resume" as const, "leave" as const, "erase" as const), subject }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("openRequest" as const),
      subject,
      requestKind: fc.constantFrom("DISCLOSURE" as const, "CORRECTION" as const, "DELETION" as const, "SUSPENSION" as const),
      scoped: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("extendRequest" as const), subject, nth: fc.nat(3), days: fc.integer({ min: 1, max: 30 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("merge" as const), subject, into: subject }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("transfer" as const), subject, basis: fc.constantFrom("CONSENT" as const, "OUTSOURCING" as const) }) },
  { weight: 1, arbitrary: fc.constant({ kind: "recordDue" as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("verifyRequest" as const), subject, nth: fc.nat(3) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("closeRequest" as const), subject, nth: fc.nat(3), fulfilled: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("publishV2" as const), requiresConsent: fc.boolean(), effectiveInDays: fc.integer({ min: -30, max: 30 }) }) },
);

/** Batches of commands; the commands of a batch start in the same tick and share a group commit. */
export const commandBatches = fc.array(fc.record({ advanceMs: fc.integer({ min: 0, max: 3 * DAY_MS }), commands: fc.array(command, { minLength: 1, maxLength: 4 }) }), {
  minLength: 1,
  maxLength: 10,
});

async function start(ledger: Ledger, clock: TestClock, c: Command): Promise<unknown> {
  if (c.kind === "publishV2") {
    if (ledger.catalog.get("clavis-privacy")!.versions.length > 1) return Promise.resolve();
    return ledger.publishPolicyVersion(secondVersion(ledger, c.requiresConsent, clock.t + c.effectiveInDays * DAY_MS), SYSTEM);
  }
  if (c.kind === "recordDue") return ledger.recordDueChanges();
  const id = SUBJECTS[c.subject]!;
  switch (c.kind) {
    case "consent":
      return ledger.recordConsent(
        id,
        {
          policyId: null,
          policyVersion: c.version,
          acceptPolicy: c.accept,
          grant: c.grant,
          withdraw: c.withdraw.filter((p) => !c.grant.includes(p)),
          occurredAt: c.backdateMs === 0 ? null : clock.t - c.backdateMs,
          evidence: c.ip ? { ipAddress: "192.0.2.1", userAgent: "test" } : null,
          expectedVersion: null,
        },
        subjectActor(id),
      );
    case "suspend":
      return ledger.suspendProcessing(id, "asked", OFFICER);
    case "resume":
      return ledger.resumeProcessing(id, OFFICER);
    case "leave":
      return ledger.leaveService(id, subjectActor(id));
    case "erase":
      return ledger.eraseSubject(id, "asked", OFFICER);
    case "openRequest":
      return ledger.openDataRequest(
        id,
        { kind: c.requestKind, note: "a note", ...(c.scoped && c.requestKind === "SUSPENSION" ? { purposeIds: ["location", "access-analytics"] } : {}) },
        subjectActor(id),
      );
    case "merge":
      return ledger.mergeSubjects(id, SUBJECTS[c.into]!, OFFICER);
    case "transfer":
      // The shipped catalogue's one recipient: the analytics module's provider.
      return ledger.recordThirdPartyTransfer(
        {
          subjectIds: [id],
          direction: "PROVIDED",
          counterpartyId: "google-analytics",
          purposeId: c.basis === "CONSENT" ? "external-analytics" : null,
          dataCategories: ["usage"],
          basis: c.basis,
          occurredAt: null,
          note: null,
        },
        OFFICER,
      );
    case "extendRequest": {
      const requests = [...(await ledger.subject(id)).dataRequests.values()];
      const r = requests[c.nth % Math.max(1, requests.length)];
      if (!r) return Promise.resolve();
      return ledger.extendDataRequest(r.id, c.days, "more time to gather the records", OFFICER);
    }
    case "verifyRequest":
    case "closeRequest": {
      const requests = [...(await ledger.subject(id)).dataRequests.values()];
      const r = requests[c.nth % Math.max(1, requests.length)];
      if (!r) return Promise.resolve();
      return c.kind === "verifyRequest" ? ledger.verifyDataRequestIdentity(r.id, "passport", OFFICER) : ledger.closeDataRequest(r.id, c.fulfilled, null, OFFICER);
    }
  }
}

/** Runs the batches; refusals (LedgerError) are expected and ignored, anything else is a failure. */
export async function run(ledger: Ledger, clock: TestClock, batches: readonly { advanceMs: number; commands: readonly Command[] }[]): Promise<{ accepted: number; refused: number }> {
  let accepted = 0;
  let refused = 0;
  for (const b of batches) {
    clock.advance(b.advanceMs);
    const outcomes = await Promise.allSettled(
      b.commands.map((c) => {
        try {
          return start(ledger, clock, c);
        } catch (e) {
          return Promise.reject(e);
        }
      }),
    );
    for (const o of outcomes) {
      if (o.status === "fulfilled") accepted++;
      else if (o.reason instanceof LedgerError && o.reason.code !== "STORE_UNAVAILABLE") refused++;
      else throw o.reason;
    }
  }
  return { accepted, refused };
}
