// The SQLite adapter's writer thread: answers only after its commit, reads on the main thread see
// it at once, errors keep their codes, group commit still shares commits, a crash loses nothing
// acknowledged and the thread comes back, and closing drains what was accepted.
import { join } from "node:path";
import { threadId } from "node:worker_threads";
import { afterEach, describe, expect, it } from "vitest";
import { publishCatalogDir } from "../../../src/catalog-dir.js";
import type { LedgerEvent } from "../../../src/domain/events.js";
import { Ledger } from "../../../src/ledger.js";
import { SqliteStorage, type SqliteWriterMode } from "../../../src/storage/sqlite/sqlite-storage.js";
import { ThreadWriter } from "../../../src/storage/sqlite/writer-thread.js";
import { TestClock, subjectActor, tempDir } from "../../support/ledger-commands.js";

const consent = (over: { grant?: string[]; accept?: boolean; expectedVersion?: number | null } = {}) => ({
  policyId: null,
  policyVersion: 1,
  acceptPolicy: over.accept ?? true,
  grant: over.grant ?? [],
  withdraw: [],
  occurredAt: null,
  evidence: null,
  expectedVersion: over.expectedVersion ?? null,
});

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function fileLedger(writer: SqliteWriterMode = "thread") {
  const { dir, cleanup } = tempDir();
  cleanups.push(cleanup);
  const path = join(dir, "ledger.db");
  const storage = await SqliteStorage.open({ path, writer });
  const ledger = await Ledger.open(storage, { clock: new TestClock().now });
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await ledger.close();
  };
  cleanups.push(close);
  await publishCatalogDir(ledger, "data/policies");
  return { ledger, storage, path, close };
}

async function reopenCount(path: string): Promise<{ ids: Set<string>; ok: boolean }> {
  const storage = await SqliteStorage.open({ path, writer: "in-process" });
  try {
    const events = await storage.readAll(0, Number.MAX_SAFE_INTEGER);
    return { ids: new Set(events.map((e) => e.id)), ok: (await storage.verify()).ok };
  } finally {
    await storage.close();
  }
}

const waitFor = async (cond: () => boolean, what: string) => {
  for (let i = 0; i < 400 && !cond(); i++) await new Promise((r) => setTimeout(r, 25));
  if (!cond()) throw new Error(`timed out waiting for ${what}`);
};

