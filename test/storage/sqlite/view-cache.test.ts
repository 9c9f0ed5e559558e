// The in-memory view of subjects on SQLite (VIEW_CACHE_MB) is never stale: a read that starts after
// a write's acknowledgement sees it, whether the write went through this storage's writer or through
// another storage (its own writer, as another process would) on the same file; the clock's instant
// is applied to what is held (expiry, a choice dated ahead); merges and erasures drop their subjects;
// a rebuild drops everything; and the bytes it holds stay within its bound.
import { join } from "node:path";
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { commandProgram } from "../../../src/application/handle-command.js";
import { publishCatalogDir } from "../../../src/catalog-dir.js";
import { consentKey } from "../../../src/domain/subject.js";
import { DAY_MS } from "../../../src/domain/time.js";
import { Ledger } from "../../../src/ledger.js";
import { SqliteStorage, type SqliteWriterMode } from "../../../src/storage/sqlite/sqlite-storage.js";
import { tempDir } from "../../support/common.js";
import { OFFICER, TestClock, subjectActor } from "../../support/ledger-commands.js";

const POLICY = "clavis-privacy";
const PURPOSE = "location";
const KEY = consentKey(POLICY, PURPOSE);

const choice = (granted: boolean, occurredAt: number | null = null) => ({
  policyId: null,
  policyVersion: 1,
  acceptPolicy: true,
  grant: granted ? [PURPOSE] : [],
  withdraw: granted ? [] : [PURPOSE],
  occurredAt,
  evidence: null,
  expectedVersion: null,
});

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function open(path: string, clock: TestClock, viewCacheBytes: number, writer: SqliteWriterMode = "thread") {
  const storage = await SqliteStorage.open({ commands: commandProgram, path, viewCacheBytes, writer });
  const ledger = await Ledger.open(storage, { clock: clock.now });
  cleanups.push(() => ledger.close());
  return { storage, ledger };
}

/** Two storages on one file: `a` keeps a view in memory; `b` has a writer of its own, as another process would. */
async function twoStorages(viewCacheBytes: number, writer: SqliteWriterMode = "thread") {
  const { dir, cleanup } = tempDir();
  cleanups.push(cleanup);
  const path = join(dir, "ledger.db");
  const clock = new TestClock();
  const a = await open(path, clock, viewCacheBytes, writer);
  await publishCatalogDir(a.ledger, "data/policies");
  const b = await open(path, clock, 0);
  return { a, b, clock };
}

