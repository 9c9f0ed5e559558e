// The transparency log over a real in-memory SQLite ledger, through its public methods: what it signs,
// the proofs it answers and how it refuses bad sizes, the guard against a tree that went back or
// changed, replicas sharing one store, and the copy kept outside the database.
import { afterEach, describe, expect, it, vi } from "vitest";
import { LedgerError } from "../../src/domain/errors.js";
import { formatCheckpoint, parseCheckpoint } from "../../src/log/checkpoint/checkpoint.js";
import type { CheckpointMirror, CheckpointMirrors } from "../../src/log/checkpoint/latest-file.js";
import { type NoteSigner, formatVerifierKey, openNote, parseVerifierKey, signNote } from "../../src/log/checkpoint/signed-note.js";
import { EMPTY_ROOT, leafHash, verifyConsistency, verifyInclusion } from "../../src/log/merkle/index.js";
import { ACCEPT_ROLLBACK_HINT, TransparencyLog, type TransparencyLogOptions, ledgerIdentity, treeRootAt } from "../../src/log/transparency-log.js";
import type { StoredCheckpoint, TransparencyStore } from "../../src/log/transparency-store.js";
import { SqliteStorage } from "../../src/storage/sqlite/sqlite-storage.js";
import { commandProgram } from "../../src/application/handle-command.js";
import { Ledger } from "../../src/ledger.js";
import { publishCatalogDir } from "../../src/catalog-dir.js";
import { TestClock, subjectActor } from "../support/ledger-commands.js";
import { rootOf } from "../storage/conformance/transparency-features.js";
import { testSigner } from "../support/log-fixtures.js";

const ORIGIN = "ledger.test/transparency-log";
const signer = testSigner(ORIGIN);
/** Computed inside the tests, never at load (a mutant that makes it throw must fail a test, not the import). */
const key = () => parseVerifierKey(formatVerifierKey(signer.name, signer.publicKey));
const b64 = (s: string) => Buffer.from(s, "base64");

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A ledger on an in-memory SQLite database, empty (no catalogue) unless asked. */
async function openLedger(clock = new TestClock(), catalog = true): Promise<{ ledger: Ledger; store: TransparencyStore; clock: TestClock }> {
  now = clock.now;
  const storage = await SqliteStorage.open({ commands: commandProgram, path: ":memory:" });
  const ledger = await Ledger.open(storage, { clock: clock.now });
  cleanups.push(() => ledger.close());
  if (catalog) await publishCatalogDir(ledger, "data/policies");
  return { ledger, store: storage.transparency, clock };
}

/** Appends `n` events (a notice shown to a subject, one event each). */
async function grow(ledger: Ledger, n: number): Promise<void> {
  for (let i = 0; i < n; i++)
    await ledger.recordNoticeShown("alice", { policyId: null, policyVersion: 1, channel: "web", locale: "en", noticeId: null }, subjectActor("alice"));
}

const allEvents = (ledger: Ledger) => ledger.storage.readAll(0, Number.MAX_SAFE_INTEGER);

/** The clock of the ledger opened last: the log's too. */
let now: () => number = Date.now;

function logOn(store: TransparencyStore, opts: Partial<TransparencyLogOptions> = {}, s: NoteSigner = signer): TransparencyLog {
  const log = new TransparencyLog(store, s, { origin: s.name, intervalMs: 60_000, clock: now, ...opts });
  cleanups.push(() => log.stop());
  return log;
}

/** The LedgerError a promise rejects with. */
async function refusal(p: Promise<unknown>): Promise<LedgerError> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(LedgerError);
  return e as LedgerError;
}

/** An in-memory mirror. */
function memoryMirror(note: string | null = null): CheckpointMirror & { note: string | null; writes: number } {
  const m = {
    note,
    writes: 0,
    async read() {
      return m.note;
    },
    async write(n: string) {
      m.note = n;
      m.writes++;
    },
  };
  return m;
}

function mirrors(perLedger = new Map<string, ReturnType<typeof memoryMirror>>(), legacy?: CheckpointMirror): CheckpointMirrors & { perLedger: typeof perLedger } {
  return {
    perLedger,
    forLedger(id) {
      let m = perLedger.get(id);
      if (!m) perLedger.set(id, (m = memoryMirror()));
      return m;
    },
    ...(legacy ? { legacy } : {}),
  };
}

/** A signed checkpoint note of this log for any size and root. */
const noteFor = (treeSize: number, root: Buffer, s: NoteSigner = signer, origin = ORIGIN) => signNote(formatCheckpoint({ origin, treeSize, root }), s);

