// The transparency log's tree on PostgreSQL: extended by the sequencer, caught up in chunks for a log
// that predates it, and checkpoints published from several processes on one database.
import { afterEach, describe, expect, it } from "vitest";
import type { NewEvent } from "../../../src/storage/event-store.js";
import { TransparencyLog } from "../../../src/log/transparency-log.js";
import { verifyConsistency } from "../../../src/log/merkle/index.js";
import { PgTransparency, TREE_STORED_LEVEL } from "../../../src/storage/postgres/merkle-tree.js";
import { PostgresStorage } from "../../../src/storage/postgres/postgres-storage.js";
import { freshDatabase } from "../../support/postgres.js";
import { rootOf, testSigner } from "../conformance/transparency-features.js";
import { commandProgram } from "../../../src/application/handle-command.js";

const opened: PostgresStorage[] = [];
const logs: TransparencyLog[] = [];
afterEach(async () => {
  for (const l of logs.splice(0)) l.stop();
  for (const s of opened.splice(0)) await s.close();
});

async function open(url: string): Promise<PostgresStorage> {
  const s = await PostgresStorage.open({ commands: commandProgram, url });
  opened.push(s);
  return s;
}

function logOn(s: PostgresStorage, signer = testSigner("ledger.test/pg")): TransparencyLog {
  const log = new TransparencyLog(s.transparency, signer, { origin: signer.name, intervalMs: 60_000 });
  logs.push(log);
  return log;
}

const accepted = (subjectId: string): NewEvent => ({
  type: "PolicyAccepted",
  occurredAt: 1_000,
  data: { policyId: "p", version: 1 },
  actor: { kind: "SUBJECT", id: subjectId },
  subjectId,
});

/** `count` appends of `size` events each, on distinct subjects, all at once. */
const appendMany = (s: PostgresStorage, prefix: string, count: number, size: number) =>
  Promise.all(Array.from({ length: count }, (_, i) => s.store.append(`subject:${prefix}${i}`, null, Array.from({ length: size }, () => accepted(`${prefix}${i}`)))));

const nodeRows = async (s: PostgresStorage) =>
  (await s.store.read<{ post_order: number; hash: Buffer }>("SELECT post_order, hash FROM merkle_nodes ORDER BY post_order")).rows;

describe("the Merkle tree on PostgreSQL", () => {
  it(`stores one node per ${2 ** (TREE_STORED_LEVEL - 1)} events: perfect subtrees from level ${TREE_STORED_LEVEL} up`, async () => {
    const s = await open(await freshDatabase("tree"));
    await appendMany(s, "s", 64, 4);
    expect(await s.transparency.treeSize()).toBe(256);
    // Levels 4..8 of a 256-leaf tree: 16 + 8 + 4 + 2 + 1.
    expect(await nodeRows(s)).toHaveLength(31);
    const log = logOn(s);
    await log.start();
    await log.publish();
    expect(log.latest().rootHash).toBe(rootOf(await s.readAll(0, 1_000)).toString("base64"));
  });

  it("catches up a log that predates the tree in chunks, while appends through another replica go on, to the same tree", async () => {
    const url = await freshDatabase("catchup");
    const s = await open(url);
    await appendMany(s, "a", 40, 3);
    const expected = await nodeRows(s);
    // A ledger from before the tree existed: the log is there, the tree is empty.
    await s.store.exclusive((client) => PgTransparency.reset(client));
    expect(await s.transparency.backlog()).toBe(120);
    const other = await open(url);
    await Promise.all([s.transparency.catchUp(7), other.transparency.catchUp(11), appendMany(other, "b", 10, 2)]);
    expect(await s.transparency.treeSize()).toBe(140);
    const caughtUp = await nodeRows(s);
    expect(caughtUp.slice(0, expected.length)).toEqual(expected);
    expect(await s.transparency.audit()).toMatchObject({ ok: true, leaves: 140, eventCount: 140 });
    // Appends extend the tree again once it has caught up.
    await appendMany(other, "c", 5, 1);
    expect(await s.transparency.treeSize()).toBe(145);
    const log = logOn(other);
    await log.start();
    await log.publish();
    expect(log.latest().rootHash).toBe(rootOf(await s.readAll(0, 1_000)).toString("base64"));
  });

  it("an audit names a stored node that is not the hash of the events under it", async () => {
    const s = await open(await freshDatabase("audit"));
    await appendMany(s, "s", 8, 4);
    expect((await s.transparency.audit()).ok).toBe(true);
    await s.store.read("UPDATE merkle_nodes SET hash = decode(repeat('00', 32), 'hex') WHERE post_order = (SELECT min(post_order) FROM merkle_nodes)");
    expect(await s.transparency.audit()).toMatchObject({ ok: false, problem: expect.stringMatching(/node at level 4, index 0/) });
  });

  it("the stored checkpoint row may only grow, and is never deleted", async () => {
    const s = await open(await freshDatabase("grow"));
    await appendMany(s, "s", 3, 1);
    const log = logOn(s);
    await log.start();
    await log.publish();
    await expect(s.store.read("UPDATE checkpoint_latest SET tree_size = 1")).rejects.toThrow(/only extend/);
    await expect(s.store.read("DELETE FROM checkpoint_latest")).rejects.toThrow(/never deleted/);
    await expect(s.store.read("TRUNCATE checkpoint_latest")).rejects.toThrow(/never deleted/);
  });
});

describe("checkpoints from several replicas on one database", () => {
  it("replicas racing to publish while writing through each other never sign two inconsistent checkpoints, and agree on the latest", async () => {
    const url = await freshDatabase("race");
    const signer = testSigner("ledger.test/replicas");
    const replicas = [await open(url), await open(url), await open(url)];
    const published = replicas.map((r) => logOn(r, signer));
    for (const l of published) await l.start();
    const seen: { treeSize: number; root: Buffer }[] = [];
    for (let round = 0; round < 6; round++) {
      await Promise.all(replicas.map((r, i) => appendMany(r, `r${i}x${round}-`, 3, 1 + (round % 3))));
      seen.push(...(await Promise.all(published.map((l) => l.publish()))));
    }
    const events = await replicas[0]!.readAll(0, 10_000);
    // Every checkpoint any replica returned is the log's tree at its size, hence a prefix of the latest.
    for (const c of seen) expect(c.root).toEqual(rootOf(events, c.treeSize));
    const stored = (await replicas[0]!.transparency.latestCheckpoint())!;
    expect(stored.treeSize).toBe(events.length);
    for (const l of published) {
      await l.publish();
      expect(l.latest().note).toBe(stored.note);
    }
    const first = seen[0]!;
    const proof = await published[2]!.consistencyProof(first.treeSize);
    verifyConsistency(first.treeSize, stored.treeSize, proof.hashes.map((h) => Buffer.from(h, "base64")), first.root, stored.root);
  });

  it("a replica with another checkpoint key refuses the checkpoint the others signed, and serves none of its own over it", async () => {
    const url = await freshDatabase("keys");
    const a = await open(url);
    const b = await open(url);
    const logA = logOn(a, testSigner("ledger.test/keys"));
    await logA.start();
    await appendMany(a, "s", 2, 1);
    await logA.publish();
    const logB = logOn(b, testSigner("ledger.test/keys"));
    await appendMany(b, "t", 2, 1);
    await expect(logB.publish()).rejects.toThrow(/not signed by this log's checkpoint key/);
    expect(() => logB.latest()).toThrow(/no checkpoint/);
    expect((await a.transparency.latestCheckpoint())!.note).toBe(logA.latest().note);
  });
});
