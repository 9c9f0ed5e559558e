// The transparency log's smaller parts: positions and cursors, the audit verdict, the checkpoint copy
// kept in a file, and accepting a ledger that went back (on an in-memory SQLite ledger and a temp folder).
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { publishCatalogDir } from "../../src/catalog-dir.js";
import { LedgerError } from "../../src/domain/errors.js";
import { Ledger } from "../../src/ledger.js";
import { acceptRollback, formatRollbackReport, type RollbackReport } from "../../src/log/accept-rollback.js";
import { formatCheckpoint } from "../../src/log/checkpoint/checkpoint.js";
import { checkpointFile, checkpointMirrors, mirrorFolder, mirrorPath } from "../../src/log/checkpoint/latest-file.js";
import { signNote } from "../../src/log/checkpoint/signed-note.js";
import { leafHash } from "../../src/log/merkle/hash.js";
import { decodeCursor, encodePosition } from "../../src/log/position.js";
import { ledgerIdentity } from "../../src/log/transparency-log.js";
import type { StoredCheckpoint, TransparencyStore } from "../../src/log/transparency-store.js";
import { auditReport } from "../../src/log/tree-audit.js";
import { SqliteStorage } from "../../src/storage/sqlite/sqlite-storage.js";
import { commandProgram } from "../../src/application/handle-command.js";
import { rootOf } from "../storage/conformance/transparency-features.js";
import { testSigner } from "../support/log-fixtures.js";
import { tempDir } from "../support/common.js";

const removals: (() => void)[] = [];
afterAll(() => removals.forEach((r) => r()));
/** A new empty folder, removed after the file's tests. */
function folder(): string {
  const t = tempDir();
  removals.push(t.cleanup);
  return t.dir;
}

describe("positions", () => {
  it("encode as 16 zero-padded digits that sort as numbers do, and decode back", () => {
    expect(encodePosition(0)).toBe("0000000000000000");
    expect(encodePosition(42)).toBe("0000000000000042");
    expect(encodePosition(2 ** 53 - 1)).toBe("9007199254740991");
    for (const p of [0, 1, 9, 10, 123_456, 2 ** 40]) expect(decodeCursor(encodePosition(p))).toBe(p);
    expect(encodePosition(9) < encodePosition(10)).toBe(true);
    expect(decodeCursor(null)).toBe(0);
    expect(decodeCursor(undefined)).toBe(0);
  });

  it("refuse anything else as BAD_USER_INPUT", () => {
    for (const bad of ["", "42", "000000000000042", "00000000000000042", "000000000000004a", " 000000000000042", "000000000000042 ", "-000000000000042", "0000000000000042\n"]) {
      let e: unknown;
      try {
        decodeCursor(bad);
      } catch (err) {
        e = err;
      }
      expect(e).toBeInstanceOf(LedgerError);
      expect((e as LedgerError).code).toBe("BAD_USER_INPUT");
      expect((e as LedgerError).message).toBe("not a cursor this ledger issued");
    }
  });
});

describe("the audit verdict", () => {
  const root = Buffer.alloc(32, 7);
  const latest: StoredCheckpoint = { treeSize: 5, root, note: "the note", publishedAt: 0 };

  it("is ok when nothing differs and the latest checkpoint's root holds", () => {
    expect(auditReport(7, 7, latest, Buffer.from(root), null)).toEqual({
      ok: true,
      leaves: 7,
      eventCount: 7,
      checkpoint: { treeSize: 5, root: root.toString("base64"), note: "the note", rootHolds: true },
      problem: null,
    });
    expect(auditReport(0, 0, null, null, null)).toEqual({ ok: true, leaves: 0, eventCount: 0, checkpoint: null, problem: null });
  });

  it("names the first difference found before anything about the checkpoint", () => {
    expect(auditReport(7, 8, latest, leafHash(Buffer.from("x")), "node 3 differs")).toMatchObject({ ok: false, problem: "node 3 differs", checkpoint: { rootHolds: false } });
    expect(auditReport(7, 8, null, null, "node 3 differs")).toEqual({ ok: false, leaves: 7, eventCount: 8, checkpoint: null, problem: "node 3 differs" });
  });

  it("says when the log is shorter than the latest checkpoint, or has another root at its size", () => {
    expect(auditReport(3, 3, latest, null, null)).toEqual({
      ok: false,
      leaves: 3,
      eventCount: 3,
      checkpoint: { treeSize: 5, root: root.toString("base64"), note: "the note", rootHolds: false },
      problem: "the log holds 3 events, fewer than the 5 the latest checkpoint signed",
    });
    expect(auditReport(7, 7, latest, leafHash(Buffer.from("x")), null)).toMatchObject({
      ok: false,
      checkpoint: { rootHolds: false },
      problem: "the log's first 5 events do not have the root the latest checkpoint signed",
    });
  });
});