/** Resolves with the next value `register` hands its callback. */
function next<T>(register: (f: (v: T) => void) => void): Promise<T> {
  return new Promise((resolve) => register(resolve));
}

describe("publishing", () => {
  it("refuses a key whose name is not the log's origin, and gives out its verifier key", async () => {
    const { store } = await openLedger();
    expect(() => new TransparencyLog(store, testSigner("another.name"), { origin: ORIGIN })).toThrow("the checkpoint key's name is the log's origin");
    const log = logOn(store);
    expect(log.origin).toBe(ORIGIN);
    expect(log.verifierKey()).toBe(formatVerifierKey(ORIGIN, signer.publicKey));
  });

  it("has no checkpoint before the first publication; an empty tree gets one of size 0", async () => {
    const { ledger, store, clock } = await openLedger(new TestClock(), false);
    const log = logOn(store);
    const e = await refusal(Promise.resolve().then(() => log.latest()));
    expect(e.code).toBe("NOT_YET_LOGGED");
    expect(e.message).toBe("no checkpoint has been published yet; retry in a moment");
    const c = await log.publish();
    expect(c).toMatchObject({ treeSize: 0, root: EMPTY_ROOT, publishedAt: clock.t });
    expect(log.latest()).toEqual({ origin: ORIGIN, treeSize: 0, rootHash: EMPTY_ROOT.toString("base64"), note: c.note });
    expect(parseCheckpoint(openNote(c.note, key()))).toEqual({ origin: ORIGIN, treeSize: 0, root: EMPTY_ROOT });
    expect(await ledgerIdentity(store, 0)).toBeNull();
    expect(await treeRootAt(store, 0)).toEqual(EMPTY_ROOT);
    // A tree that grows from the empty one needs no consistency proof: it is signed.
    await publishCatalogDir(ledger, "data/policies");
    expect((await log.publish()).treeSize).toBe(await store.treeSize());
  });

  it("signs the tree as it is, only when it has grown; concurrent calls share one publication", async () => {
    const { ledger, store, clock } = await openLedger();
    let saves = 0;
    const log = logOn({ ...store, treeSize: () => store.treeSize(), readNodes: (ids) => store.readNodes(ids), findLeaf: (id) => store.findLeaf(id), latestCheckpoint: () => store.latestCheckpoint(), saveCheckpoint: (c) => (saves++, store.saveCheckpoint(c)) });
    const [a, b] = [log.publish(), log.publish()];
    expect(a).toBe(b);
    const first = await a;
    const events = await allEvents(ledger);
    expect(first.treeSize).toBe(events.length);
    expect(first.root).toEqual(rootOf(events));
    expect(first.publishedAt).toBe(clock.t);
    expect(await log.publish()).toBe(first);
    expect(saves).toBe(1);
    expect(await store.latestCheckpoint()).toEqual(first);
    clock.advance(1000);
    await grow(ledger, 3);
    const second = await log.publish();
    expect(second.treeSize).toBe(events.length + 3);
    expect(second.root).toEqual(rootOf(await allEvents(ledger)));
    expect(second.publishedAt).toBe(clock.t);
    expect(parseCheckpoint(openNote(second.note, key()))).toEqual({ origin: ORIGIN, treeSize: second.treeSize, root: second.root });
    expect(log.latest()).toEqual({ origin: ORIGIN, treeSize: second.treeSize, rootHash: second.root.toString("base64"), note: second.note });
    expect(await store.latestCheckpoint()).toEqual(second);
    expect(await ledgerIdentity(store, second.treeSize)).toBe(leafHash(Buffer.from(events[0]!.hash, "hex")).toString("hex"));
  });

  it("keeps the note in this ledger's own copy outside the database", async () => {
    const { ledger, store } = await openLedger();
    const mirror = mirrors();
    const log = logOn(store, { mirror });
    const c = await log.publish();
    const id = (await ledgerIdentity(store, c.treeSize))!;
    expect([...mirror.perLedger.keys()]).toEqual([id]);
    expect(mirror.perLedger.get(id)!.note).toBe(c.note);
    await grow(ledger, 1);
    const d = await log.publish();
    expect(mirror.perLedger.get(id)!.note).toBe(d.note);
    expect(mirror.perLedger.get(id)!.writes).toBe(2);
  });

  it("writes no copy for an empty ledger, which has no identity", async () => {
    const { store } = await openLedger(new TestClock(), false);
    const mirror = mirrors();
    await logOn(store, { mirror }).publish();
    expect(mirror.perLedger.size).toBe(0);
  });

  it("never signs a tree that does not extend the one it signed before", async () => {
    const { ledger, store } = await openLedger();
    let tamper = false;
    const tampered: TransparencyStore = {
      ...store,
      treeSize: () => store.treeSize(),
      latestCheckpoint: () => store.latestCheckpoint(),
      saveCheckpoint: (c) => store.saveCheckpoint(c),
      findLeaf: (id) => store.findLeaf(id),
      readNodes: async (ids) => (await store.readNodes(ids)).map((h, i) => (tamper && ids[i]!.level === 0 && ids[i]!.index === 1 ? leafHash(h) : h)),
    };
    const log = logOn(tampered);
    const first = await log.publish();
    await grow(ledger, 2);
    tamper = true;
    await expect(log.publish()).rejects.toThrow(
      new RegExp(`^refusing to sign tree size ${first.treeSize + 2}: it is not consistent with the published checkpoint of size ${first.treeSize} \\(the proof does not lead to root[12]\\)$`),
    );
    expect(log.latest().treeSize).toBe(first.treeSize);
    expect((await store.latestCheckpoint())!.treeSize).toBe(first.treeSize);
  });
});

