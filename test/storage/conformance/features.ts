// What every storage adapter must do, whatever database it drives: each adapter's test file calls
// storageConformance with a factory, and the same behaviours are held for all of them.
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { publishCatalogDir } from "../../../src/catalog-dir.js";
import { decideAll, viewOf } from "../../../src/domain/permission.js";
import type { LedgerEvent } from "../../../src/domain/events.js";
import { foldSubject } from "../../../src/domain/subject.js";
import { DAY_MS } from "../../../src/domain/time.js";
import { KekMismatchError, KekMissingError, WRAPPED_KEY_BYTES, unwrapKey } from "../../../src/evidence/key-wrap.js";
import { openWith } from "../../../src/evidence/seal.js";
import { Ledger } from "../../../src/ledger.js";
import { GENESIS_HASH, canonicalJson, chainHash, hashedContent } from "../../../src/log/canonical.js";
import type { StoragePort } from "../../../src/storage/storage-port.js";
import { OFFICER, SUBJECTS, SYSTEM, TestClock, commandBatches, run, secondVersion, subjectActor } from "../../support/ledger-commands.js";

/** What a store is opened with: the key-encryption key its subject keys are wrapped under (null: none). */
export interface OpenOptions {
  evidenceKek: Uint8Array | null;
}

/** A fresh, empty store; `reopen` (when the adapter is durable) opens the same data again after `close`. */
export interface StorageUnderTest {
  storage: StoragePort;
  reopen: ((opts: OpenOptions) => Promise<StoragePort>) | null;
  /** A subject's key exactly as the database holds it (what a copy of the database reveals). */
  storedKey: (storage: StoragePort, subjectId: string) => Promise<Buffer | null>;
  /** Runs SQL on the store's database behind the ledger's back, as someone holding the database would. */
  sql: (storage: StoragePort, statement: string) => Promise<void>;
  cleanup: () => Promise<void> | void;
}

export type StorageFactory = (opts: OpenOptions) => Promise<StorageUnderTest>;

/** The key-encryption key every store in the suite is opened with, unless a test says otherwise. */
const KEK = Buffer.alloc(32, 0x4b);

const consent = (over: { grant?: string[]; withdraw?: string[]; accept?: boolean; expectedVersion?: number | null; occurredAt?: number | null; ip?: string } = {}) => ({
  policyId: null,
  policyVersion: 1,
  acceptPolicy: over.accept ?? true,
  grant: over.grant ?? [],
  withdraw: over.withdraw ?? [],
  occurredAt: over.occurredAt ?? null,
  evidence: over.ip ? { ipAddress: over.ip } : null,
  expectedVersion: over.expectedVersion ?? null,
});

