// The SQLite adapter's writer thread: answers only after its commit, reads on the main thread see
// it at once, errors keep their codes, group commit still shares commits, a crash loses nothing
// acknowledged and the thread comes back, closing drains what was accepted, and the keys it writes
// are wrapped under the KEK it was handed.
import { join } from "node:path";
import { threadId } from "node:worker_threads";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { publishCatalogDir } from "../../../src/catalog-dir.js";
import type { LedgerEvent } from "../../../src/domain/events.js";
import { KEY_BYTES } from "../../../src/evidence/seal.js";
import { KekMissingError, WRAPPED_KEY_BYTES, unwrapKey } from "../../../src/evidence/key-wrap.js";
import { readKekFile } from "../../../src/keys/evidence-kek.js";
import { Ledger } from "../../../src/ledger.js";
import { SqliteStorage, type SqliteWriterMode } from "../../../src/storage/sqlite/sqlite-storage.js";
import { ThreadWriter } from "../../../src/storage/sqlite/writer-thread.js";
import { startTestServer } from "../../support/harness.js";
import { TestClock, subjectActor } from "../../support/ledger-commands.js";
import { HISTORY, RECORD, contains, databaseBytes } from "../../rights/support.js";
import { eventually, tempDir } from "../../support/common.js";
import { commandProgram } from "../../../src/application/handle-command.js";

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
  const storage = await SqliteStorage.open({ commands: commandProgram, path, writer });
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
  const storage = await SqliteStorage.open({ commands: commandProgram, path, writer: "in-process" });
  try {
    const events = await storage.readAll(0, Number.MAX_SAFE_INTEGER);
    return { ids: new Set(events.map((e) => e.id)), ok: (await storage.verify()).ok };
  } finally {
    await storage.close();
  }
}

const waitFor = (cond: () => boolean, what: string) => eventually(what, cond, { intervalMs: 25 });

