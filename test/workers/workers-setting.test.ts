import { availableParallelism } from "node:os";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config.js";
import { MAX_WORKERS, workersSetting } from "../../src/config/workers-setting.js";

const file = { kind: "sqlite", path: "/tmp/x/ledger.db" } as const;
const base = { DATA_DIR: "/tmp/x", DATABASE_URL: "sqlite:/tmp/x/ledger.db" };

describe("WORKERS", () => {
  it("is 1 when unset, a whole number as given, and the number of cores for auto", () => {
    expect(loadConfig(base).workers).toBe(1);
    expect(loadConfig({ ...base, WORKERS: "3" }).workers).toBe(3);
    expect(loadConfig({ ...base, WORKERS: "auto" }).workers).toBe(Math.min(availableParallelism(), MAX_WORKERS));
    expect(workersSetting("auto", file, () => 16)).toBe(16);
    expect(workersSetting(" 2 ", file)).toBe(2);
  });

  it.each(["0", "-1", "two", "1.5", "2e1", "", "AUTO", String(MAX_WORKERS + 1)])("refuses %j with an error naming the setting", (raw) => {
    const attempt = () => workersSetting(raw, file);
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(/^WORKERS must be a whole number from 1 to \d+, or "auto"/);
  });

  it("refuses more than one with a database only one process can open, or with writes on the serving thread", () => {
    expect(() => loadConfig({ ...base, DATABASE_URL: "sqlite::memory:", WORKERS: "2" })).toThrow(/WORKERS=2 needs a database every process can open/);
    expect(() => loadConfig({ ...base, SQLITE_WRITER: "in-process", WORKERS: "2" })).toThrow(/WORKERS=2 needs the SQLite writer thread/);
    expect(loadConfig({ ...base, DATABASE_URL: "sqlite::memory:", WORKERS: "1" }).workers).toBe(1);
    expect(loadConfig({ ...base, DATABASE_URL: "postgres://u:p@localhost:5432/db", WORKERS: "2" }).workers).toBe(2);
  });
});
