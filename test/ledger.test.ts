// The application service: concurrency, idempotency, time travel, erasure and restarts, end to end on SQLite.
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { publishCatalogDir, readCatalogDir } from "../src/catalog-dir.js";
import { DAY_MS } from "../src/domain/time.js";
import type { LedgerEvent } from "../src/domain/events.js";
import { Ledger } from "../src/ledger.js";
import { OFFICER, SYSTEM, TestClock, ledgerWithCatalog, newLedger, secondVersion, subjectActor, sqlite } from "./support/ledger-commands.js";
import { projectionRows } from "./support/sqlite-tables.js";
import { tempDir } from "./support/common.js";

type ConsentInput = Parameters<Ledger["recordConsent"]>[1];
const input = (over: Partial<ConsentInput> = {}): ConsentInput => ({
  policyId: null,
  policyVersion: 1,
  acceptPolicy: false,
  grant: [],
  withdraw: [],
  occurredAt: null,
  evidence: null,
  expectedVersion: null,
  ...over,
});
const alice = subjectActor("alice");
const ticks = (n: number) => new Promise<void>((resolve) => (n <= 0 ? resolve() : setImmediate(() => void ticks(n - 1).then(resolve))));

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
async function memoryLedger(clock = new TestClock()) {
  const { ledger } = await ledgerWithCatalog(clock);
  cleanups.push(() => ledger.close());
  return ledger;
}
function dbPath(): string {
  const { dir, cleanup } = tempDir();
  cleanups.push(cleanup);
  return join(dir, "ledger.db");
}