describe("writes on the writer thread", () => {
  it("a file database writes on its own thread; :memory: and a read-only file write in-process", async () => {
    const { storage } = await fileLedger();
    expect(storage.writerMode).toBe("thread");
    expect(storage.internals.writer).toBeInstanceOf(ThreadWriter);
    const memory = await SqliteStorage.open({ commands: commandProgram, path: ":memory:", writer: "thread" });
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

  it("an acknowledged write is already committed: another connection on the file sees every answered event at the moment of its answer", async () => {
    const { ledger, path } = await fileLedger();
    const other = new Database(path, { readonly: true, fileMustExist: true });
    cleanups.push(() => void other.close());
    const byId = other.prepare("SELECT position FROM events WHERE id = ?").pluck();
    // Checked synchronously in each answer's continuation, before any later commit can happen.
    const unseen: string[] = [];
    await Promise.all(
      Array.from({ length: 32 }, (_, i) =>
        ledger.recordConsent(`a${i}`, consent({ grant: ["location"] }), subjectActor(`a${i}`)).then((r) => {
          for (const e of r.events) if (byId.get(e.id) !== e.position) unseen.push(e.id);
        }),
      ),
    );
    expect(unseen).toEqual([]);
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

  it("32 appends made in one turn of the event loop cross to the thread together and share one COMMIT", async () => {
    const { ledger, storage } = await fileLedger();
    const before = await storage.internals.writer.commits();
    const results = await Promise.all(Array.from({ length: 32 }, (_, i) => ledger.recordConsent(`g${i}`, consent(), subjectActor(`g${i}`))));
    const commits = (await storage.internals.writer.commits()) - before;
    expect(results.flatMap((r) => r.events)).toHaveLength(32);
    expect(commits).toBe(1);
  });

  it("a request that cannot be copied to the thread fails alone; the requests made with it are answered", async () => {
    const { ledger, storage } = await fileLedger();
    const uncopyable = { ...consent(), evidence: { userAgent: (() => "a function") as unknown as string } };
    const [a, bad, b] = await Promise.allSettled([
      ledger.recordConsent("copy-a", consent(), subjectActor("copy-a")),
      ledger.recordConsent("copy-bad", uncopyable, subjectActor("copy-bad")),
      ledger.recordConsent("copy-b", consent(), subjectActor("copy-b")),
    ]);
    expect(a.status).toBe("fulfilled");
    expect(b.status).toBe("fulfilled");
    expect(bad).toMatchObject({ status: "rejected", reason: { name: "DataCloneError" } });
    expect((await storage.subject("copy-bad")).version).toBe(0);
    expect((await storage.subject("copy-b")).version).toBe(1);
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

  it("saveCheckpoint through the thread answers with the checkpoint itself when it stored it, and with the larger stored one otherwise", async () => {
    const { ledger, storage } = await fileLedger();
    await ledger.recordConsent("alice", consent(), subjectActor("alice"));
    const t = storage.transparency;
    const size = await t.treeSize();
    const first = { treeSize: size - 1, root: Buffer.alloc(32, 1), note: "first", publishedAt: 1 };
    expect(await t.saveCheckpoint(first)).toBe(first);
    const second = { treeSize: size, root: Buffer.alloc(32, 2), note: "second", publishedAt: 2 };
    expect(await t.saveCheckpoint(second)).toBe(second);
    const stale = { ...first, note: "stale" };
    const kept = await t.saveCheckpoint(stale);
    expect(kept).toEqual(second);
    expect(Buffer.isBuffer(kept.root)).toBe(true);
  });
});

describe("the writer thread and the evidence key-encryption key", () => {
  const IP = "198.51.100.77";
  const record = async (srv: Awaited<ReturnType<typeof startTestServer>>, subject: string) => {
    const r = await srv.gql(RECORD, { input: { policyVersion: 1, acceptPolicy: true, grant: ["location"], evidence: { ipAddress: IP } } }, await srv.token(subject, "consent:self"));
    expect(r.errors).toBeUndefined();
  };
  const evidence = async (srv: Awaited<ReturnType<typeof startTestServer>>, subject: string) => {
    const r = await srv.gql<{ subject: { history: { edges: { node: { data: { evidence?: unknown } } }[] } } }>(HISTORY, { s: subject }, await srv.token("auditor", "ledger:read"));
    expect(r.errors).toBeUndefined();
    return r.data!.subject.history.edges[0]!.node.data.evidence;
  };

  it("a subject key the thread writes is stored wrapped under the service's KEK, also after the thread restarts; the evidence reads back through the API", async () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const srv = await startTestServer({ dataDir: dir, env: { SQLITE_WRITER: "thread" } });
    cleanups.push(() => srv.close());
    const storage = srv.app.services.ledger.storage as SqliteStorage;
    expect(storage.writerMode).toBe("thread");
    const kek = (await readKekFile(join(dir, "keys", "evidence.kek")))!;
    const path = join(dir, "ledger.db");
    const storedKey = (subject: string) => {
      const raw = new Database(path, { readonly: true, fileMustExist: true });
      try {
        return raw.prepare("SELECT key FROM subject_keys WHERE subject_id = ?").pluck().get(subject) as Buffer;
      } finally {
        raw.close();
      }
    };

    await record(srv, "alice");
    const aliceStored = storedKey("alice");
    expect(aliceStored.length).toBe(WRAPPED_KEY_BYTES);
    const aliceKey = unwrapKey(kek, "alice", aliceStored);
    expect(aliceKey.length).toBe(KEY_BYTES);
    expect(contains(databaseBytes(path), aliceKey)).toBe(false);
    expect(await evidence(srv, "alice")).toMatchObject({ ipAddress: IP });

    // A restarted thread is handed the same KEK.
    const writer = storage.internals.writer as ThreadWriter;
    await writer.crash();
    await waitFor(() => storage.isWritable(), "the writer thread to restart");
    await record(srv, "bob");
    const bobStored = storedKey("bob");
    expect(bobStored.length).toBe(WRAPPED_KEY_BYTES);
    expect(unwrapKey(kek, "bob", bobStored).length).toBe(KEY_BYTES);
    expect(await evidence(srv, "bob")).toMatchObject({ ipAddress: IP });
    expect(await evidence(srv, "alice")).toMatchObject({ ipAddress: IP });
  });

  it("plain keys an older build left are wrapped at start by the writer's connection", async () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const path = join(dir, "ledger.db");
    const plain = await SqliteStorage.open({ commands: commandProgram, path, writer: "thread", evidenceKek: null });
    const ledger = await Ledger.open(plain, { clock: new TestClock().now });
    await publishCatalogDir(ledger, "data/policies");
    await ledger.recordConsent("carol", { ...consent(), evidence: { ipAddress: IP } }, subjectActor("carol"));
    const key = plain.internals.vault.storedKey("carol")!;
    expect(key.length).toBe(KEY_BYTES);
    await ledger.close();

    const kek = Buffer.alloc(32, 0x5a);
    const wrapping = await SqliteStorage.open({ commands: commandProgram, path, writer: "thread", evidenceKek: kek });
    cleanups.push(() => wrapping.close());
    expect(await wrapping.wrapEvidenceKeys()).toBe(1);
    expect(unwrapKey(kek, "carol", wrapping.internals.vault.storedKey("carol")!)).toEqual(key);
    expect(await wrapping.evidenceKey("carol")).toEqual(key);
  });

  for (const writer of ["thread", "in-process"] as const) {
    it(`a write that needs a wrapped key without the KEK fails as KekMissingError and appends nothing (${writer} writer)`, async () => {
      const { dir, cleanup } = tempDir();
      cleanups.push(cleanup);
      const path = join(dir, "ledger.db");
      const kek = Buffer.alloc(32, 0x33);
      const sealed = await SqliteStorage.open({ commands: commandProgram, path, writer, evidenceKek: kek });
      const ledger = await Ledger.open(sealed, { clock: new TestClock().now });
      await publishCatalogDir(ledger, "data/policies");
      await ledger.recordConsent("dave", { ...consent(), evidence: { ipAddress: IP } }, subjectActor("dave"));
      await ledger.close();

      const keyless = await SqliteStorage.open({ commands: commandProgram, path, writer, evidenceKek: null });
      cleanups.push(() => keyless.close());
      const again = await Ledger.open(keyless, { clock: new TestClock().now });
      const head = (await keyless.head())!.position;
      await expect(again.recordConsent("dave", { ...consent({ grant: ["location"] }), evidence: { ipAddress: IP } }, subjectActor("dave"))).rejects.toBeInstanceOf(KekMissingError);
      expect((await keyless.head())!.position).toBe(head);
    });
  }
});