export function storageConformance(name: string, factory: StorageFactory): void {
  describe(`storage conformance: ${name}`, () => {
    const cleanups: (() => Promise<void> | void)[] = [];
    afterEach(async () => {
      for (const c of cleanups.splice(0).reverse()) await c();
    });

    /** A ledger with the shipped catalogue on a fresh store. */
    async function open(clock = new TestClock(), opts: OpenOptions = { evidenceKek: KEK }) {
      const sut = await factory(opts);
      cleanups.push(sut.cleanup);
      const ledger = await Ledger.open(sut.storage, { clock: clock.now });
      cleanups.push(() => ledger.close());
      await publishCatalogDir(ledger, "data/policies");
      return { ledger, storage: sut.storage, clock, sut };
    }

    async function everything(storage: StoragePort): Promise<LedgerEvent[]> {
      return storage.readAll(0, Number.MAX_SAFE_INTEGER);
    }

    it("appends a command's events after the log's head and reads them back by position, by stream and as the head", async () => {
      const { ledger, storage } = await open();
      const announced: LedgerEvent[][] = [];
      storage.onCommit((events) => announced.push([...events]));
      const before = await storage.head();
      const r = await ledger.recordConsent("alice", consent({ grant: ["location"] }), subjectActor("alice"));
      expect(r.events.map((e) => e.type)).toEqual(["PolicyAccepted", "ConsentGranted"]);
      expect(r.events.map((e) => e.position)).toEqual([before!.position + 1, before!.position + 2]);
      expect(r.events.map((e) => e.streamVersion)).toEqual([1, 2]);
      expect(await storage.readStream("subject:alice")).toEqual(r.events);
      expect(await storage.readAll(before!.position, 10)).toEqual(r.events);
      expect(await storage.head()).toEqual({ position: r.events[1]!.position, hash: r.events[1]!.hash });
      expect(announced.flat()).toEqual(r.events);
      expect((await storage.subject("alice")).version).toBe(2);
    });

    it("lets exactly one of many writers with the same expectedVersion win; the others append nothing", async () => {
      const { ledger, storage } = await open();
      const before = (await everything(storage)).length;
      const outcomes = await Promise.allSettled(
        Array.from({ length: 20 }, (_, i) => ledger.recordConsent("alice", consent({ grant: i % 2 ? ["location"] : [], expectedVersion: 0 }), subjectActor("alice"))),
      );
      const won = outcomes.filter((o) => o.status === "fulfilled");
      expect(won).toHaveLength(1);
      for (const o of outcomes) if (o.status === "rejected") expect(o.reason).toMatchObject({ code: "VERSION_CONFLICT" });
      expect((await everything(storage)).length - before).toBe(won[0]!.value.events.length);
      // The next writer that names the version it read wins.
      await expect(ledger.recordConsent("alice", consent({ grant: ["location"], expectedVersion: won[0]!.value.events.length }), subjectActor("alice"))).resolves.toBeDefined();
    });

    it("replays a call with the same idempotency key and input, and refuses the key with other input", async () => {
      const { ledger, storage } = await open();
      const first = await ledger.recordConsent("alice", consent({ grant: ["location"] }), subjectActor("alice"), "key-1");
      await ledger.recordConsent("alice", consent({ withdraw: ["location"], accept: false }), subjectActor("alice"));
      const count = (await everything(storage)).length;
      const again = await ledger.recordConsent("alice", consent({ grant: ["location"] }), subjectActor("alice"), "key-1");
      expect(again.replayed).toBe(true);
      expect(again.events).toEqual(first.events);
      expect(again.subject.version).toBe(first.subject.version); // as the first call left it
      expect((await everything(storage)).length).toBe(count);
      await expect(ledger.recordConsent("alice", consent({ grant: ["newsletter"] }), subjectActor("alice"), "key-1")).rejects.toMatchObject({
        code: "IDEMPOTENCY_CONFLICT",
      });
      // Another subject's stream has its own keys.
      expect((await ledger.recordConsent("bob", consent(), subjectActor("bob"), "key-1")).replayed).toBe(false);
    });

    it("chains every event to the one before, and the walk finds a log that holds", async () => {
      const { ledger, storage } = await open();
      await ledger.recordConsent("alice", consent({ grant: ["location"], ip: "192.0.2.1" }), subjectActor("alice"));
      await ledger.suspendProcessing("bob", null, OFFICER);
      const events = await everything(storage);
      let prev = GENESIS_HASH;
      events.forEach((e, i) => {
        expect(e.position).toBe(i + 1);
        expect(e.prevHash).toBe(prev);
        expect(e.hash).toBe(chainHash(prev, canonicalJson(hashedContent(e))));
        prev = e.hash;
      });
      expect(await storage.verify()).toEqual({ ok: true, eventCount: events.length, head: { position: events.length, hash: prev }, firstInvalidPosition: null });
    });

    it("keeps its read models equal to the fold of each subject's history, now and as of past instants", async () => {
      await fc.assert(
        fc.asyncProperty(commandBatches, fc.array(fc.tuple(fc.integer({ min: 0, max: 40 * DAY_MS }), fc.integer({ min: 0, max: 40 * DAY_MS })), { minLength: 1, maxLength: 4 }), async (batches, instants) => {
          const clock = new TestClock();
          const { ledger, storage } = await open(clock);
          const start = clock.t;
          await run(ledger, clock, batches);
          for (const id of SUBJECTS) {
            const history = await storage.readStream(`subject:${id}`);
            const folded = foldSubject(id, history);
            const projected = await storage.subject(id);
            // Requests are a map by id: two opened at the same instant have no order between them.
            const byId = (m: ReadonlyMap<string, unknown>) => [...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
            expect({ ...projected, dataRequests: byId(projected.dataRequests) }).toEqual({ ...folded, dataRequests: byId(folded.dataRequests) });
            // Instants after the catalogue was published, so the comparison is not empty.
            for (const [dAt, dKnown] of instants) {
              const asOf = { at: start + dAt, knownAt: Math.min(start + dKnown, clock.t) };
              const catalog = ledger.catalogAt(asOf.knownAt);
              const view = await storage.viewAt(id, asOf);
              const foldedAt = foldSubject(id, history, asOf);
              expect(view.status).toBe(foldedAt.status);
              expect(decideAll(catalog, viewOf(view), "clavis-privacy", asOf)).toEqual(decideAll(catalog, viewOf(foldedAt), "clavis-privacy", asOf));
            }
          }
        }),
        { numRuns: 8 },
      );
    }, 120_000); // a fresh store and catalogue per run: on a file, each commit is an fsync

    it("erasure destroys the subject's key with its event: sealed evidence no longer opens", async () => {
      const { ledger, storage } = await open();
      const r = await ledger.recordConsent("alice", consent({ grant: ["location"], ip: "198.51.100.7" }), subjectActor("alice"), "before-erasure");
      const sealed = (r.events[0]!.data as { evidence?: unknown }).evidence;
      expect(sealed).toMatchObject({ sealed: expect.any(String) });
      const key = await storage.evidenceKey("alice");
      expect(openWith(key, "alice", sealed as { sealed: string })).toEqual({ ipAddress: "198.51.100.7" });
      const erased = await ledger.eraseSubject("alice", "asked", OFFICER);
      expect(erased.subject.status).toBe("ERASED");
      expect(await storage.evidenceKey("alice")).toBeNull();
      expect(await ledger.reveal(r.events[0]!)).toMatchObject({ evidence: { erased: true } });
      // The idempotency record (a digest of personal input) went with the key: the key is unknown now.
      await expect(ledger.recordConsent("alice", consent({ grant: ["location"], ip: "198.51.100.7" }), subjectActor("alice"), "before-erasure")).rejects.toMatchObject({
        code: "SUBJECT_INACTIVE",
      });
      expect(await storage.evidenceKey("bob")).toBeNull();
    });

    it("rebuilds its read models from the log to the same answers", async () => {
      const clock = new TestClock();
      const { ledger, storage } = await open(clock);
      await run(ledger, clock, [{ advanceMs: DAY_MS, commands: [{ kind: "consent", subject: 0, version: 1, accept: true, grant: ["location"], withdraw: [], backdateMs: 0, ip: true }, { kind: "suspend", subject: 1 }] }]);
      await ledger.recordConsent("carol", consent({ grant: ["location"], occurredAt: clock.t - 2 * DAY_MS }), subjectActor("carol"));
      const before = await Promise.all(SUBJECTS.map((id) => storage.subject(id)));
      const pastBefore = await storage.viewAt("carol", { at: clock.t - DAY_MS, knownAt: clock.t });
      expect(await storage.rebuild()).toBe((await everything(storage)).length);
      expect(await Promise.all(SUBJECTS.map((id) => storage.subject(id)))).toEqual(before);
      expect(await storage.viewAt("carol", { at: clock.t - DAY_MS, knownAt: clock.t })).toEqual(pastBefore);
    });

    it("serves the feed in log order: pages resume after a position without gap or duplicate, filters by type and subject", async () => {
      const { ledger, storage } = await open();
      for (let i = 0; i < 7; i++) await ledger.recordConsent(`s${i % 3}`, consent(i % 2 ? { grant: ["location"], accept: i < 3 } : { withdraw: ["location"], accept: i < 3 }), subjectActor(`s${i % 3}`));
      const all = await everything(storage);
      const paged: LedgerEvent[] = [];
      for (let after = 0; ; ) {
        const page = await storage.readAll(after, 4);
        paged.push(...page);
        if (page.length < 4) break;
        after = page.at(-1)!.position;
      }
      expect(paged).toEqual(all);
      expect(await storage.readAll(0, 100, { types: ["ConsentGranted"] })).toEqual(all.filter((e) => e.type === "ConsentGranted"));
      expect(await storage.readAll(0, 100, { subjectId: "s1" })).toEqual(all.filter((e) => e.subjectId === "s1"));
      expect(await storage.readAll(0, 2, { types: ["PolicyAccepted"], subjectId: "s2" })).toEqual(all.filter((e) => e.type === "PolicyAccepted" && e.subjectId === "s2").slice(0, 2));
      expect(await storage.publications()).toEqual(all.filter((e) => e.type === "PolicyVersionPublished"));
    });

    it("holds the open-request quota exactly when one subject's requests race, and frees a place when one closes", async () => {
      const { ledger, storage } = await open();
      const outcomes = await Promise.allSettled(Array.from({ length: 12 }, () => ledger.openDataRequest("alice", { kind: "DISCLOSURE", note: null }, subjectActor("alice"))));
      const opened = outcomes.flatMap((o) => (o.status === "fulfilled" ? [o.value] : []));
      expect(opened).toHaveLength(5);
      for (const o of outcomes) if (o.status === "rejected") expect(o.reason).toMatchObject({ code: "TOO_MANY_OPEN_REQUESTS" });
      expect((await storage.subject("alice")).dataRequests.size).toBe(5);
      await ledger.closeDataRequest(opened[0]!.id, false, "対象の情報なし", OFFICER);
      await expect(ledger.openDataRequest("alice", { kind: "DELETION", note: null }, subjectActor("alice"))).resolves.toMatchObject({ status: "OPEN" });
      await expect(ledger.openDataRequest("alice", { kind: "DELETION", note: null }, subjectActor("alice"))).rejects.toMatchObject({ code: "TOO_MANY_OPEN_REQUESTS" });
    });

    it("publishes a shipped catalogue version once when starts race; a version published already is not published again", async () => {
      const { ledger, storage, clock } = await open();
      const before = (await everything(storage)).length;
      const cmd = secondVersion(ledger, false, clock.t);
      const raced = await Promise.all(Array.from({ length: 6 }, () => ledger.publishCatalogVersion(cmd, SYSTEM)));
      expect(raced.filter((v) => v !== null).map((v) => v!.number)).toEqual([2]);
      const log = await everything(storage);
      expect(log.length - before).toBe(1);
      expect(log.at(-1)).toMatchObject({ type: "PolicyVersionPublished", data: { policyId: "clavis-privacy", digest: cmd.digest } });
      // The shipped files again: every text is in the ledger, so nothing is published.
      expect(await publishCatalogDir(ledger, "data/policies")).toBe(0);
      expect(await ledger.publishCatalogVersion(cmd, SYSTEM)).toBeNull();
      expect((await everything(storage)).length).toBe(log.length);
      // An API publication of the same text is a new version all the same: only the catalogue's start is idempotent.
      expect((await ledger.publishPolicyVersion(cmd, SYSTEM)).number).toBe(3);
    });

    it("pages the officers' queue by due date and id, without gap or duplicate, within each status and overdue filter", async () => {
      const clock = new TestClock();
      const { ledger } = await open(clock);
      for (let i = 0; i < 9; i++) {
        const r = await ledger.openDataRequest(`q${i % 4}`, { kind: "DISCLOSURE", note: null }, subjectActor(`q${i % 4}`));
        if (i % 3 === 0) await ledger.closeDataRequest(r.id, false, "対象の情報なし", OFFICER);
        if (i % 2 === 0) clock.advance(DAY_MS); // some due on the same day, ordered by id there
      }
      clock.advance(20 * DAY_MS); // the earlier ones are overdue now
      for (const [status, overdue] of [[null, null], ["OPEN", null], ["REJECTED", null], [null, true], [null, false]] as const) {
        const all = await ledger.dataRequests(status, overdue);
        const keys = all.map((r) => [r.dueAt, r.id] as const);
        expect(keys).toEqual([...keys].sort(([da, ia], [db, ib]) => da - db || (ia < ib ? -1 : ia > ib ? 1 : 0)));
        const paged: string[] = [];
        for (let after: string | null = null; ; ) {
          const page = await ledger.dataRequests(status, overdue, { first: 2, after });
          paged.push(...page.map((r) => r.id));
          if (page.length < 2) break;
          after = page.at(-1)!.id;
        }
        expect(paged, `${status} ${overdue}`).toEqual(all.map((r) => r.id));
      }
      expect((await ledger.dataRequests("REJECTED", null)).length).toBe(3);
      expect((await ledger.dataRequests(null, true)).every((r) => r.status === "OPEN" && r.dueAt < clock.t)).toBe(true);
      await expect(ledger.dataRequests(null, null, { first: 2, after: "no-such-request" })).rejects.toMatchObject({ code: "BAD_USER_INPUT" });
    });

    it("stores subject keys only wrapped under the KEK: the stored bytes are not the key, and erasure removes them", async () => {
      const { ledger, storage, sut } = await open();
      const r = await ledger.recordConsent("alice", consent({ grant: ["location"], ip: "203.0.113.9" }), subjectActor("alice"));
      const key = Buffer.from((await storage.evidenceKey("alice"))!);
      const stored = (await sut.storedKey(storage, "alice"))!;
      expect(stored.length).toBe(WRAPPED_KEY_BYTES);
      expect(stored.includes(key)).toBe(false);
      expect(unwrapKey(KEK, "alice", stored)).toEqual(key);
      // Bound to its subject: the same bytes under another subject's id open nothing.
      expect(() => unwrapKey(KEK, "bob", stored)).toThrow();
      expect(await ledger.reveal(r.events[0]!)).toMatchObject({ evidence: { ipAddress: "203.0.113.9" } });
      await ledger.eraseSubject("alice", null, OFFICER);
      expect(await sut.storedKey(storage, "alice")).toBeNull();
    });

    it("wraps the plain keys of a store written without a KEK when opened with one, and refuses to open with another KEK", async () => {
      const { ledger, storage, sut } = await open(new TestClock(), { evidenceKek: null });
      if (!sut.reopen) return expect(sut.reopen).toBeNull(); // an in-memory store cannot be opened again
      const r = await ledger.recordConsent("alice", consent({ grant: ["location"], ip: "203.0.113.10" }), subjectActor("alice"));
      const key = Buffer.from((await storage.evidenceKey("alice"))!);
      expect(await sut.storedKey(storage, "alice")).toEqual(key); // as an older build stored it
      await ledger.close();

      const wrapping = await sut.reopen({ evidenceKek: KEK });
      cleanups.push(() => wrapping.close());
      expect(await wrapping.wrapEvidenceKeys()).toBe(1);
      expect(await wrapping.wrapEvidenceKeys()).toBe(0);
      expect(unwrapKey(KEK, "alice", (await sut.storedKey(wrapping, "alice"))!)).toEqual(key);
      expect(await wrapping.evidenceKey("alice")).toEqual(key);
      const reader = await Ledger.open(wrapping);
      expect(await reader.reveal(r.events[0]!)).toMatchObject({ evidence: { ipAddress: "203.0.113.10" } });
      await wrapping.close();

      await expect(sut.reopen({ evidenceKek: Buffer.alloc(32, 0x11) })).rejects.toBeInstanceOf(KekMismatchError);
      const keyless = await sut.reopen({ evidenceKek: null });
      cleanups.push(() => keyless.close());
      await expect(keyless.evidenceKey("alice")).rejects.toBeInstanceOf(KekMissingError);
    });

    it("notices read tables edited behind the log: a forged grant, an altered status, a deleted standing; a rebuild puts them right", async () => {
      const { ledger, storage, sut } = await open();
      await ledger.recordConsent("alice", consent({ grant: ["location"] }), subjectActor("alice"));
      await ledger.recordConsent("bob", consent(), subjectActor("bob"));
      const events = (await everything(storage)).length;
      expect(await storage.checkReadModels()).toEqual({ ok: true, differingTables: [], eventCount: events });

      // Someone with the database grants bob a purpose he never granted: permission would say yes.
      await sut.sql(
        storage,
        `INSERT INTO consents (subject_id, policy_id, purpose_id, granted, occurred_at, expires_at, policy_version, event_id, position)
         SELECT 'bob', policy_id, purpose_id, granted, occurred_at, expires_at, policy_version, event_id, position FROM consents WHERE subject_id = 'alice'`,
      );
      expect((await ledger.permission("bob", "location", null)).permitted).toBe(true);
      expect(await storage.checkReadModels()).toEqual({ ok: false, differingTables: ["consents"], eventCount: events });
      await sut.sql(storage, "UPDATE subjects SET status = 'ERASED' WHERE subject_id = 'alice'");
      await sut.sql(storage, "DELETE FROM standings WHERE subject_id = 'bob'");
      expect((await storage.checkReadModels()).differingTables.sort()).toEqual(["consents", "standings", "subjects"]);

      await storage.rebuild();
      expect((await ledger.permission("bob", "location", null)).permitted).toBe(false);
      expect(await storage.checkReadModels()).toEqual({ ok: true, differingTables: [], eventCount: events });
      // Callers arriving while a check runs share it; a check after more appends rebuilds again and holds.
      const [a, b] = [storage.checkReadModels(), storage.checkReadModels()];
      expect(a).toBe(b);
      await a;
      await ledger.openDataRequest("bob", { kind: "DISCLOSURE", note: null }, subjectActor("bob"));
      expect(await storage.checkReadModels()).toEqual({ ok: true, differingTables: [], eventCount: events + 1 });
    });

    /** A history with every kind of event the second edition added: expiry, version effect, scoped suspension, return, merge, transfer, extension. */
    async function compliance(clock: TestClock) {
      const opened = await open(clock);
      const { ledger } = opened;
      // A location grant (365-day lifetime) back-dated so that it expires a day from now.
      await ledger.recordConsent("alice", consent({ grant: ["location"], occurredAt: clock.t - 364 * DAY_MS }), subjectActor("alice"));
      await ledger.recordConsent("bob", consent({ grant: ["location"] }), subjectActor("bob"));
      const v2At = clock.t + 2 * DAY_MS;
      await ledger.publishPolicyVersion(secondVersion(ledger, false, v2At), SYSTEM);
      const scoped = await ledger.openDataRequest("bob", { kind: "SUSPENSION", note: "位置情報だけ止めてほしい", purposeIds: ["location"] }, subjectActor("bob"));
      await ledger.verifyDataRequestIdentity(scoped.id, "document: 運転免許証", OFFICER);
      await ledger.extendDataRequest(scoped.id, 7, "records held by a processor", OFFICER);
      await ledger.closeDataRequest(scoped.id, true, "位置情報の利用を停止", OFFICER);
      await ledger.recordThirdPartyTransfer(
        { subjectIds: ["alice", "bob"], direction: "PROVIDED", counterpartyId: "google-analytics", purposeId: null, dataCategories: ["usage"], basis: "LAW", occurredAt: null, note: null },
        OFFICER,
      );
      await ledger.leaveService("carol", subjectActor("carol"));
      await ledger.recordConsent("carol", consent({}), subjectActor("carol"));
      await ledger.recordConsent("device-1", consent({ grant: ["linked-accounts"] }), subjectActor("device-1"));
      await ledger.mergeSubjects("device-1", "carol", OFFICER);
      return { ...opened, v2At };
    }

    it("indexes the due time-driven changes and records each once, as the clock reaches it", async () => {
      const clock = new TestClock();
      const { ledger, storage, v2At } = await compliance(clock);
      const aliceGrant = (await storage.subject("alice")).consents.get("clavis-privacy\u0000location")!;
      expect(await storage.nextDue()).toBe(aliceGrant.expiresAt);
      expect(await ledger.recordDueChanges()).toBe(0);
      clock.advance(DAY_MS);
      expect(await ledger.recordDueChanges()).toBe(1);
      expect(await ledger.recordDueChanges()).toBe(0);
      expect(await storage.nextDue()).toBe(v2At);
      clock.advance(DAY_MS);
      expect(await ledger.recordDueChanges()).toBe(1);
      const due = await storage.readAll(0, 1000, { types: ["ConsentExpired", "PolicyVersionEffective"] });
      expect(due.map((e) => [e.type, e.subjectId, e.occurredAt])).toEqual([
        ["ConsentExpired", "alice", aliceGrant.expiresAt],
        ["PolicyVersionEffective", null, v2At],
      ]);
      expect(due.map((e) => e.actor)).toEqual([{ kind: "SYSTEM", id: "clock" }, { kind: "SYSTEM", id: "clock" }]);
      expect(await storage.effectPositions(0, due[1]!.position)).toContain(due[1]!.position);
      // bob's grant expires in a year: the next due instant, read from the index.
      expect(await storage.nextDue()).toBe((await storage.subject("bob")).consents.get("clavis-privacy\u0000location")!.expiresAt);
    });

    it("answers scoped suspension, return, merge, request details and transfers from its read models as the fold does", async () => {
      const clock = new TestClock();
      const { ledger, storage } = await compliance(clock);
      clock.advance(3 * DAY_MS);
      await ledger.recordDueChanges();
      for (const id of [...SUBJECTS, "device-1"]) {
        const history = await storage.readStream(`subject:${id}`);
        const byId = (m: ReadonlyMap<string, unknown>) => [...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
        const projected = await storage.subject(id);
        const folded = foldSubject(id, history);
        expect({ ...projected, dataRequests: byId(projected.dataRequests) }).toEqual({ ...folded, dataRequests: byId(folded.dataRequests) });
        const now = { at: clock.t, knownAt: clock.t };
        const snap = await storage.currentView(id, clock.t);
        expect({ status: snap.status, suspendedPurposes: snap.suspendedPurposes, returnedAt: snap.returnedAt, mergedInto: snap.mergedInto }).toEqual({
          status: folded.status,
          suspendedPurposes: folded.suspendedPurposes,
          returnedAt: folded.returnedAt,
          mergedInto: folded.mergedInto,
        });
        expect(decideAll(ledger.catalog, viewOf(await storage.viewAt(id, now)), "clavis-privacy", now)).toEqual(decideAll(ledger.catalog, viewOf(foldSubject(id, history, now)), "clavis-privacy", now));
      }
      const bob = await storage.subject("bob");
      expect(bob.status).toBe("ACTIVE");
      expect([...bob.suspendedPurposes]).toEqual(["location"]);
      const request = [...bob.dataRequests.values()][0]!;
      expect(request).toMatchObject({ purposeIds: ["location"], closingNote: "位置情報の利用を停止", identityLabel: "document", status: "FULFILLED" });
      expect(await storage.dataRequest(request.id)).toEqual(request);
      expect((await storage.subject("carol")).returnedAt).not.toBeNull();
      expect((await storage.subject("device-1")).mergedInto).toBe("carol");
      const transfers = await storage.transfers("alice", 0, clock.t);
      expect(transfers.map((e) => e.type)).toEqual(["ThirdPartyTransferRecorded"]);
      expect(await storage.transfers("alice", 0, transfers[0]!.occurredAt - 1)).toEqual([]);
      expect(await storage.subjectsOfPolicy("clavis-privacy", "", 10)).toEqual(["alice", "bob", "carol", "device-1"]);
      expect(await storage.subjectsOfPolicy("clavis-privacy", "bob", 2)).toEqual(["carol", "device-1"]);
      // Bounded by a log position: only who had accepted the policy by then (nobody when it was first published).
      expect(await storage.subjectsOfPolicy("clavis-privacy", "", 10, 1)).toEqual([]);
      expect(await storage.subjectsOfPolicy("clavis-privacy", "", 10, Number.MAX_SAFE_INTEGER)).toEqual(["alice", "bob", "carol", "device-1"]);
      expect(await storage.subjectsOfPolicy("clavis-privacy", "alice", 1, Number.MAX_SAFE_INTEGER)).toEqual(["bob"]);
    });

    it("rebuilds the new read models (lifecycle details, requests, due changes, transfers) to the same answers", async () => {
      const clock = new TestClock();
      const { ledger, storage } = await compliance(clock);
      clock.advance(DAY_MS);
      await ledger.recordDueChanges();
      const ids = [...SUBJECTS, "device-1"];
      const read = async () => ({
        subjects: await Promise.all(ids.map((id) => storage.subject(id))),
        views: await Promise.all(ids.map((id) => storage.viewAt(id, { at: clock.t - DAY_MS / 2, knownAt: clock.t }))),
        transfers: await storage.transfers("bob", 0, Number.MAX_SAFE_INTEGER),
        nextDue: await storage.nextDue(),
        effects: await storage.effectPositions(0, Number.MAX_SAFE_INTEGER),
      });
      const before = await read();
      // The read-model check replays the log into its own copy of every read table, the new ones included.
      expect(await storage.checkReadModels()).toMatchObject({ ok: true, differingTables: [] });
      await storage.rebuild();
      expect(await read()).toEqual(before);
    });

    it("keeps everything it acknowledged across a close and a reopen", async () => {
      const { ledger, sut } = await open();
      if (!sut.reopen) return expect(sut.reopen).toBeNull(); // an in-memory store keeps nothing past close
      await ledger.recordConsent("alice", consent({ grant: ["location"] }), subjectActor("alice"));
      const events = await everything(sut.storage);
      await ledger.close();
      const again = await sut.reopen({ evidenceKek: KEK });
      cleanups.push(() => again.close());
      expect(await everything(again)).toEqual(events);
      expect((await again.verify()).ok).toBe(true);
      expect((await again.subject("alice")).version).toBe(2);
    });
  });
}
