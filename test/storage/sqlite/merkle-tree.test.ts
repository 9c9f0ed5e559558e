// The tree in SQLite: kept in the append's transaction, equal to a tree built from the log, caught up in chunks.
import { copyFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { LedgerError } from "../../../src/domain/errors.js";
import type { Ledger } from "../../../src/ledger.js";
import { TreeBuilder, leafHash } from "../../../src/log/merkle/index.js";
import { TransparencyLog } from "../../../src/log/transparency-log.js";
import type { SqliteStorage } from "../../../src/storage/sqlite/sqlite-storage.js";
import { TestClock, newLedger, openSqliteLedgerAt, sqlite } from "../../support/ledger-commands.js";
import { eventually, tempDir } from "../../support/common.js";
import { accepted, testSigner } from "../../support/log-fixtures.js";

const ledgers: Ledger[] = [];
const logs: TransparencyLog[] = [];
afterEach(async () => {
  for (const l of logs.splice(0)) l.stop();
  for (const l of ledgers.splice(0)) await l.close();
});

/** The SQLite adapter's event store, tree and transparency port under a ledger. */
const st = (l: Ledger) => sqlite(l).store;
const tree = (l: Ledger) => sqlite(l).tree!;
const port = (l: Ledger) => (l.storage as SqliteStorage).transparency!;

async function ledger(): Promise<Ledger> {
  const l = await newLedger(new TestClock());
  ledgers.push(l);
  return l;
}

/** Every stored row of the tree, and how far it reaches. */
const treeRows = (l: Ledger) => ({
  leaves: tree(l).size(),
  nodes: st(l).db.prepare("SELECT post_order, hex(hash) AS hash FROM merkle_nodes ORDER BY post_order").all(),
});

/** The root of the log's events computed in memory, from their hashes alone. */
function rootOfLog(l: Ledger): string {
  const b = new TreeBuilder();
  for (const e of st(l).readAll(0, Number.MAX_SAFE_INTEGER)) b.append(leafHash(Buffer.from(e.hash, "hex")));
  return b.root().toString("base64");
}

function transparency(l: Ledger): TransparencyLog {
  const t = new TransparencyLog(port(l), testSigner("ledger.test/unit"), { origin: "ledger.test/unit", intervalMs: 60_000 });
  logs.push(t);
  return t;
}

/** Appends batches concurrently (so they share group commits); a wrong expectedVersion makes some fail and roll back alone. */
async function appendBatches(l: Ledger, batches: readonly { subject: number; size: number; conflict: boolean }[]): Promise<void> {
  await Promise.allSettled(
    batches.map((b) => st(l).append(`subject:s${b.subject}`, b.conflict ? 999 : null, Array.from({ length: b.size }, () => accepted(`s${b.subject}`)))),
  );
}

const batchArb = fc.array(fc.record({ subject: fc.integer({ min: 0, max: 4 }), size: fc.integer({ min: 1, max: 4 }), conflict: fc.boolean() }), { maxLength: 25 });

describe("the Merkle tree in SQLite", () => {
  it("covers every committed event, equals the tree of the events' hashes, and equals a rebuild, whatever commits or rolls back", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(batchArb, { minLength: 1, maxLength: 4 }), async (rounds) => {
        const l = await ledger();
        for (const r of rounds) await appendBatches(l, r);
        expect(tree(l).size()).toBe(st(l).eventCount());
        const inline = treeRows(l);
        const t = transparency(l);
        await t.start();
        await t.publish();
        expect(t.latest().rootHash).toBe(rootOfLog(l));
        await l.rebuild();
        expect(treeRows(l)).toEqual(inline);
        await l.close();
        ledgers.pop();
        t.stop();
      }),
      { numRuns: 25 },
    );
  });

  it("stores about one 32-byte hash per event", async () => {
    const l = await ledger();
    await appendBatches(l, Array.from({ length: 64 }, (_, i) => ({ subject: i, size: 4, conflict: false })));
    expect(st(l).eventCount()).toBe(256);
    expect(treeRows(l).nodes).toHaveLength(255);
  });

  it("catches up a log that predates the tree in chunks, while appends go on, to the same tree", async () => {
    const l = await ledger();
    await appendBatches(l, Array.from({ length: 40 }, (_, i) => ({ subject: i, size: 3, conflict: false })));
    const expected = treeRows(l);
    // A ledger from before the tree existed: the log is there, the tree is empty.
    st(l).db.exec("DELETE FROM merkle_nodes; UPDATE merkle_tree SET leaves = 0");
    const more = appendBatches(l, Array.from({ length: 10 }, (_, i) => ({ subject: 100 + i, size: 2, conflict: false })));
    await Promise.all([port(l).catchUp(7), more]);
    expect(tree(l).size()).toBe(st(l).eventCount());
    const caughtUp = treeRows(l);
    expect(caughtUp.nodes.slice(0, expected.nodes.length)).toEqual(expected.nodes);
    await l.rebuild();
    expect(treeRows(l)).toEqual(caughtUp);
  });
});