describe("replicas on one store", () => {
  it("take a larger checkpoint another process published, then extend it", async () => {
    const { ledger, store } = await openLedger();
    const a = logOn(store);
    const b = logOn(store);
    const first = await a.publish();
    expect(await b.publish()).toEqual(first);
    expect(b.latest()).toEqual(a.latest());
    await grow(ledger, 2);
    const second = await b.publish();
    expect(second.treeSize).toBe(first.treeSize + 2);
    expect(await a.publish()).toEqual(second);
    expect(a.latest().treeSize).toBe(second.treeSize);
    // A proof from a replica at the other's size verifies against the same root.
    const proof = await a.inclusionProof(0);
    expect(proof.checkpoint.rootHash).toBe(second.root.toString("base64"));
  });

  it("answer a proof covered by a checkpoint another process stored, without publishing one themselves", async () => {
    const { ledger, store } = await openLedger();
    const a = logOn(store);
    const b = logOn(store);
    await a.publish();
    await b.publish();
    await grow(ledger, 3);
    const stored = await a.publish();
    const last = stored.treeSize - 1;
    // b never saw a's newer checkpoint: its proofs of the newest leaf, and at that size, come from the store's.
    const proof = await b.inclusionProof(last);
    expect(proof.treeSize).toBe(stored.treeSize);
    expect(proof.checkpoint.rootHash).toBe(stored.root.toString("base64"));
    expect((await b.inclusionProof(0, stored.treeSize)).treeSize).toBe(stored.treeSize);
    expect(b.latest().treeSize).toBe(stored.treeSize);
  });

  it("adopt a checkpoint stored while they were signing theirs", async () => {
    const { ledger, store } = await openLedger();
    const log = logOn(store);
    await log.publish();
    await grow(ledger, 3);
    const size = await store.treeSize();
    // Another process stores a larger one first: saveCheckpoint answers with it.
    let racer: StoredCheckpoint | null = null;
    const racing: TransparencyStore = {
      treeSize: async () => (racer ? size : size - 1),
      readNodes: (ids) => store.readNodes(ids),
      findLeaf: (id) => store.findLeaf(id),
      latestCheckpoint: () => store.latestCheckpoint(),
      saveCheckpoint: async (c) => {
        racer = { treeSize: size, root: await treeRootAt(store, size), note: noteFor(size, await treeRootAt(store, size)), publishedAt: 1 };
        await store.saveCheckpoint(racer);
        return store.saveCheckpoint(c);
      },
    };
    const mirror = mirrors();
    const replica = logOn(racing, { mirror });
    const got = await replica.publish();
    expect(got).toEqual(racer);
    expect(replica.latest().treeSize).toBe(size);
    expect([...mirror.perLedger.values()][0]!.note).toBe(racer!.note);
  });

  it("refuse a stored checkpoint of another key or origin, or with another root", async () => {
    const { ledger, store } = await openLedger();
    await logOn(store, {}, testSigner(ORIGIN)).publish();
    const log = logOn(store);
    await expect(log.publish()).rejects.toThrow(
      `was not signed by this log's checkpoint key as ${ORIGIN}: every process on one database needs the same CHECKPOINT_KEY_FILE and LEDGER_ORIGIN`,
    );
    const size = await store.treeSize();
    await expect(log.publish()).rejects.toThrow(`the stored checkpoint of size ${size} was not signed by this log's checkpoint key as ${ORIGIN}`);
    await grow(ledger, 1);
    const wrongRoot: TransparencyStore = {
      treeSize: () => store.treeSize(),
      readNodes: (ids) => store.readNodes(ids),
      findLeaf: (id) => store.findLeaf(id),
      saveCheckpoint: (c) => store.saveCheckpoint(c),
      latestCheckpoint: async () => ({ treeSize: size + 1, root: leafHash(Buffer.from("x")), note: "n", publishedAt: 0 }),
    };
    await expect(logOn(wrongRoot).publish()).rejects.toThrow(`the stored checkpoint of size ${size + 1} does not have the tree's root at that size`);
  });
});