describe("writers racing on one subject with expectedVersion", () => {
  it("50 writers in the same tick: one wins version 0, the others get VERSION_CONFLICT", async () => {
    const ledger = await memoryLedger();
    const before = sqlite(ledger).store.eventCount();
    const outcomes = await Promise.allSettled(
      Array.from({ length: 50 }, (_, i) => ledger.recordConsent("alice", input({ acceptPolicy: true, grant: i % 2 ? ["location"] : [], expectedVersion: 0 }), alice)),
    );
    const won = outcomes.filter((o) => o.status === "fulfilled");
    const lost = outcomes.filter((o): o is PromiseRejectedResult => o.status === "rejected");
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(49);
    for (const l of lost) expect(l.reason).toMatchObject({ code: "VERSION_CONFLICT" });
    const winnerEvents = won[0]!.value.events;
    expect(sqlite(ledger).store.eventCount() - before).toBe(winnerEvents.length);
    expect(sqlite(ledger).store.readStream("subject:alice")).toEqual(winnerEvents);
    expect(sqlite(ledger).projections.subject("alice").version).toBe(winnerEvents.length);
  });

  it("writers spread over several ticks on a file database: exactly one winner per version (each call appends a withdrawal; re-accepting would append nothing)", async () => {
    const ledger = await newLedger(new TestClock(), dbPath());
    cleanups.push(() => ledger.close());
    await publishCatalogDir(ledger, "data/policies");
    const before = sqlite(ledger).store.eventCount();
    // Six waves of ten writers, each wave spread over a few ticks: a wave's writers read the version
    // the earlier waves left (a commit may land between any two of them) and race for the next one.
    const attempts: { expectedVersion: number; events: LedgerEvent[] | null }[] = [];
    for (let wave = 0; wave < 6; wave++) {
      const settled = await Promise.all(
        Array.from({ length: 10 }, async (_, i) => {
          await ticks(i % 7);
          const expectedVersion = sqlite(ledger).projections.subject("alice").version;
          try {
            const r = await ledger.recordConsent("alice", input({ withdraw: ["access-analytics"], expectedVersion }), alice);
            return { expectedVersion, events: r.events };
          } catch (e) {
            expect(e).toMatchObject({ code: "VERSION_CONFLICT" });
            return { expectedVersion, events: null };
          }
        }),
      );
      attempts.push(...settled);
    }
    const winners = attempts.filter((a) => a.events !== null);
    const final = sqlite(ledger).projections.subject("alice").version;
    expect(winners.length).toBeGreaterThan(1);
    expect(winners.length).toBeLessThan(60);
    // Each version was won once, and each winner's events continue from the version it expected.
    expect(winners.map((w) => w.expectedVersion).sort((a, b) => a - b)).toEqual(Array.from({ length: final }, (_, v) => v));
    for (const w of winners) expect(w.events!.map((e) => e.streamVersion)).toEqual([w.expectedVersion + 1]);
    expect(sqlite(ledger).store.eventCount() - before).toBe(winners.reduce((n, w) => n + w.events!.length, 0));
    expect(sqlite(ledger).store.readStream("subject:alice").map((e) => e.streamVersion)).toEqual(Array.from({ length: final }, (_, v) => v + 1));
    expect((await ledger.integrity()).ok).toBe(true);
  });

  it("one refused command in a group commit does not fail the others", async () => {
    const ledger = await memoryLedger();
    const exec = vi.spyOn(sqlite(ledger).store.db, "exec");
    const before = sqlite(ledger).store.eventCount();
    const outcomes = await Promise.allSettled([
      ledger.recordConsent("alice", input({ acceptPolicy: true, grant: ["location"] }), alice),
      ledger.recordConsent("bob", input({ acceptPolicy: true, grant: ["location", "telepathy"] }), subjectActor("bob")),
      ledger.recordConsent("carol", input({ acceptPolicy: true }), subjectActor("carol")),
      ledger.recordConsent("dave", input({ grant: ["location"] }), subjectActor("dave")),
    ]);
    expect(outcomes.map((o) => (o.status === "fulfilled" ? "ok" : (o.reason as { code: string }).code))).toEqual(["ok", "UNKNOWN_PURPOSE", "ok", "POLICY_NOT_ACCEPTED"]);
    expect(exec.mock.calls.filter(([sql]) => sql === "COMMIT")).toHaveLength(1);
    expect(sqlite(ledger).store.eventCount() - before).toBe(3);
    expect(sqlite(ledger).store.readStream("subject:bob")).toEqual([]);
    expect(sqlite(ledger).store.readStream("subject:dave")).toEqual([]);
    expect(sqlite(ledger).projections.subject("bob").version).toBe(0);
    expect((await ledger.permission("alice", "location", null))).toMatchObject({ permitted: true });
    expect((await ledger.integrity()).ok).toBe(true);
  });

  it("concurrent publications of one policy get consecutive version numbers", async () => {
    const clock = new TestClock();
    const ledger = await memoryLedger(clock);
    const v2 = secondVersion(ledger, false, clock.t);
    const published = await Promise.all([ledger.publishPolicyVersion(v2, SYSTEM), ledger.publishPolicyVersion({ ...v2, digest: "c".repeat(64) }, SYSTEM)]);
    expect(published.map((v) => v.number)).toEqual([2, 3]);
    expect(ledger.catalog.get("clavis-privacy")!.versions.map((v) => v.number)).toEqual([1, 2, 3]);
    expect(sqlite(ledger).store.readStream("policy:clavis-privacy").map((e) => (e.data as { number: number }).number)).toEqual([1, 2, 3]);
  });
});

