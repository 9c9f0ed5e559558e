// The transparency log's rollback guard, kept per ledger: ledgers beside one data folder never halt each
// other; a ledger restored from an older backup halts its log until an operator sets the void copy aside.
import { copyFileSync, existsSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Ledger } from "../../src/ledger.js";
import { acceptRollback } from "../../src/log/accept-rollback.js";
import { checkpointFile, checkpointMirrors, mirrorFolder } from "../../src/log/checkpoint/latest-file.js";
import { TransparencyLog } from "../../src/log/transparency-log.js";
import { eventually, tempDir } from "../support/common.js";
import { accepted, testSigner } from "../support/log-fixtures.js";
import { openSqliteLedgerAt, sqlite } from "../support/ledger-commands.js";

const ORIGIN = "ledger.test/guard";
const signer = testSigner(ORIGIN);

async function append(l: Ledger, subject: string, n: number): Promise<void> {
  await sqlite(l).store.append(`subject:${subject}`, null, Array.from({ length: n }, () => accepted(subject)));
}

/** Resolves once `ok()` holds (the log's guard announces nothing but its notices). */
const until = (ok: () => boolean): Promise<void> => eventually("the log's guard", ok, { intervalMs: 5 });

/** Opens the ledger at `path` with a log whose copies live under `dataDir`, runs `work`, closes both. */
async function session(path: string, dataDir: string, work: (l: Ledger, t: TransparencyLog, notices: string[]) => Promise<void>): Promise<void> {
  const l = await openSqliteLedgerAt(path);
  const notices: string[] = [];
  const t = new TransparencyLog(l.storage.transparency, signer, { origin: ORIGIN, intervalMs: 10, mirror: checkpointMirrors(dataDir), onNotice: (m) => notices.push(m) });
  try {
    await work(l, t, notices);
  } finally {
    t.stop();
    await l.close();
  }
}

describe("the rollback guard, per ledger", () => {
  it("two ledgers beside one data folder both publish, each keeping its own copy", async () => {
    const { dir, cleanup } = tempDir();
    try {
      await session(join(dir, "a.db"), dir, async (l, t) => {
        await append(l, "a", 5);
        await t.start();
        expect((await t.publish()).treeSize).toBe(5);
      });
      // A second, smaller ledger: the first one's checkpoint of 5 is not its own.
      await session(join(dir, "b.db"), dir, async (l, t) => {
        await append(l, "b", 2);
        await t.start();
        expect(t.haltReason()).toBeNull();
        expect((await t.publish()).treeSize).toBe(2);
      });
      await session(join(dir, "a.db"), dir, async (l, t) => {
        await t.start();
        expect(t.latest().treeSize).toBe(5);
      });
      expect(readdirSync(mirrorFolder(dir)).filter((f) => f.endsWith(".checkpoint"))).toHaveLength(2);
    } finally {
      cleanup();
    }
  });

  it("a restored older copy halts its log until the operator sets the void copy aside, then the log resumes", async () => {
    const { dir, cleanup } = tempDir();
    try {
      const path = join(dir, "ledger.db");
      await session(path, dir, async (l, t) => {
        await append(l, "s", 3);
        await t.start();
        await t.publish();
      });
      copyFileSync(path, join(dir, "backup.db"));
      await session(path, dir, async (l, t) => {
        await append(l, "s2", 4);
        await t.start();
        expect((await t.publish()).treeSize).toBe(7);
      });
      copyFileSync(join(dir, "backup.db"), path);
      await session(path, dir, async (l, t) => {
        await expect(t.start()).rejects.toThrow(/holds 3 logged events but checkpoint 7 was published/);
        expect(t.haltReason()).toMatch(/checkpoint 7 was published.*accept-rollback/);
        // Looking first changes nothing; the log stays halted on its retries.
        const looked = await acceptRollback(l.storage.transparency, dir, ORIGIN, { apply: false });
        expect(looked).toMatchObject({ treeSize: 3, kept: { treeSize: 7 }, holds: false, setAside: null });
        expect(existsSync(looked.kept!.path)).toBe(true);
        const done = await acceptRollback(l.storage.transparency, dir, ORIGIN, { apply: true });
        expect(existsSync(done.setAside!)).toBe(true);
        expect(existsSync(done.kept!.path)).toBe(false);
        await until(() => t.haltReason() === null);
        await append(l, "s3", 1);
        expect((await t.publish()).treeSize).toBe(4);
        // The log's own copy is written again, for the tree the ledger holds now.
        expect(await checkpointFile(done.kept!.path).read()).toContain("\n4\n");
      });
    } finally {
      cleanup();
    }
  });

  it("the single copy older versions kept counts when the ledger holds it, and is set aside with a notice when it does not", async () => {
    const { dir, cleanup } = tempDir();
    try {
      const legacy = checkpointFile(join(mirrorFolder(dir), "latest-checkpoint"));
      await session(join(dir, "a.db"), dir, async (l, t) => {
        await append(l, "a", 4);
        await t.start();
        await legacy.write((await t.publish()).note);
      });
      // Another database: the old copy is not its own, so its log starts, and the operator is told.
      await session(join(dir, "b.db"), dir, async (l, t, notices) => {
        await append(l, "b", 2);
        await t.start();
        expect(t.haltReason()).toBeNull();
        expect(notices.join("\n")).toMatch(/ignoring the data folder's single checkpoint copy \(tree size 4\)/);
      });
      // Without its own copy, the first ledger takes the old one as its own: it holds it.
      for (const f of readdirSync(mirrorFolder(dir))) if (f.endsWith(".checkpoint")) rmSync(join(mirrorFolder(dir), f));
      await session(join(dir, "a.db"), dir, async (_l, t, notices) => {
        await t.start();
        expect(notices).toEqual([]);
      });
    } finally {
      cleanup();
    }
  });
});
