// migrate-sqlite-to-postgres: every event, position and hash survives the copy, and so do the
// evidence keys (sealed values still open) and idempotency records; the copy verifies.
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { publishCatalogDir } from "../../../src/catalog-dir.js";
import { foldSubject } from "../../../src/domain/subject.js";
import { copySqliteToPostgres } from "../../../src/storage/postgres/copy-from-sqlite.js";
import { PostgresStorage } from "../../../src/storage/postgres/postgres-storage.js";
import { rowToEvent } from "../../../src/storage/event-row.js";
import { openSqliteLedgerAt } from "../../support/ledger-commands.js";
import { freshDatabase } from "../../support/postgres.js";
import { tempDir } from "../../support/common.js";
import { commandProgram } from "../../../src/application/handle-command.js";

describe("copySqliteToPostgres", () => {
  const tmp = tempDir();
  const file = join(tmp.dir, "ledger.db");
  let url: string;

  beforeAll(async () => {
    const ledger = await openSqliteLedgerAt(file);
    await publishCatalogDir(ledger, "data/policies");
    const policy = ledger.catalog.policies()[0]!;
    const v = policy.versions.at(-1)!;
    const optional = v.purposes.filter((p) => p.mode !== "REQUIRED").map((p) => p.id);
    const actor = (id: string) => ({ kind: "SUBJECT" as const, id });
    for (const id of ["ann", "ben", "cas"])
      await ledger.recordConsent(
        id,
        { policyId: policy.id, policyVersion: v.number, acceptPolicy: true, grant: optional.slice(0, 2), withdraw: [], occurredAt: null, evidence: { channel: "web", ipAddress: "198.51.100.7" }, expectedVersion: null },
        actor(id),
        `${id}-first`,
      );
    await ledger.eraseSubject("cas", "asked", { kind: "OFFICER", id: "o" });
    await ledger.close();
    url = await freshDatabase();
  });
  afterAll(() => tmp.cleanup());

  it("keeps every event, position and hash, and the copy's chain ends on the source's head", async () => {
    const report = await copySqliteToPostgres(file, url);
    expect(report.ok).toBe(true);
    expect(report.subjectKeys).toBe(2);
    expect(report.idempotencyKeys).toBe(2);
    const src = new Database(file, { readonly: true });
    const sourceEvents = (src.prepare("SELECT * FROM events ORDER BY position").all() as Parameters<typeof rowToEvent>[0][]).map(rowToEvent);
    src.close();
    expect(report.events).toBe(sourceEvents.length);
    expect(report.chain.head).toEqual({ position: sourceEvents.at(-1)!.position, hash: sourceEvents.at(-1)!.hash });

    const storage = await PostgresStorage.open({ commands: commandProgram, url });
    try {
      expect(await storage.readAll(0, 10_000)).toEqual(sourceEvents);
      // Read models rebuilt from the copied log, and the evidence key that opens ann's sealed values.
      expect(await storage.subject("ann")).toEqual(foldSubject("ann", sourceEvents.filter((e) => e.subjectId === "ann")));
      expect((await storage.subject("cas")).status).toBe("ERASED");
      expect(await storage.evidenceKey("ann")).toHaveLength(32);
      expect(await storage.evidenceKey("cas")).toBeNull();
      // The chain goes on from the copied head.
      const next = await storage.store.append("subject:dan", 0, [
        { type: "SubjectLeft", data: {}, occurredAt: Date.now(), actor: { kind: "SUBJECT", id: "dan" }, subjectId: "dan" },
      ]);
      expect(next[0]!.prevHash).toBe(sourceEvents.at(-1)!.hash);
      expect(next[0]!.position).toBe(sourceEvents.length + 1);
      expect((await storage.verify()).ok).toBe(true);
    } finally {
      await storage.close();
    }
  });

  it("refuses a target that already holds events and leaves it as it was", async () => {
    await expect(copySqliteToPostgres(file, url)).rejects.toThrow(/already holds \d+ events/);
  });

  it("tells its progress after every chunk: events copied so far, of the whole, with the time since it began", async () => {
    const seen: { copied: number; total: number; elapsedMs: number }[] = [];
    const report = await copySqliteToPostgres(file, await freshDatabase(), { chunk: 3, onProgress: (p) => seen.push(p) });
    expect(report.ok).toBe(true);
    expect(seen.length).toBe(Math.ceil(report.events / 3));
    expect(seen.map((p) => p.copied)).toEqual(seen.map((_, i) => Math.min((i + 1) * 3, report.events)));
    expect(new Set(seen.map((p) => p.total))).toEqual(new Set([report.events]));
    for (let i = 1; i < seen.length; i++) expect(seen[i]!.elapsedMs).toBeGreaterThanOrEqual(seen[i - 1]!.elapsedMs);
  });
});