describe("idempotency keys", () => {
  it("the same key with the same input returns the first call's events and appends nothing", async () => {
    const ledger = await memoryLedger();
    const first = await ledger.recordConsent("alice", input({ acceptPolicy: true, grant: ["location"] }), alice, "k1");
    const count = sqlite(ledger).store.eventCount();
    const again = await ledger.recordConsent("alice", input({ acceptPolicy: true, grant: ["location"] }), alice, "k1");
    expect(again.replayed).toBe(true);
    expect(first.replayed).toBe(false);
    expect(again.events).toEqual(first.events);
    expect(sqlite(ledger).store.eventCount()).toBe(count);
  });

  it("the same key with other input is IDEMPOTENCY_CONFLICT and appends nothing", async () => {
    const ledger = await memoryLedger();
    await ledger.recordConsent("alice", input({ acceptPolicy: true }), alice, "k1");
    const count = sqlite(ledger).store.eventCount();
    await expect(ledger.recordConsent("alice", input({ acceptPolicy: true, grant: ["location"] }), alice, "k1")).rejects.toMatchObject({ code: "IDEMPOTENCY_CONFLICT" });
    await expect(ledger.recordConsent("alice", input({ acceptPolicy: true }), { kind: "SERVICE", id: "import" }, "k1")).rejects.toMatchObject({ code: "IDEMPOTENCY_CONFLICT" });
    expect(sqlite(ledger).store.eventCount()).toBe(count);
  });

  it("a replay works after the subject's version moved on", async () => {
    const ledger = await memoryLedger();
    const call = input({ acceptPolicy: true, grant: ["location"], expectedVersion: 0 });
    const first = await ledger.recordConsent("alice", call, alice, "k1");
    await ledger.recordConsent("alice", input({ withdraw: ["location"] }), alice);
    const count = sqlite(ledger).store.eventCount();
    const again = await ledger.recordConsent("alice", call, alice, "k1");
    expect(again.events).toEqual(first.events);
    // The first call's payload: the subject as that call left it (version 2), not as it is now (3).
    expect(again.subject.version).toBe(2);
    expect(again.subject).toEqual(first.subject);
    expect(sqlite(ledger).store.eventCount()).toBe(count);
  });

  it("the same key sent twice in one tick is recorded once", async () => {
    const ledger = await memoryLedger();
    const count = sqlite(ledger).store.eventCount();
    const [a, b] = await Promise.all([
      ledger.recordConsent("alice", input({ acceptPolicy: true }), alice, "k1"),
      ledger.recordConsent("alice", input({ acceptPolicy: true }), alice, "k1"),
    ]);
    expect(b.events).toEqual(a.events);
    expect(sqlite(ledger).store.eventCount()).toBe(count + 1);
  });

  it("a key belongs to one subject", async () => {
    const ledger = await memoryLedger();
    const a = await ledger.recordConsent("alice", input({ acceptPolicy: true }), alice, "k1");
    const b = await ledger.recordConsent("bob", input({ acceptPolicy: true }), alice, "k1");
    expect(b.replayed).toBe(false);
    expect(b.events[0]!.id).not.toBe(a.events[0]!.id);
  });

  it("a refused call does not use up its key", async () => {
    const ledger = await memoryLedger();
    await expect(ledger.recordConsent("alice", input({ grant: ["location"] }), alice, "k1")).rejects.toMatchObject({ code: "POLICY_NOT_ACCEPTED" });
    await ledger.recordConsent("alice", input({ acceptPolicy: true }), alice);
    const r = await ledger.recordConsent("alice", input({ grant: ["location"] }), alice, "k1");
    expect(r.replayed).toBe(false);
    expect(r.events.map((e) => e.type)).toEqual(["ConsentGranted"]);
  });
});