describe("proofs", () => {
  it("prove every event's inclusion at the latest checkpoint and at each earlier size, signed on request", async () => {
    const { ledger, store } = await openLedger();
    await grow(ledger, 4);
    const log = logOn(store);
    const latest = await log.publish();
    const events = await allEvents(ledger);
    for (let size = 1; size <= latest.treeSize; size++) {
      const root = rootOf(events, size);
      for (let i = 0; i < size; i++) {
        const p = await log.inclusionProof(i, size === latest.treeSize && i % 2 === 0 ? undefined : size);
        expect(p.leafIndex).toBe(i);
        expect(p.treeSize).toBe(size);
        expect(b64(p.leafHash)).toEqual(leafHash(Buffer.from(events[i]!.hash, "hex")));
        verifyInclusion(i, size, b64(p.leafHash), p.hashes.map(b64), root);
        expect(p.checkpoint).toEqual({ origin: ORIGIN, treeSize: size, rootHash: root.toString("base64"), note: p.checkpoint.note });
        expect(parseCheckpoint(openNote(p.checkpoint.note, key()))).toEqual({ origin: ORIGIN, treeSize: size, root });
      }
    }
    // An earlier size's checkpoint is the same note each time (signing is deterministic).
    expect((await log.inclusionProof(0, 2)).checkpoint).toEqual((await log.inclusionProof(1, 2)).checkpoint);
    expect((await log.inclusionProof(0)).checkpoint.note).toBe(latest.note);
  });

  it("prove consistency between every pair of sizes", async () => {
    const { ledger, store } = await openLedger();
    await grow(ledger, 3);
    const log = logOn(store);
    const latest = await log.publish();
    const events = await allEvents(ledger);
    for (let to = 1; to <= latest.treeSize; to++)
      for (let from = 1; from <= to; from++) {
        const p = await log.consistencyProof(from, to === latest.treeSize && from % 2 === 1 ? null : to);
        expect(p).toMatchObject({ fromSize: from, toSize: to, checkpoint: { treeSize: to, rootHash: rootOf(events, to).toString("base64") } });
        verifyConsistency(from, to, p.hashes.map(b64), rootOf(events, from), rootOf(events, to));
      }
  });

  it("refuse sizes below 1, fractions, sizes beyond the ledger and leaves beyond the size, naming them", async () => {
    const { ledger, store } = await openLedger();
    await grow(ledger, 3);
    const log = logOn(store);
    const latest = await log.publish();
    const n = latest.treeSize;
    const bad = async (p: Promise<unknown>, message: string) => {
      const e = await refusal(p);
      expect(e.code).toBe("BAD_USER_INPUT");
      expect(e.message).toBe(message);
    };
    await bad(log.inclusionProof(0, 0), "treeSize must be a whole number of at least 1");
    await bad(log.inclusionProof(0, -3), "treeSize must be a whole number of at least 1");
    await bad(log.inclusionProof(0, 1.5), "treeSize must be a whole number of at least 1");
    await bad(log.inclusionProof(0, n + 1), `treeSize ${n + 1} is beyond the ledger, which holds ${n} logged events`);
    await bad(log.inclusionProof(n - 1, n - 1), `the event is not in the first ${n - 1} events of the ledger`);
    await bad(log.inclusionProof(n, n), `the event is not in the first ${n} events of the ledger`);
    await bad(log.consistencyProof(0), "fromSize must be a whole number of at least 1");
    await bad(log.consistencyProof(1.5), "fromSize must be a whole number of at least 1");
    await bad(log.consistencyProof(0, 1), "fromSize must be a whole number of at least 1");
    await bad(log.consistencyProof(1, 0), "toSize must be a whole number of at least 1");
    await bad(log.consistencyProof(1, n + 2), `toSize ${n + 2} is beyond the ledger, which holds ${n} logged events`);
    await bad(log.consistencyProof(3, 2), "fromSize 3 is larger than toSize 2");
    await bad(log.consistencyProof(n + 1), `fromSize ${n + 1} is larger than toSize ${n}`);
    expect((await log.consistencyProof(n, n)).hashes).toEqual([]);
    expect((await log.inclusionProof(n - 1, n)).treeSize).toBe(n);
  });

  it("answer NOT_YET_LOGGED before any checkpoint, and for what the latest does not cover yet, and then publish at once", async () => {
    const { ledger, store } = await openLedger();
    const log = logOn(store);
    for (const p of [log.inclusionProof(0), log.consistencyProof(1)]) {
      const e = await refusal(p);
      expect(e.code).toBe("NOT_YET_LOGGED");
      expect(e.message).toBe("no checkpoint has been published yet; retry in a moment");
    }
    const first = await log.publish();
    await grow(ledger, 2);
    const n = first.treeSize + 2;
    const ahead = await refusal(log.inclusionProof(0, n));
    expect(ahead.code).toBe("NOT_YET_LOGGED");
    expect(ahead.message).toBe(`no checkpoint covers treeSize ${n} yet; retry in a moment`);
    expect(ahead.details).toEqual({ latestTreeSize: first.treeSize });
    // The refusal asked for a checkpoint: the publication under way covers the new events.
    expect((await log.publish()).treeSize).toBe(n);
    expect((await log.inclusionProof(0, n)).treeSize).toBe(n);
    await grow(ledger, 1);
    const uncovered = await refusal(log.inclusionProof(n));
    expect(uncovered.code).toBe("NOT_YET_LOGGED");
    expect(uncovered.message).toBe("the event is not covered by a checkpoint yet; retry in a moment");
    expect(uncovered.details).toEqual({ latestTreeSize: n });
    expect((await log.publish()).treeSize).toBe(n + 1);
    expect(log.latest().treeSize).toBe(n + 1);
  });

  it("a NOT_YET_LOGGED with no checkpoint yet names size 0 as the latest", async () => {
    const { ledger, store } = await openLedger();
    await grow(ledger, 1);
    const log = logOn(store);
    const e = await refusal(log.consistencyProof(1, 1));
    expect(e.code).toBe("NOT_YET_LOGGED");
    expect(e.message).toBe("no checkpoint covers toSize 1 yet; retry in a moment");
    expect(e.details).toEqual({ latestTreeSize: 0 });
    await log.publish();
  });

  it("keep the checkpoints of the last 256 earlier sizes signed, so asking at one again reads no root", async () => {
    const { ledger, store } = await openLedger();
    await grow(ledger, 258);
    let reads = 0;
    const counting: TransparencyStore = {
      treeSize: () => store.treeSize(),
      readNodes: (ids) => (reads++, store.readNodes(ids)),
      findLeaf: (id) => store.findLeaf(id),
      latestCheckpoint: () => store.latestCheckpoint(),
      saveCheckpoint: (c) => store.saveCheckpoint(c),
    };
    const log = logOn(counting);
    const latest = await log.publish();
    /** How many node reads a consistency proof from size 1 to `size` takes: one for its hashes, one more for a root not kept. */
    const readsFor = async (size: number) => {
      const before = reads;
      const p = await log.consistencyProof(1, size);
      expect(p.checkpoint.treeSize).toBe(size);
      expect(parseCheckpoint(openNote(p.checkpoint.note, key())).treeSize).toBe(size);
      return reads - before;
    };
    // The latest checkpoint is the one published: no root to read.
    expect(await readsFor(latest.treeSize)).toBe(1);
    expect(await readsFor(1)).toBe(2);
    expect(await readsFor(1)).toBe(1);
    for (let s = 2; s <= 256; s++) expect(await readsFor(s)).toBe(2);
    // A 257th size sets aside the one signed first (size 1); the rest stay.
    expect(await readsFor(257)).toBe(2);
    expect(await readsFor(2)).toBe(1);
    expect(await readsFor(256)).toBe(1);
    expect(await readsFor(1)).toBe(2);
  });

  it("find an event's leaf by id", async () => {
    const { ledger, store } = await openLedger();
    await grow(ledger, 2);
    const log = logOn(store);
    const events = await allEvents(ledger);
    expect(await log.findLeaf(events[2]!.id)).toMatchObject({ leafIndex: 2 });
    expect(await log.findLeaf("no-such-event")).toBeNull();
  });
});