describe("the view of subjects on SQLite", () => {
  // "thread": this storage's commits are made on another connection; "in-process": on the very connection it reads on.
  it.each(["thread", "in-process"] as const)("a read that starts after any write's acknowledgement sees it, with concurrent writers on two storages; the view stays within its bound (property, %s writer)", async (writer) => {
    // A small bound: a handful of subjects fit, so entries are evicted and read again all the time.
    const maxBytes = 4_096;
    const { a, b } = await twoStorages(maxBytes, writer);
    let run = 0;
    const op = fc.record({ client: fc.integer({ min: 0, max: 3 }), subject: fc.integer({ min: 0, max: 7 }), granted: fc.boolean(), reads: fc.integer({ min: 0, max: 2 }) });
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(op, { minLength: 1, maxLength: 6 }), { minLength: 2, maxLength: 4 }), async (clients) => {
        run++;
        const subject = (i: number) => `r${run}-s${i}`;
        // Every acknowledged write, by event id: its subject, position and choice.
        const acked = new Map<string, { position: number; granted: boolean }>();
        const checks: { subjectId: string; after: number; eventId: string | null; viewPosition: number; statePosition: number }[] = [];
        const bounds: number[] = [];
        const readAfter = async (subjectId: string, position: number) => {
          const ledger = a.ledger;
          const [view, state, decision] = await Promise.all([ledger.view(subjectId, ledger.asOf()), ledger.subject(subjectId), ledger.permission(subjectId, PURPOSE, null)]);
          checks.push({
            subjectId,
            after: position,
            eventId: decision.eventId,
            viewPosition: view.consents.get(KEY)?.position ?? 0,
            statePosition: state.consents.get(KEY)?.position ?? 0,
          });
          bounds.push(a.storage.viewCache()!.bytes);
        };
        // Clients 0-2 write through `a`, client 3 through `b` (whose commits `a` hears of only through the file).
        await Promise.all(
          clients.map(async (ops) => {
            for (const o of ops) {
              const ledger = o.client === 3 ? b.ledger : a.ledger;
              const id = subject(o.subject);
              // Reads with no write to wait for fill the view at awkward moments.
              const noise = Array.from({ length: o.reads }, (_, i) => a.ledger.permission(subject((o.subject + i + 1) % 8), PURPOSE, null));
              const r = await ledger.recordConsent(id, choice(o.granted), subjectActor(id));
              const e = r.events.find((x) => x.type === "ConsentGranted" || x.type === "ConsentWithdrawn")!;
              acked.set(e.id, { position: e.position, granted: o.granted });
              await Promise.all([readAfter(id, e.position), ...noise]);
            }
          }),
        );
        for (const c of checks) {
          // The view and the state hold this write or a later one; the decision rests on such an event.
          expect(c.viewPosition, c.subjectId).toBeGreaterThanOrEqual(c.after);
          expect(c.statePosition, c.subjectId).toBeGreaterThanOrEqual(c.after);
          expect(c.eventId).not.toBeNull();
          const basis = acked.get(c.eventId!);
          expect(basis, `decision on ${c.eventId}`).toBeDefined();
          expect(basis!.position).toBeGreaterThanOrEqual(c.after);
        }
        for (const bytes of bounds) expect(bytes).toBeLessThanOrEqual(maxBytes);
      }),
      { numRuns: 12 },
    );
    const stats = a.storage.viewCache()!;
    expect(stats.hits).toBeGreaterThan(0);
    expect(stats.evictions).toBeGreaterThan(0);
    expect(stats.bytes).toBeLessThanOrEqual(maxBytes);
    // The position the view includes is the log's head once everything has been heard of.
    expect(stats.position).toBe((await a.ledger.head())!.position);
  });

  it("serves from memory until another storage on the file commits, then reads the new state", async () => {
    const { a, b } = await twoStorages(1 << 20);
    const id = "other-writer";
    await a.ledger.recordConsent(id, choice(true), subjectActor(id));
    expect((await a.ledger.permission(id, PURPOSE, null)).permitted).toBe(true);
    const hits = a.storage.viewCache()!.hits;
    expect((await a.ledger.permission(id, PURPOSE, null)).permitted).toBe(true);
    expect(a.storage.viewCache()!.hits).toBe(hits + 1);
    await b.ledger.recordConsent(id, choice(false), subjectActor(id));
    expect((await a.ledger.permission(id, PURPOSE, null)).permitted).toBe(false);
    expect((await a.ledger.subject(id)).consents.get(KEY)?.granted).toBe(false);
  });

  it("applies the asked instant to what it holds: a grant's expiry, and a choice dated ahead", async () => {
    const { a, clock } = await twoStorages(1 << 20);
    const id = "clocked";
    await a.ledger.recordConsent(id, choice(true), subjectActor(id));
    expect((await a.ledger.permission(id, PURPOSE, null)).permitted).toBe(true);
    expect((await a.ledger.permission(id, PURPOSE, null)).permitted).toBe(true); // from memory
    clock.advance(366 * DAY_MS); // location's consent lasts 365 days
    expect((await a.ledger.permission(id, PURPOSE, null)).permitted).toBe(false);

    // A withdrawal dated two minutes ahead is stored now and in force only then.
    const later = "dated-ahead";
    await a.ledger.recordConsent(later, choice(true), subjectActor(later));
    await a.ledger.recordConsent(later, choice(false, clock.t + 120_000), subjectActor(later));
    expect((await a.ledger.permission(later, PURPOSE, null)).permitted).toBe(true);
    expect((await a.ledger.permission(later, PURPOSE, null)).permitted).toBe(true);
    clock.advance(120_000);
    expect((await a.ledger.permission(later, PURPOSE, null)).permitted).toBe(false);
  });

  it("a merge drops both subjects, an erasure its subject", async () => {
    const { a } = await twoStorages(1 << 20);
    const [device, account] = ["device-1", "account-1"];
    await a.ledger.recordConsent(device, choice(true), subjectActor(device));
    await a.ledger.recordConsent(account, { ...choice(false), withdraw: [] }, subjectActor(account));
    expect((await a.ledger.permission(device, PURPOSE, null)).permitted).toBe(true);
    expect((await a.ledger.permission(account, PURPOSE, null)).permitted).toBe(false);
    expect((await a.ledger.subject(device)).status).toBe("ACTIVE");
    await a.ledger.mergeSubjects(device, account, OFFICER);
    // The device now answers for the account, which received the device's grant.
    expect((await a.ledger.subject(device)).status).toBe("MERGED");
    expect((await a.ledger.permission(account, PURPOSE, null)).permitted).toBe(true);
    expect((await a.ledger.permission(device, PURPOSE, null)).permitted).toBe(true);
    await a.ledger.eraseSubject(account, null, OFFICER);
    expect((await a.ledger.permission(account, PURPOSE, null)).permitted).toBe(false);
    expect((await a.ledger.subject(account)).status).toBe("ERASED");
  });

  it("drops everything on a rebuild, and is off with a bound of 0", async () => {
    const { a } = await twoStorages(1 << 20);
    const id = "rebuilt";
    await a.ledger.recordConsent(id, choice(true), subjectActor(id));
    await a.ledger.permission(id, PURPOSE, null);
    expect(a.storage.viewCache()!.entries).toBeGreaterThan(0);
    await a.ledger.rebuild();
    expect(a.storage.viewCache()!.entries).toBe(0);
    expect((await a.ledger.permission(id, PURPOSE, null)).permitted).toBe(true);

    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const off = await open(join(dir, "off.db"), new TestClock(), 0);
    expect(off.storage.viewCache()).toBeNull();
  });
});