describe("the checkpoint copy in a file", () => {
  it("reads null before the first write, then the last note written, replacing it whole", async () => {
    const dir = folder();
    const path = join(dir, "deep", "er", "copy.checkpoint");
    const file = checkpointFile(path);
    expect(await file.read()).toBeNull();
    await file.write("first\n");
    expect(await file.read()).toBe("first\n");
    await file.write("second note\n");
    expect(readFileSync(path, "utf8")).toBe("second note\n");
    // No temporary file is left beside it.
    expect(readdirSync(join(dir, "deep", "er"))).toEqual(["copy.checkpoint"]);
  });

  it("reports a file that cannot be read, and a write that cannot land, leaving no temporary behind", async () => {
    const dir = folder();
    const asDir = join(dir, "is-a-folder");
    mkdirSync(join(asDir, "inside"), { recursive: true });
    await expect(checkpointFile(asDir).read()).rejects.toMatchObject({ code: "EISDIR" });
    await expect(checkpointFile(asDir).write("x\n")).rejects.toBeInstanceOf(Error);
    expect(readdirSync(dir)).toEqual(["is-a-folder"]);
    writeFileSync(join(dir, "a-file"), "x");
    await expect(checkpointFile(join(dir, "a-file", "below")).write("x\n")).rejects.toMatchObject({ code: "EEXIST" });
  });

  it("lives under <data>/transparency, one file per ledger and the old single file beside them", async () => {
    const dir = folder();
    expect(mirrorFolder(dir)).toBe(join(dir, "transparency"));
    expect(mirrorPath(dir, "abc")).toBe(join(dir, "transparency", "ledger-abc.checkpoint"));
    const m = checkpointMirrors(dir);
    await m.forLedger("abc").write("one\n");
    await m.forLedger("def").write("two\n");
    await m.legacy!.write("old\n");
    expect(readFileSync(join(dir, "transparency", "ledger-abc.checkpoint"), "utf8")).toBe("one\n");
    expect(readFileSync(join(dir, "transparency", "latest-checkpoint"), "utf8")).toBe("old\n");
    expect(await m.forLedger("def").read()).toBe("two\n");
  });
});

