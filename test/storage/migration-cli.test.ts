// migrate-sqlite-to-postgres's arguments and progress line: a plain path is a SQLite file, as for every
// other command; a missing file or a swapped pair is named; the progress line says copied, rate and time left.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { migrationEndpoints } from "../../src/config.js";
import { formatCopyProgress } from "../../src/storage/postgres/copy-progress.js";
import { tempDir } from "../support/common.js";

const PG = "postgres://u:p@127.0.0.1:5432/ledger";

describe("migrate-sqlite-to-postgres's arguments", () => {
  it("takes --from as a plain path or a sqlite: URL, naming the same file", () => {
    const { dir, cleanup } = tempDir();
    try {
      const file = join(dir, "ledger.db");
      writeFileSync(file, "");
      expect(migrationEndpoints(file, PG)).toEqual({ sqlitePath: file, postgresUrl: PG });
      expect(migrationEndpoints(`sqlite:${file}`, PG)).toEqual({ sqlitePath: file, postgresUrl: PG });
      expect(() => migrationEndpoints(join(dir, "nope.db"), PG)).toThrow(`--from: there is no SQLite file at ${join(dir, "nope.db")}`);
      expect(() => migrationEndpoints(dir, PG)).toThrow(/no SQLite file/);
      expect(() => migrationEndpoints("sqlite::memory:", PG)).toThrow(/must name a SQLite file/);
      expect(() => migrationEndpoints(PG, file)).toThrow(/--from is the SQLite ledger to copy/);
      expect(() => migrationEndpoints(file, file)).toThrow(/--to must be a postgres:\/\/ URL/);
      expect(() => migrationEndpoints(undefined, PG)).toThrow(/^usage: migrate-sqlite-to-postgres/);
    } finally {
      cleanup();
    }
  });

  it("prints events copied, the share, the rate and the time left", () => {
    expect(formatCopyProgress({ copied: 12_000, total: 100_000, elapsedMs: 1_500 })).toBe("copied 12,000 of 100,000 events (12%), 8,000 events/s, about 11 s left");
    expect(formatCopyProgress({ copied: 10_000, total: 2_000_000, elapsedMs: 1_000 })).toBe("copied 10,000 of 2,000,000 events (0%), 10,000 events/s, about 4 min left");
    expect(formatCopyProgress({ copied: 50, total: 50, elapsedMs: 10 })).toBe("copied 50 of 50 events (100%), 5,000 events/s, done");
    expect(formatCopyProgress({ copied: 0, total: 0, elapsedMs: 0 })).toBe("copied 0 of 0 events (100%), 0 events/s, done");
  });
});