describe("reads in time", () => {
  it("expiry is evaluated at read time, without any event", async () => {
    const clock = new TestClock();
    const ledger = await memoryLedger(clock);
    await ledger.recordConsent("alice", input({ acceptPolicy: true, grant: ["location"] }), alice);
    const count = sqlite(ledger).store.eventCount();
    expect((await ledger.permission("alice", "location", null))).toMatchObject({ permitted: true, reason: "GRANTED", expiresAt: clock.t + 365 * DAY_MS });
    clock.advance(365 * DAY_MS - 1);
    expect((await ledger.permission("alice", "location", null))).toMatchObject({ permitted: true, reason: "GRANTED" });
    clock.advance(1);
    expect((await ledger.permission("alice", "location", null))).toMatchObject({ permitted: false, reason: "EXPIRED", status: "EXPIRED" });
    expect(sqlite(ledger).store.eventCount()).toBe(count);
  });

  it("a read as of now stays a present read when the clock ticks before it starts: the current read models answer", async () => {
    // Once ticking, every reading of the clock is a millisecond later, as on a loaded machine.
    let ticking = false;
    const clock = new (class extends TestClock {
      override readonly now = () => (ticking ? this.t++ : this.t);
    })();
    const ledger = await memoryLedger(clock);
    await ledger.recordConsent("alice", input({ acceptPolicy: true, grant: ["location"] }), alice);
    const current = vi.spyOn(ledger.storage, "currentView");
    const past = vi.spyOn(ledger.storage, "viewAt");
    ticking = true;
    expect(await ledger.permission("alice", "location", null)).toMatchObject({ permitted: true, reason: "GRANTED" });
    expect(current).toHaveBeenCalledTimes(1);
    expect(past).not.toHaveBeenCalled();
    // An instant in the past is still read from the bitemporal tables.
    await ledger.permission("alice", "location", null, clock.t - 10);
    expect(past).toHaveBeenCalledTimes(1);
  });

  it("a back-dated import neither overrides a later withdrawal nor shows before it was recorded", async () => {
    const clock = new TestClock();
    const ledger = await memoryLedger(clock);
    const t0 = clock.t;
    await ledger.recordConsent("alice", input({ acceptPolicy: true, occurredAt: t0 - 10 * DAY_MS }), alice);
    await ledger.recordConsent("alice", input({ withdraw: ["location"] }), alice);
    clock.advance(DAY_MS);
    await ledger.recordConsent("alice", input({ grant: ["location"], occurredAt: t0 - 5 * DAY_MS }), { kind: "SERVICE", id: "import" });
    const location = async (at: number, knownAt: number) => (await ledger.consents("alice", null, ledger.asOf(at, knownAt))).find((d) => d.purposeId === "location")!;
    expect((await ledger.permission("alice", "location", null))).toMatchObject({ permitted: false, reason: "WITHDRAWN" });
    expect(await location(t0 - DAY_MS, clock.t)).toMatchObject({ permitted: true, reason: "GRANTED", since: t0 - 5 * DAY_MS });
    expect((await ledger.permission("alice", "location", null, t0 - DAY_MS))).toMatchObject({ permitted: true, reason: "GRANTED" });
    expect(await location(t0 - DAY_MS, t0)).toMatchObject({ permitted: false, reason: "NOT_GRANTED" });
    expect(await location(t0 - 20 * DAY_MS, clock.t)).toMatchObject({ permitted: false, reason: "POLICY_NOT_ACCEPTED" });
  });

  it("a grant dated a few minutes ahead counts only from then", async () => {
    const clock = new TestClock();
    const ledger = await memoryLedger(clock);
    await ledger.recordConsent("alice", input({ acceptPolicy: true }), alice);
    await ledger.recordConsent("alice", input({ grant: ["location"], occurredAt: clock.t + 4 * 60_000 }), alice);
    expect((await ledger.permission("alice", "location", null))).toMatchObject({ permitted: false, reason: "NOT_GRANTED" });
    clock.advance(4 * 60_000);
    expect((await ledger.permission("alice", "location", null))).toMatchObject({ permitted: true, reason: "GRANTED" });
    await expect(ledger.recordConsent("alice", input({ grant: ["location"], occurredAt: clock.t + 5 * 60_000 + 1 }), alice)).rejects.toMatchObject({ code: "BAD_USER_INPUT" });
  });

  it("a new version requiring consent sends v1 acceptors to re-consent once it takes effect", async () => {
    const clock = new TestClock();
    const ledger = await memoryLedger(clock);
    await ledger.recordConsent("alice", input({ acceptPolicy: true }), alice);
    await ledger.publishPolicyVersion(secondVersion(ledger, true, clock.t + DAY_MS), SYSTEM);
    const standing = async () => (await ledger.standings("alice", ledger.asOf()))[0]!;
    expect(await standing()).toMatchObject({ acceptedVersion: 1, applicable: { number: 1 }, pending: null });
    expect((await ledger.reconsentPending("clavis-privacy", "", 10))).toEqual([]);
    clock.advance(DAY_MS);
    expect(await standing()).toMatchObject({ applicable: { number: 1 }, pending: { number: 2 }, reconsentVersion: { number: 2 } });
    expect((await ledger.reconsentPending("clavis-privacy", "", 10))).toEqual(["alice"]);
    await expect(ledger.recordConsent("alice", input({ policyVersion: 2, grant: ["newsletter"] }), alice)).rejects.toMatchObject({ code: "POLICY_NOT_ACCEPTED" });
    await ledger.recordConsent("alice", input({ policyVersion: 2, acceptPolicy: true, grant: ["newsletter"] }), alice);
    expect(await standing()).toMatchObject({ acceptedVersion: 2, applicable: { number: 2 }, pending: null });
    expect((await ledger.permission("alice", "linked-accounts", null))).toMatchObject({ reason: "NOT_IN_APPLICABLE_POLICY" });
    expect((await ledger.permission("alice", "newsletter", null))).toMatchObject({ permitted: true, reason: "GRANTED" });
  });
});

