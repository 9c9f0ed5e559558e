// What the due-changes migrations (SQLite 6, PostgreSQL 4) are tested on: a ledger holding a grant
// about to expire, a version about to take effect, a suspension and a request, and what the upgraded
// ledger must then find and record.
import { expect } from "vitest";
import type { SubjectState } from "../../src/domain/subject.js";
import { DAY_MS } from "../../src/domain/time.js";
import type { Ledger } from "../../src/ledger.js";
import { OFFICER, SYSTEM, type TestClock, secondVersion, subjectActor } from "./ledger-commands.js";

export interface DueSeed {
  /** alice as the ledger held her before the downgrade. */
  before: SubjectState;
  /** When her 365-day location grant expires (a day after the seed). */
  expiresAt: number;
  /** When the second version takes effect (two days after the seed). */
  v2At: number;
}

/** Writes the seed into a ledger with the shipped catalogue published. */
export async function seedDueChanges(ledger: Ledger, clock: TestClock): Promise<DueSeed> {
  await ledger.recordConsent(
    "alice",
    { policyId: null, policyVersion: 1, acceptPolicy: true, grant: ["location"], withdraw: [], occurredAt: clock.t - 364 * DAY_MS, evidence: null, expectedVersion: null },
    subjectActor("alice"),
  );
  const v2At = clock.t + 2 * DAY_MS;
  await ledger.publishPolicyVersion(secondVersion(ledger, false, v2At), SYSTEM);
  await ledger.suspendProcessing("alice", "asked", OFFICER);
  await ledger.openDataRequest("alice", { kind: "DISCLOSURE", note: null }, subjectActor("alice"));
  const before = await ledger.subject("alice");
  return { before, expiresAt: before.consents.get("clavis-privacy\u0000location")!.expiresAt!, v2At };
}

/**
 * Asserts on the upgraded ledger, three days after the seed: alice reads as before with the new request
 * columns at their defaults, and the expiry and the version's effect are each found and recorded once.
 */
export async function expectDueChangesRecordedOnce(upgraded: Ledger, seed: DueSeed): Promise<void> {
  const alice = await upgraded.subject("alice");
  expect(alice).toEqual({ ...seed.before, dataRequests: alice.dataRequests });
  expect([...alice.dataRequests.values()][0]).toMatchObject({ purposeIds: null, closingNote: null, identityLabel: null });
  expect(await upgraded.nextDue()).toBe(seed.expiresAt);
  expect(await upgraded.recordDueChanges()).toBe(2);
  expect(await upgraded.recordDueChanges()).toBe(0);
  const due = await upgraded.events(0, 1000, { types: ["ConsentExpired", "PolicyVersionEffective"] });
  expect(due.map((e) => [e.type, e.occurredAt])).toEqual([
    ["PolicyVersionEffective", seed.v2At],
    ["ConsentExpired", seed.expiresAt],
  ]);
  expect(await upgraded.nextDue()).toBeNull();
}