describe("the guard", () => {
  /** A store whose latest checkpoint is `fake` (the rest is the real one's). */
  const withLatest = (store: TransparencyStore, fake: () => StoredCheckpoint | null): TransparencyStore => ({
    treeSize: () => store.treeSize(),
    readNodes: (ids) => store.readNodes(ids),
    findLeaf: (id) => store.findLeaf(id),
    saveCheckpoint: (c) => store.saveCheckpoint(c),
    latestCheckpoint: async () => fake(),
  });

  it("starts on an intact tree, takes the stored checkpoint as the latest and publishes in the background", async () => {
    const { ledger, store } = await openLedger();
    const before = await logOn(store).publish();
    await grow(ledger, 1);
    const log = logOn(store);
    await log.start();
    expect(log.haltReason()).toBeNull();
    // start() took the stored checkpoint; its first publication is under way and is shared.
    expect(log.latest().treeSize).toBeGreaterThanOrEqual(before.treeSize);
    expect((await log.publish()).treeSize).toBe(before.treeSize + 1);
  });

  it("halts on a tree smaller than a published checkpoint, says why, and resumes once it holds again", async () => {
    const { store } = await openLedger();
    const size = await store.treeSize();
    let fake: StoredCheckpoint | null = { treeSize: size + 2, root: leafHash(Buffer.from("r")), note: "n", publishedAt: 0 };
    const resumed: (() => void)[] = [];
    const saved: ((c: StoredCheckpoint) => void)[] = [];
    const watched: TransparencyStore = { ...withLatest(store, () => fake), saveCheckpoint: (c) => (saved.shift()?.(c), store.saveCheckpoint(c)) };
    const log = logOn(watched, { intervalMs: 5, onResume: () => resumed.shift()?.() });
    const message = `the ledger holds ${size} logged events but checkpoint ${size + 2} was published: was an older backup restored? ${ACCEPT_ROLLBACK_HINT}`;
    await expect(log.start()).rejects.toThrow(message);
    expect(log.haltReason()).toBe(message);
    const back = next<void>((f) => resumed.push(f));
    // Once resumed, the log publishes by itself.
    const published = next<StoredCheckpoint>((f) => saved.push(f));
    fake = null;
    await back;
    expect(log.haltReason()).toBeNull();
    expect((await published).treeSize).toBe(size);
    expect((await log.publish()).treeSize).toBe(size);
  });

  it("halts on a tree whose root at a published size differs", async () => {
    const { store } = await openLedger();
    const size = await store.treeSize();
    const fake: StoredCheckpoint = { treeSize: size - 1, root: leafHash(Buffer.from("r")), note: "n", publishedAt: 0 };
    const log = logOn(withLatest(store, () => fake));
    const message = `the tree's root at size ${size - 1} is not the one its published checkpoint signed; ${ACCEPT_ROLLBACK_HINT}`;
    await expect(log.start()).rejects.toThrow(message);
    expect(log.haltReason()).toBe(message);
    expect(ACCEPT_ROLLBACK_HINT).toBe("restore the newest backup, or accept the loss with `npm run cli -- accept-rollback --yes`");
  });

  it("halts on the copy kept outside the database when the database went back, whatever the database's own checkpoint says", async () => {
    const { ledger, store } = await openLedger();
    const size = await store.treeSize();
    const id = (await ledgerIdentity(store, size))!;
    const kept = memoryMirror(noteFor(size + 5, leafHash(Buffer.from("later"))));
    const log = logOn(store, { mirror: mirrors(new Map([[id, kept]])) });
    await expect(log.start()).rejects.toThrow(`the ledger holds ${size} logged events but checkpoint ${size + 5} was published`);
    // Once the ledger holds what the copy says (here: the copy is the tree's own), the log starts.
    kept.note = noteFor(size, rootOf(await allEvents(ledger)));
    const again = logOn(store, { mirror: mirrors(new Map([[id, kept]])) });
    await again.start();
    expect(again.haltReason()).toBeNull();
    await again.publish();
  });

  it("ignores a kept copy of another log, and halts on a kept copy with another root", async () => {
    const { store } = await openLedger();
    const size = await store.treeSize();
    const id = (await ledgerIdentity(store, size))!;
    const foreign = memoryMirror(noteFor(size + 5, leafHash(Buffer.from("x")), testSigner("other.origin"), "other.origin"));
    const log = logOn(store, { mirror: mirrors(new Map([[id, foreign]])) });
    await log.start();
    expect(log.haltReason()).toBeNull();
    await log.publish();
    const changed = memoryMirror(noteFor(size - 1, leafHash(Buffer.from("x"))));
    await expect(logOn(store, { mirror: mirrors(new Map([[id, changed]])) }).start()).rejects.toThrow(
      `the tree's root at size ${size - 1} is not the one its published checkpoint signed`,
    );
  });

  it("sets aside the data folder's single old copy with a notice when this ledger does not hold it, and says nothing when it does", async () => {
    const { ledger, store } = await openLedger();
    const size = await store.treeSize();
    const root = rootOf(await allEvents(ledger));
    const start = async (legacy: string | null, withOwnCopy = false) => {
      const notices: string[] = [];
      const own = withOwnCopy ? new Map([[(await ledgerIdentity(store, size))!, memoryMirror(noteFor(size, root))]]) : undefined;
      const log = logOn(store, { mirror: mirrors(own, memoryMirror(legacy)), onNotice: (m) => notices.push(m) });
      await log.start();
      await log.publish();
      return notices;
    };
    const notice =
      `ignoring the data folder's single checkpoint copy (tree size ${size + 1}), written before copies were kept per ledger: ` +
      `this ledger's tree does not hold it, so it is another database's, or this one was restored from an older backup`;
    expect(await start(noteFor(size + 1, root))).toEqual([notice]);
    expect(await start(noteFor(size, leafHash(Buffer.from("x"))))).toEqual([notice.replace(`tree size ${size + 1}`, `tree size ${size}`)]);
    expect(await start(noteFor(size, root))).toEqual([]);
    expect(await start(noteFor(size - 1, rootOf(await allEvents(ledger), size - 1)))).toEqual([]);
    expect(await start(noteFor(0, EMPTY_ROOT))).toEqual([]);
    // A copy of size 0 says nothing, whatever root it names.
    expect(await start(noteFor(0, leafHash(Buffer.from("x"))))).toEqual([]);
    expect(await start(null)).toEqual([]);
    expect(await start(noteFor(size + 1, root, testSigner("other.origin"), "other.origin"))).toEqual([]);
    // The ledger's own copy guards from now on: the old single file is not read at all.
    expect(await start(noteFor(size + 1, root), true)).toEqual([]);
  });

  it("sets the old copy aside without a notice handler too", async () => {
    const { ledger, store } = await openLedger();
    const size = await store.treeSize();
    const log = logOn(store, { mirror: mirrors(undefined, memoryMirror(noteFor(size + 1, rootOf(await allEvents(ledger))))) });
    await log.start();
    expect(log.haltReason()).toBeNull();
    expect((await log.publish()).treeSize).toBe(size);
  });

  it("while halted, takes each new reason the check gives, and resumes only once it holds", async () => {
    const { store } = await openLedger();
    const size = await store.treeSize();
    const behind: StoredCheckpoint = { treeSize: size + 2, root: leafHash(Buffer.from("r")), note: "n", publishedAt: 0 };
    const changed: StoredCheckpoint = { treeSize: size - 1, root: leafHash(Buffer.from("r")), note: "n", publishedAt: 0 };
    let fake: StoredCheckpoint | null = behind;
    const looked: ((c: StoredCheckpoint | null) => void)[] = [];
    const look = () => next<StoredCheckpoint | null>((f) => looked.push(f));
    const resumed: (() => void)[] = [];
    let resumes = 0;
    const watched = withLatest(store, () => {
      const c = fake;
      looked.shift()?.(c);
      return c;
    });
    const log = logOn(watched, { intervalMs: 5, onResume: () => (resumes++, resumed.shift()?.()) });
    await expect(log.start()).rejects.toThrow(`checkpoint ${size + 2} was published`);
    fake = changed;
    // A check that saw the changed tree has failed by the time the next one starts.
    while ((await look()) !== changed);
    await look();
    expect(log.haltReason()).toBe(`the tree's root at size ${size - 1} is not the one its published checkpoint signed; ${ACCEPT_ROLLBACK_HINT}`);
    expect(resumes).toBe(0);
    const back = next<void>((f) => resumed.push(f));
    fake = null;
    await back;
    expect(resumes).toBe(1);
    expect(log.haltReason()).toBeNull();
    expect((await log.publish()).treeSize).toBe(size);
  });

  it("looks again every 500 ms by default while halted, publishes every 500 ms once resumed, and stops", async () => {
    // Only the log's interval timer is simulated; the ledger's own work runs as usual.
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval"] });
    cleanups.push(() => vi.useRealTimers());
    const { store } = await openLedger();
    const size = await store.treeSize();
    let fake: StoredCheckpoint | null = { treeSize: size + 2, root: leafHash(Buffer.from("r")), note: "n", publishedAt: 0 };
    let looks = 0;
    const saved: ((c: StoredCheckpoint) => void)[] = [];
    const watched: TransparencyStore = {
      ...withLatest(store, () => (looks++, fake)),
      saveCheckpoint: (c) => (saved.shift()?.(c), store.saveCheckpoint(c)),
    };
    // No onResume: resuming needs no handler.
    const log = logOn(watched, { intervalMs: undefined });
    await expect(log.start()).rejects.toThrow(`checkpoint ${size + 2} was published`);
    expect(looks).toBe(1);
    vi.advanceTimersByTime(499);
    expect(looks).toBe(1);
    fake = null;
    const published = next<StoredCheckpoint>((f) => saved.push(f));
    vi.advanceTimersByTime(1);
    expect(looks).toBe(2);
    expect((await published).treeSize).toBe(size);
    await log.publish();
    expect(log.haltReason()).toBeNull();
    const after = looks;
    vi.advanceTimersByTime(499);
    expect(looks).toBe(after);
    vi.advanceTimersByTime(1);
    expect(looks).toBe(after + 1);
    await log.publish();
    log.stop();
    vi.advanceTimersByTime(60_000);
    expect(looks).toBe(after + 1);
  });

  it("runs one check at a time while halted, and stays halted when stopped during one", async () => {
    // Only the log's interval timer is simulated; the ledger's own work runs as usual.
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval"] });
    cleanups.push(() => vi.useRealTimers());
    const { store } = await openLedger();
    const size = await store.treeSize();
    const behind: StoredCheckpoint = { treeSize: size + 2, root: leafHash(Buffer.from("r")), note: "n", publishedAt: 0 };
    let looks = 0;
    let held: ((c: StoredCheckpoint | null) => void) | null = null;
    const watched: TransparencyStore = {
      ...withLatest(store, () => behind),
      latestCheckpoint: () => {
        looks++;
        return held === null && looks > 1 ? new Promise((resolve) => (held = resolve)) : Promise.resolve(behind);
      },
    };
    // The old single copy is the check's last read: once it is read, the rest of the check takes no I/O.
    const legacyReads: (() => void)[] = [];
    const legacy: CheckpointMirror = { read: async () => (legacyReads.shift()?.(), null), write: async () => undefined };
    let resumes = 0;
    const log = logOn(watched, { intervalMs: 100, onResume: () => resumes++, mirror: mirrors(undefined, legacy) });
    const message = `the ledger holds ${size} logged events but checkpoint ${size + 2} was published: was an older backup restored? ${ACCEPT_ROLLBACK_HINT}`;
    await expect(log.start()).rejects.toThrow(message);
    vi.advanceTimersByTime(100);
    expect(looks).toBe(2);
    // The check under way is not joined by others, however long it takes.
    vi.advanceTimersByTime(1000);
    expect(looks).toBe(2);
    log.stop();
    const checked = next<void>((f) => legacyReads.push(f));
    held!(null);
    await checked;
    await new Promise((resolve) => setImmediate(resolve));
    // The check passed, but the log was stopped: it neither resumes nor publishes.
    expect(resumes).toBe(0);
    expect(log.haltReason()).toBe(message);
    vi.advanceTimersByTime(1000);
    expect(looks).toBe(2);
  });

  it("an empty ledger has no identity: neither copy is read", async () => {
    const { store } = await openLedger(new TestClock(), false);
    let reads = 0;
    const counting: CheckpointMirror = {
      read: async () => {
        reads++;
        return noteFor(9, EMPTY_ROOT);
      },
      write: async () => undefined,
    };
    const log = logOn(store, { mirror: { forLedger: () => counting, legacy: counting } });
    await log.start();
    await log.publish();
    expect(reads).toBe(0);
  });

  it("reports a failed scheduled publication and tries again at the next tick", async () => {
    const { store } = await openLedger();
    let failures = 0;
    const failing: TransparencyStore = {
      treeSize: () => store.treeSize(),
      readNodes: (ids) => store.readNodes(ids),
      findLeaf: (id) => store.findLeaf(id),
      latestCheckpoint: () => store.latestCheckpoint(),
      saveCheckpoint: async (c) => {
        if (failures < 2) {
          failures++;
          throw new Error(`disk full ${failures}`);
        }
        return store.saveCheckpoint(c);
      },
    };
    const errors: unknown[] = [];
    const second = new Promise<void>((resolve) => {
      const log = logOn(failing, {
        intervalMs: 5,
        onError: (e) => {
          errors.push(e);
          if (errors.length === 2) resolve();
        },
      });
      void log.start();
    });
    await second;
    expect(errors.map((e) => (e as Error).message)).toEqual(["disk full 1", "disk full 2"]);
  });
});