describe("accepting a ledger that went back", () => {
  const ORIGIN = "ledger.test/accept";
  const signer = testSigner(ORIGIN);
  const NOW = new Date("2026-01-02T03:04:05.678Z");
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
  });

  async function ledgerWithEvents(catalog = true): Promise<{ store: TransparencyStore; size: number; root: Buffer; id: string | null }> {
    const storage = await SqliteStorage.open({ commands: commandProgram, path: ":memory:" });
    const ledger = await Ledger.open(storage);
    cleanups.push(() => ledger.close());
    if (catalog) await publishCatalogDir(ledger, "data/policies");
    const store = storage.transparency;
    const size = await store.treeSize();
    const events = await storage.readAll(0, Number.MAX_SAFE_INTEGER);
    return { store, size, root: rootOf(events), id: await ledgerIdentity(store, size) };
  }

  const keep = async (dir: string, id: string, treeSize: number, root: Buffer, origin = ORIGIN) => {
    const s = origin === ORIGIN ? signer : testSigner(origin);
    await checkpointFile(mirrorPath(dir, id)).write(signNote(formatCheckpoint({ origin, treeSize, root }), s));
  };

  it("has nothing to guard on an empty ledger", async () => {
    const { store } = await ledgerWithEvents(false);
    const r = await acceptRollback(store, folder(), ORIGIN, { apply: true });
    expect(r).toEqual({ ledgerId: null, treeSize: 0, kept: null, holds: true, setAside: null });
    expect(formatRollbackReport(r, true)).toBe("the ledger is empty: its transparency log has nothing to guard");
  });

  it("has nothing to accept without a copy, or with a copy of another log", async () => {
    const { store, size, root, id } = await ledgerWithEvents();
    const dir = folder();
    const none = await acceptRollback(store, dir, ORIGIN, { apply: true });
    expect(none).toEqual({ ledgerId: id, treeSize: size, kept: null, holds: true, setAside: null });
    expect(formatRollbackReport(none, false)).toBe(`no checkpoint copy is kept for this ledger (${id!.slice(0, 16)}…): nothing to accept`);
    await keep(dir, id!, size + 3, root, "other.origin");
    expect(await acceptRollback(store, dir, ORIGIN, { apply: true })).toEqual(none);
  });

  it("has nothing to accept when the ledger holds the kept checkpoint", async () => {
    const { store, size, root, id } = await ledgerWithEvents();
    const dir = folder();
    await keep(dir, id!, size, root);
    const r = await acceptRollback(store, dir, ORIGIN, { apply: true, now: NOW });
    expect(r).toEqual({ ledgerId: id, treeSize: size, kept: { path: mirrorPath(dir, id!), treeSize: size }, holds: true, setAside: null });
    expect(formatRollbackReport(r, true)).toBe(`the ledger holds the kept checkpoint (tree size ${size} of ${size}): nothing to accept`);
    expect(existsSync(mirrorPath(dir, id!))).toBe(true);
  });

  it("explains a copy beyond the ledger and, with --yes, sets it aside under a name with the time", async () => {
    const { store, size, root, id } = await ledgerWithEvents();
    const dir = folder();
    await keep(dir, id!, size + 4, root);
    const path = mirrorPath(dir, id!);
    const looked = await acceptRollback(store, dir, ORIGIN, { apply: false, now: NOW });
    expect(looked).toEqual({ ledgerId: id, treeSize: size, kept: { path, treeSize: size + 4 }, holds: false, setAside: null });
    expect(formatRollbackReport(looked, false)).toBe(
      `checkpoint ${size + 4} was given out, and the ledger holds ${size} leaves: checkpoints above ${size} become void. Prefer restoring the newest backup; to accept the loss, run again with --yes.`,
    );
    expect(existsSync(path)).toBe(true);
    const applied = await acceptRollback(store, dir, ORIGIN, { apply: true, now: NOW });
    const aside = `${path}.void-2026-01-02T03-04-05-678Z`;
    expect(applied.setAside).toBe(aside);
    expect(existsSync(path)).toBe(false);
    expect(existsSync(aside)).toBe(true);
    expect(formatRollbackReport(applied, true)).toBe(
      `checkpoint ${size + 4} was given out, and the ledger holds ${size} leaves: checkpoints above ${size} become void; set ${path} aside as ${aside}. The log resumes within its interval (or at the next start). Tell whoever verifies the log's checkpoints.`,
    );
    // Nothing is left to accept afterwards.
    expect((await acceptRollback(store, dir, ORIGIN, { apply: true })).kept).toBeNull();
  });

  it("explains a copy whose root the ledger's tree does not have at its size", async () => {
    const { store, size, id } = await ledgerWithEvents();
    const dir = folder();
    await keep(dir, id!, size, leafHash(Buffer.from("another root")));
    const r = await acceptRollback(store, dir, ORIGIN, { apply: true });
    expect(r.holds).toBe(false);
    expect(r.setAside).toMatch(/\.void-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d-\d{3}Z$/);
    const report: RollbackReport = { ...r };
    expect(formatRollbackReport(report, false)).toBe(
      `the ledger's tree at size ${size} is not the one its kept checkpoint signed: that checkpoint becomes void. Prefer restoring the newest backup; to accept the loss, run again with --yes.`,
    );
  });
});