describe("erasure and data requests", () => {
  it("erasure makes evidence unreadable while the consent facts and the chain stay", async () => {
    const ledger = await memoryLedger();
    const r = await ledger.recordConsent("alice", input({ acceptPolicy: true, grant: ["location"], evidence: { ipAddress: "203.0.113.9", userAgent: "UA" } }), alice);
    expect(JSON.stringify(sqlite(ledger).store.readStream("subject:alice"))).not.toContain("203.0.113.9");
    expect((await ledger.reveal(r.events[1]!)).evidence).toEqual({ ipAddress: "203.0.113.9", userAgent: "UA" });
    await ledger.eraseSubject("alice", "asked", OFFICER);
    expect((await ledger.reveal(r.events[1]!))).toMatchObject({ purposeId: "location", version: 1, evidence: { erased: true } });
    expect(sqlite(ledger).vault.hasKey("alice")).toBe(false);
    expect((await ledger.permission("alice", "location", null))).toMatchObject({ permitted: false, reason: "SUBJECT_ERASED" });
    await expect(ledger.recordConsent("alice", input({ acceptPolicy: true }), alice)).rejects.toMatchObject({ code: "SUBJECT_INACTIVE" });
    expect((await ledger.integrity()).ok).toBe(true);
  });

  it("erasure drops the subject's idempotency digests (they cover its evidence) and no one else's", async () => {
    const ledger = await memoryLedger();
    const ev = { evidence: { ipAddress: "198.51.100.4" } };
    await ledger.recordConsent("alice", input({ acceptPolicy: true, ...ev }), alice, "k-alice");
    await ledger.recordConsent("bob", input({ acceptPolicy: true, ...ev }), subjectActor("bob"), "k-bob");
    const keys = () => sqlite(ledger).store.db.prepare("SELECT stream_id FROM idempotency ORDER BY stream_id").pluck().all();
    expect(keys()).toEqual(["subject:alice", "subject:bob"]);
    await ledger.eraseSubject("alice", null, OFFICER);
    expect(keys()).toEqual(["subject:bob"]);
  });

  it("fulfilling a verified DELETION request erases the subject; early fulfilment is refused", async () => {
    const ledger = await memoryLedger();
    await ledger.recordConsent("alice", input({ acceptPolicy: true, evidence: { ipAddress: "203.0.113.9" } }), alice);
    const req = await ledger.openDataRequest("alice", { kind: "DELETION", note: "please" }, alice);
    const count = sqlite(ledger).store.eventCount();
    await expect(ledger.closeDataRequest(req.id, true, null, OFFICER)).rejects.toMatchObject({ code: "IDENTITY_NOT_VERIFIED" });
    expect(sqlite(ledger).store.eventCount()).toBe(count);
    await ledger.verifyDataRequestIdentity(req.id, "passport", OFFICER);
    const closed = await ledger.closeDataRequest(req.id, true, "done", OFFICER);
    expect(closed).toMatchObject({ status: "FULFILLED" });
    expect(sqlite(ledger).projections.subject("alice").status).toBe("ERASED");
    expect(sqlite(ledger).vault.hasKey("alice")).toBe(false);
    await expect(ledger.closeDataRequest("nope", true, null, OFFICER)).rejects.toMatchObject({ code: "NOT_FOUND" });
  });

  it("fulfilling a SUSPENSION request suspends processing", async () => {
    const ledger = await memoryLedger();
    await ledger.recordConsent("alice", input({ acceptPolicy: true }), alice);
    const req = await ledger.openDataRequest("alice", { kind: "SUSPENSION", note: null }, alice);
    await ledger.verifyDataRequestIdentity(req.id, "email", OFFICER);
    await ledger.closeDataRequest(req.id, true, null, OFFICER);
    expect(sqlite(ledger).store.readStream("subject:alice").map((e) => e.type).slice(-2)).toEqual(["DataRequestClosed", "ProcessingSuspended"]);
    expect((await ledger.permission("alice", "service-provision", null))).toMatchObject({ permitted: false, reason: "SUBJECT_SUSPENDED" });
    expect((await ledger.permission("alice", "policy-notices", null))).toMatchObject({ permitted: true, reason: "REQUIRED_FOR_SERVICE" });
  });

  it("no-op lifecycle commands append nothing", async () => {
    const ledger = await memoryLedger();
    await ledger.suspendProcessing("alice", null, OFFICER);
    const count = sqlite(ledger).store.eventCount();
    await ledger.suspendProcessing("alice", null, OFFICER);
    await ledger.leaveService("bob", subjectActor("bob"));
    const afterLeave = sqlite(ledger).store.eventCount();
    await ledger.leaveService("bob", subjectActor("bob"));
    expect(afterLeave).toBe(count + 1);
    expect(sqlite(ledger).store.eventCount()).toBe(afterLeave);
    await expect(ledger.resumeProcessing("bob", OFFICER)).rejects.toMatchObject({ code: "SUBJECT_INACTIVE" });
  });
});

