// What every storage adapter's transparency part must do: the tree follows the chain
// commit by commit, proofs from it verify against checkpoints, and the stored checkpoint only grows.
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { publishCatalogDir } from "../../../src/catalog-dir.js";
import type { LedgerEvent } from "../../../src/domain/events.js";
import { Ledger } from "../../../src/ledger.js";
import { TreeBuilder, leafHash, verifyConsistency, verifyInclusion } from "../../../src/log/merkle/index.js";
import { TransparencyLog } from "../../../src/log/transparency-log.js";
import type { StoragePort } from "../../../src/storage/storage-port.js";
import { TestClock, commandBatches, run } from "../../support/ledger-commands.js";
import { testSigner } from "../../support/log-fixtures.js";

/** Kept for the tests that import the signer from here. */
export { testSigner };

/** The RFC 9162 root of the first `size` events, computed from their hashes alone. */
export function rootOf(events: readonly LedgerEvent[], size = events.length): Buffer {
  const b = new TreeBuilder();
  for (const e of events.slice(0, size)) b.append(leafHash(Buffer.from(e.hash, "hex")));
  return b.root();
}

const b64 = (s: string) => Buffer.from(s, "base64");

/** A fresh, empty store; `reopen` (when the adapter is durable) opens the same data again after `close`. */
export type TransparencyFactory = () => Promise<{ storage: StoragePort; reopen: (() => Promise<StoragePort>) | null; cleanup: () => Promise<void> | void }>;

export function transparencyConformance(name: string, factory: TransparencyFactory): void {
  describe(`transparency conformance: ${name}`, () => {
    const cleanups: (() => Promise<void> | void)[] = [];
    afterEach(async () => {
      for (const c of cleanups.splice(0).reverse()) await c();
    });

    async function open(clock = new TestClock()) {
      const sut = await factory();
      cleanups.push(sut.cleanup);
      const ledger = await Ledger.open(sut.storage, { clock: clock.now });
      cleanups.push(() => ledger.close());
      await publishCatalogDir(ledger, "data/policies");
      return { ledger, storage: sut.storage, clock, sut };
    }

    function logOn(storage: StoragePort, signer = testSigner("ledger.test/conformance")): TransparencyLog {
      const log = new TransparencyLog(storage.transparency, signer, { origin: signer.name, intervalMs: 60_000 });
      cleanups.push(() => log.stop());
      return log;
    }

    const everything = (storage: StoragePort) => storage.readAll(0, Number.MAX_SAFE_INTEGER);

    it("extends the tree with every commit, in the chain's order, whatever commits or is refused; every event's proof verifies", async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(commandBatches, { minLength: 1, maxLength: 3 }), async (rounds) => {
          const clock = new TestClock();
          const { ledger, storage } = await open(clock);
          const log = logOn(storage);
          await log.start();
          const checkpoints = [await log.publish()];
          for (const batches of rounds) {
            await run(ledger, clock, batches);
            checkpoints.push(await log.publish());
          }
          const events = await everything(storage);
          expect(await storage.transparency.treeSize()).toBe(events.length);
          expect(await storage.transparency.backlog()).toBe(0);
          const latest = log.latest();
          expect(latest.treeSize).toBe(events.length);
          expect(latest.rootHash).toBe(rootOf(events).toString("base64"));
          for (const e of events) {
            const leaf = await log.findLeaf(e.id);
            expect(leaf).toEqual({ leafIndex: e.position - 1, subjectId: e.subjectId });
            const p = await log.inclusionProof(leaf!.leafIndex);
            expect(b64(p.leafHash)).toEqual(leafHash(Buffer.from(e.hash, "hex")));
            verifyInclusion(p.leafIndex, p.treeSize, b64(p.leafHash), p.hashes.map(b64), b64(latest.rootHash));
          }
          // Every checkpoint published on the way is a prefix of the latest, and its root is the log's at its size.
          for (const c of checkpoints) {
            expect(c.root).toEqual(rootOf(events, c.treeSize));
            if (c.treeSize === 0) continue;
            const proof = await log.consistencyProof(c.treeSize);
            verifyConsistency(c.treeSize, latest.treeSize, proof.hashes.map(b64), c.root, b64(latest.rootHash));
          }
          expect(await storage.transparency.audit()).toMatchObject({ ok: true, leaves: events.length, eventCount: events.length, problem: null });
        }),
        { numRuns: 4 },
      );
    }, 120_000);

    it("rebuilds the tree from the log to the same proofs", async () => {
      const clock = new TestClock();
      const { ledger, storage } = await open(clock);
      for (let i = 0; i < 20; i++) await ledger.recordConsent(`s${i % 5}`, { policyId: null, policyVersion: 1, acceptPolicy: true, grant: i % 2 ? ["location"] : [], withdraw: [], occurredAt: null, evidence: null, expectedVersion: null }, { kind: "SUBJECT", id: `s${i % 5}` });
      const log = logOn(storage);
      await log.start();
      await log.publish();
      const size = log.latest().treeSize;
      const proofs = await Promise.all(Array.from({ length: size }, (_, i) => log.inclusionProof(i)));
      await storage.rebuild();
      expect(await storage.transparency.treeSize()).toBe(size);
      expect(await Promise.all(Array.from({ length: size }, (_, i) => log.inclusionProof(i)))).toEqual(proofs);
      expect((await storage.transparency.audit()).ok).toBe(true);
    });

    it("keeps the latest checkpoint, which only grows: a smaller or equal one leaves it as it is", async () => {
      const { ledger, storage, sut } = await open();
      await ledger.recordConsent("alice", { policyId: null, policyVersion: 1, acceptPolicy: true, grant: ["location"], withdraw: [], occurredAt: null, evidence: null, expectedVersion: null }, { kind: "SUBJECT", id: "alice" });
      const signer = testSigner("ledger.test/conformance");
      const log = logOn(storage, signer);
      await log.start();
      const latest = await log.publish();
      expect(latest.treeSize).toBeGreaterThan(1);
      const t = storage.transparency;
      expect(await t.saveCheckpoint({ ...latest, treeSize: latest.treeSize - 1, note: "smaller" })).toEqual(latest);
      expect(await t.saveCheckpoint({ ...latest, note: "the same size" })).toEqual(latest);
      expect(await t.latestCheckpoint()).toEqual(latest);
      if (!sut.reopen) return;
      await ledger.close();
      const again = await sut.reopen();
      cleanups.push(() => again.close());
      expect(await again.transparency.latestCheckpoint()).toEqual(latest);
      // A log started on the reopened store serves the same checkpoint and signs the same note for the same tree.
      const second = logOn(again, signer);
      await second.start();
      expect(second.latest().note).toBe(latest.note);
    });
  });
}