describe("checkpoints", () => {
  it("an event after the latest checkpoint is NOT_YET_LOGGED, and covered once a checkpoint is asked for", async () => {
    const l = await ledger();
    await appendBatches(l, [{ subject: 1, size: 2, conflict: false }]);
    const t = transparency(l);
    await t.start();
    await t.publish();
    expect(t.latest().treeSize).toBe(2);
    const [e] = await st(l).append("subject:s2", null, [accepted("s2")]);
    const leaf = (await t.findLeaf(e!.id))!;
    await expect(t.inclusionProof(leaf.leafIndex)).rejects.toMatchObject({ code: "NOT_YET_LOGGED" });
    // The refusal asked for a checkpoint: it follows at once, not at the next tick a minute later.
    await eventually("the checkpoint the refusal asked for", () => t.latest().treeSize === 3, { timeoutMs: 10_000 });
    expect((await t.inclusionProof(leaf.leafIndex)).treeSize).toBe(3);
    await st(l).append("subject:s3", null, [accepted("s3")]);
    await expect(t.consistencyProof(1, 4)).rejects.toMatchObject({ code: "NOT_YET_LOGGED" });
    await eventually("the checkpoint the refusal asked for", () => t.latest().treeSize === 4, { timeoutMs: 10_000 });
    expect((await t.consistencyProof(1, 4)).checkpoint.treeSize).toBe(4);
  });

  it("the stored checkpoint only grows", async () => {
    const l = await ledger();
    await appendBatches(l, [{ subject: 1, size: 3, conflict: false }]);
    const t = transparency(l);
    await t.start();
    await t.publish();
    const latest = (await tree(l).latestCheckpoint())!;
    expect(await tree(l).saveCheckpoint({ ...latest, treeSize: 2 })).toEqual(latest);
    expect(await tree(l).saveCheckpoint({ ...latest, note: "another" })).toEqual(latest);
    expect(() => st(l).db.exec("UPDATE checkpoint_latest SET tree_size = 2")).toThrow(/only extend/);
    expect(() => st(l).db.exec("DELETE FROM checkpoint_latest")).toThrow(/never deleted/);
  });

  it("refuses to sign again when the tree no longer has the root it signed (a changed tree or an older log)", async () => {
    const l = await ledger();
    await appendBatches(l, [{ subject: 1, size: 4, conflict: false }]);
    const first = transparency(l);
    await first.start();
    await first.publish();
    st(l).db.exec("UPDATE merkle_nodes SET hash = zeroblob(32) WHERE post_order = (SELECT MAX(post_order) FROM merkle_nodes)");
    await expect(transparency(l).start()).rejects.toThrow(/not the one its published checkpoint signed/);
    st(l).db.exec("UPDATE merkle_tree SET leaves = 2");
    await expect(transparency(l).start()).rejects.toThrow(/older backup/);
  });

  it("refuses to publish a checkpoint that does not extend the last one, whatever happened to the stored nodes", async () => {
    const l = await ledger();
    await appendBatches(l, [{ subject: 1, size: 4, conflict: false }]);
    const t = transparency(l);
    await t.start();
    await t.publish();
    const before = t.latest();
    // The node over leaves 0-3 is the old root; damage it, then grow the tree past it.
    st(l).db.exec("UPDATE merkle_nodes SET hash = zeroblob(32) WHERE post_order = (SELECT MAX(post_order) FROM merkle_nodes)");
    await st(l).append("subject:s9", null, [accepted("s9")]);
    await expect(t.publish()).rejects.toThrow(/not consistent with the published checkpoint of size 4/);
    expect(t.latest()).toEqual(before);
  });

  it("a database restored from an older backup is not signed again: the checkpoint kept outside it is newer", async () => {
    const { dir, cleanup } = tempDir();
    try {
      const path = join(dir, "ledger.db");
      const backup = join(dir, "backup.db");
      let kept: string | null = null;
      const mirror = { forLedger: () => ({ read: async () => kept, write: async (note: string) => void (kept = note) }) };
      const signer = testSigner("ledger.test/unit");
      const session = async (work: (l: Ledger, t: TransparencyLog) => Promise<void>) => {
        const l = await openSqliteLedgerAt(path);
        const t = new TransparencyLog(port(l), signer, { origin: "ledger.test/unit", intervalMs: 60_000, mirror });
        try {
          await work(l, t);
        } finally {
          t.stop();
          await l.close();
        }
      };
      await session(async (l, t) => {
        await appendBatches(l, [{ subject: 1, size: 4, conflict: false }]);
        await t.start();
        await t.publish();
      });
      copyFileSync(path, backup);
      await session(async (l, t) => {
        await appendBatches(l, [{ subject: 2, size: 2, conflict: false }]);
        await t.start();
        await t.publish();
        expect(t.latest().treeSize).toBe(6);
      });
      copyFileSync(backup, path);
      await session(async (l, t) => {
        // The restored file's own checkpoint (size 4) matches it; the one given out since (size 6) does not.
        expect((await tree(l).latestCheckpoint())!.treeSize).toBe(4);
        await expect(t.start()).rejects.toThrow(/checkpoint 6 was published: was an older backup restored/);
      });
    } finally {
      cleanup();
    }
  });

  it("signs the same note for the same tree size: earlier sizes are consistent views of one tree", async () => {
    const l = await ledger();
    await appendBatches(l, [{ subject: 1, size: 5, conflict: false }]);
    const t = transparency(l);
    await t.start();
    await t.publish();
    const [a, b] = [await t.inclusionProof(0, 3), await t.inclusionProof(1, 3)];
    expect(a.checkpoint).toEqual(b.checkpoint);
    expect(a.checkpoint.treeSize).toBe(3);
    expect(() => t.latest()).not.toThrow(LedgerError);
  });
});