describe("a ledger on a file, across restarts", () => {
  it("keeps events, head, projections and catalogue; publishes the catalogue once", async () => {
    const path = dbPath();
    const clock = new TestClock();
    const first = await newLedger(clock, path);
    expect(await publishCatalogDir(first, "data/policies")).toBe(1);
    await first.recordConsent("alice", input({ acceptPolicy: true, grant: ["location"], evidence: { ipAddress: "203.0.113.9" } }), alice);
    const req = await first.openDataRequest("alice", { kind: "DISCLOSURE", note: "n" }, alice);
    const events = sqlite(first).store.readAll(0, 100);
    const head = sqlite(first).store.head();
    const subject = sqlite(first).projections.subject("alice");
    const dump = projectionRows(first);
    await first.close();

    clock.advance(DAY_MS);
    const second = await newLedger(clock, path);
    cleanups.push(() => second.close());
    expect(await publishCatalogDir(second, "data/policies")).toBe(0);
    expect(sqlite(second).store.readAll(0, 100)).toEqual(events);
    expect(sqlite(second).store.head()).toEqual(head);
    expect(sqlite(second).projections.subject("alice")).toEqual(subject);
    expect(projectionRows(second)).toEqual(dump);
    expect((await second.dataRequest(req.id))).toEqual(req);
    expect(second.catalog.get("clavis-privacy")!.versions.map((v) => v.number)).toEqual([1]);
    expect((await second.permission("alice", "location", null))).toMatchObject({ permitted: true, reason: "GRANTED" });
    expect((await second.reveal(events.find((e) => e.type === "ConsentGranted")!)).evidence).toEqual({ ipAddress: "203.0.113.9" });
    expect((await second.integrity())).toMatchObject({ ok: true, eventCount: events.length });
  });

  it("publishes a catalogue file with a new version number and a changed document as that version, once", async () => {
    const ledger = await memoryLedger();
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    mkdirSync(join(dir, "policies"));
    const v1 = JSON.parse(readFileSync("data/policies/clavis-privacy.v1.json", "utf8")) as Record<string, unknown>;
    writeFileSync(join(dir, "policies", "clavis-privacy.v2.json"), JSON.stringify({ ...v1, version: 2, requiresConsent: false, effectiveAt: "2024-01-01T00:00:00Z" }));
    writeFileSync(join(dir, "privacy-policy.ja.txt"), `${readFileSync("data/privacy-policy.ja.txt", "utf8")}\n改定`);
    expect(await publishCatalogDir(ledger, join(dir, "policies"))).toBe(1);
    expect(await publishCatalogDir(ledger, join(dir, "policies"))).toBe(0);
    expect(await publishCatalogDir(ledger, "data/policies")).toBe(0);
    const versions = ledger.catalog.get("clavis-privacy")!.versions;
    expect(versions.map((v) => v.number)).toEqual([1, 2]);
    expect(versions[1]!.digest).toBe(readCatalogDir(join(dir, "policies"))[0]!.digest);
    expect(versions[1]!.documentText).toBe(`${readFileSync("data/privacy-policy.ja.txt", "utf8")}\n改定`);
  });

  it("refuses a file whose version number the ledger holds with another text, and one numbered past the next version, publishing nothing", async () => {
    const ledger = await memoryLedger();
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const count = sqlite(ledger).store.eventCount();
    mkdirSync(join(dir, "policies"));
    copyFileSync("data/policies/clavis-privacy.v1.json", join(dir, "policies", "clavis-privacy.v1.json"));
    writeFileSync(join(dir, "privacy-policy.ja.txt"), `${readFileSync("data/privacy-policy.ja.txt", "utf8")}\n改定`);
    await expect(publishCatalogDir(ledger, join(dir, "policies"))).rejects.toThrow(
      /^catalogue .*clavis-privacy\.v1\.json: version 1 of clavis-privacy is already published with another text \(digest [0-9a-f]{12}…, the file's [0-9a-f]{12}…\); give the edited text a new version number$/,
    );
    const v1 = JSON.parse(readFileSync("data/policies/clavis-privacy.v1.json", "utf8")) as Record<string, unknown>;
    writeFileSync(join(dir, "policies", "clavis-privacy.v1.json"), JSON.stringify({ ...v1, version: 3, requiresConsent: true }));
    await expect(publishCatalogDir(ledger, join(dir, "policies"))).rejects.toThrow(
      /the file is version 3 of clavis-privacy, but the next version the ledger would publish is 2$/,
    );
    expect(sqlite(ledger).store.eventCount()).toBe(count);
    expect(ledger.catalog.get("clavis-privacy")!.versions).toHaveLength(1);
  });
});

describe("opening a ledger", () => {
  it("knows a publication that committed while it read the catalogue, delivered before it listened", async () => {
    const { ledger: source } = await ledgerWithCatalog();
    const [first] = await source.storage.publications();
    if (first?.type !== "PolicyVersionPublished") throw new Error("the shipped catalogue has no publication");
    // Another replica's publication commits after the read's snapshot; this replica's pump delivers it
    // while the read is still in flight.
    const listeners = new Set<(events: readonly LedgerEvent[]) => void>();
    const storage = new Proxy(source.storage, {
      get(target, prop, receiver) {
        if (prop === "onCommit")
          return (l: (events: readonly LedgerEvent[]) => void) => {
            listeners.add(l);
            return () => listeners.delete(l);
          };
        if (prop === "publications")
          return async () => {
            for (const l of listeners) l([first]);
            return [];
          };
        if (prop === "head") return async () => null;
        return Reflect.get(target, prop, receiver) as unknown;
      },
    });
    const ledger = await Ledger.open(storage);
    expect(ledger.catalog.get(first.data.policyId)?.versions.map((v) => v.digest)).toEqual([first.data.digest]);
  });
});