describe("writes on the writer thread", () => {
  it("a file database writes on its own thread; :memory: and a read-only file write in-process", async () => {
    const { storage } = await fileLedger();
    expect(storage.writerMode).toBe("thread");
    expect(storage.internals.writer).toBeInstanceOf(ThreadWriter);
    const memory = await SqliteStorage.open({ path: ":memory:", writer: "thread" });
    cleanups.push(() => memory.close());
    expect(memory.writerMode).toBe("in-process");
    expect(threadId).toBe(0);
  });

  it("an answer comes after its commit: this thread's reads, the commit listeners and the catalogue already have it", async () => {
    const { ledger, storage } = await fileLedger();
    const announced: LedgerEvent[] = [];
    storage.onCommit((events) => announced.push(...events));
    for (let i = 0; i < 5; i++) {
      const id = `s${i}`;
      const r = await ledger.recordConsent(id, consent({ grant: ["location"] }), subjectActor(id));
      // Read on the main thread's own connection, right after the answer.
      expect(storage.internals.store.readStream(`subject:${id}`)).toEqual(r.events);
      expect((await storage.subject(id)).version).toBe(2);
      expect(announced.slice(-2)).toEqual(r.events);
      expect(await ledger.permission(id, "location", null)).toMatchObject({ permitted: true });
    }
    // The catalogue published through the thread (publishCatalogDir) is the one permission read with above.
    expect(ledger.catalog.policies().length).toBeGreaterThan(0);
    const head = await storage.head();
    expect(head?.position).toBe(announced.at(-1)?.position);
  });

  it("errors keep their contract codes and details across the thread boundary, and append nothing", async () => {
    const { ledger, storage } = await fileLedger();
    const before = (await storage.head())!.position;
    await expect(ledger.recordConsent("alice", consent({ grant: ["telepathy"] }), subjectActor("alice"))).rejects.toMatchObject({ code: "UNKNOWN_PURPOSE" });
    await expect(ledger.recordConsent("alice", consent({ accept: false, grant: ["location"] }), subjectActor("alice"))).rejects.toMatchObject({
      code: "POLICY_NOT_ACCEPTED",
    });
    await expect(ledger.recordConsent("alice", consent({ expectedVersion: 3 }), subjectActor("alice"))).rejects.toMatchObject({
      code: "VERSION_CONFLICT",
      details: { expectedVersion: 3, actualVersion: 0 },
    });
    expect((await storage.head())!.position).toBe(before);
  });

  it("32 appends at once share group commits on the thread: at most 4 COMMITs", async () => {
    const { ledger, storage } = await fileLedger();
    const before = await storage.internals.writer.commits();
    const results = await Promise.all(Array.from({ length: 32 }, (_, i) => ledger.recordConsent(`g${i}`, consent(), subjectActor(`g${i}`))));
    const commits = (await storage.internals.writer.commits()) - before;
    expect(results.flatMap((r) => r.events)).toHaveLength(32);
    expect(commits).toBeGreaterThanOrEqual(1);
    expect(commits).toBeLessThanOrEqual(4);
  });

  it("a crashed thread: unanswered writes get STORE_UNAVAILABLE, nothing acknowledged is lost, the thread comes back", async () => {
    const { ledger, storage, path, close } = await fileLedger();
    const writer = storage.internals.writer as ThreadWriter;
    const acknowledged: LedgerEvent[] = [];
    const calls = Array.from({ length: 40 }, (_, i) =>
      ledger.recordConsent(`c${i}`, consent(), subjectActor(`c${i}`)).then((r) => {
        acknowledged.push(...r.events);
        return r;
      }),
    );
    await new Promise((r) => setImmediate(r));
    await writer.crash();
    const outcomes = await Promise.allSettled(calls);
    for (const o of outcomes) if (o.status === "rejected") expect(o.reason).toMatchObject({ code: "STORE_UNAVAILABLE" });
    expect(writer.crashes).toBe(1);
    expect(storage.isWritable()).toBe(false);
    await expect(ledger.recordConsent("during", consent(), subjectActor("during"))).rejects.toMatchObject({ code: "STORE_UNAVAILABLE" });

    await waitFor(() => storage.isWritable(), "the writer thread to restart");
    const after = await ledger.recordConsent("after", consent({ grant: ["location"] }), subjectActor("after"));
    expect(storage.internals.store.readStream("subject:after")).toEqual(after.events);
    await close();

    const log = await reopenCount(path);
    expect(log.ok).toBe(true);
    for (const e of [...acknowledged, ...after.events]) expect(log.ids.has(e.id)).toBe(true);
  });

  it("close lets the thread commit and answer everything it accepted, then refuses more", async () => {
    const { ledger, storage, path, close } = await fileLedger();
    const calls = Array.from({ length: 20 }, (_, i) => ledger.recordConsent(`d${i}`, consent(), subjectActor(`d${i}`)));
    const closing = close();
    const results = await Promise.all(calls);
    await closing;
    await expect(storage.execute({ command: { kind: "suspendProcessing", subjectId: "x", reason: null }, actor: subjectActor("x"), now: 1 } as never)).rejects.toMatchObject({
      code: "STORE_UNAVAILABLE",
    });
    const log = await reopenCount(path);
    for (const e of results.flatMap((r) => r.events)) expect(log.ids.has(e.id)).toBe(true);
  });

  it("rebuild and the tree's catch-up run on the thread and leave the same answers", async () => {
    const { ledger, storage } = await fileLedger();
    await ledger.recordConsent("alice", consent({ grant: ["location"] }), subjectActor("alice"));
    const before = await storage.subject("alice");
    const head = await storage.head();
    expect(await storage.rebuild()).toBe(head!.position);
    expect(await storage.subject("alice")).toEqual(before);
    expect(await storage.transparency!.treeSize()).toBe(head!.position);
    expect((await storage.transparency!.audit()).ok).toBe(true);
  });
});
