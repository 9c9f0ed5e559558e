// The PostgreSQL HTTP bench at tiny sizes: the bench's service on each backend, and cross-replica
// delivery between two replicas on one database (in this process; the bench forks them). No timing asserted.
import { existsSync, rmSync } from "node:fs";
import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { ledgerService } from "../../bench/http-server.js";
import { crossReplicaDelivery } from "../../bench/postgres-http.js";
import { issueDevToken } from "../../src/auth/dev-keys.js";
import { makeTempDir } from "../support/common.js";
import { freshDatabase } from "../support/postgres.js";

let cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

async function service(settings: Record<string, string> = {}) {
  const s = await ledgerService(settings);
  cleanups.push(s.stop);
  return s.ready;
}

describe("the bench's service", () => {
  it("opens SQLite in a folder of its own by default and removes it at stop", async () => {
    const s = await ledgerService();
    expect(s.ready.database).toBe("sqlite");
    expect(existsSync(s.ready.dataDir!)).toBe(true);
    await s.stop();
    expect(existsSync(s.ready.dataDir!)).toBe(false);
  });
});

describe("cross-replica delivery on PostgreSQL", () => {
  it("delivers every change written through one replica to every subscriber on the other, from events stored in PostgreSQL", { timeout: 90_000 }, async () => {
    const url = await freshDatabase("bench_http");
    const dataDir = makeTempDir("ledger-bench-smoke-");
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const a = await service({ DATABASE_URL: url, DATA_DIR: dataDir });
    const b = await service({ DATABASE_URL: url, DATA_DIR: dataDir, MAX_SUBSCRIPTIONS_PER_CONNECTION: "5" });
    expect([a.database, b.database]).toEqual(["postgres", "postgres"]);
    // A caller-owned data folder outlives a replica's stop.
    expect(a.dataDir).toBe(dataDir);

    const subscribers = 10;
    const r = await crossReplicaDelivery({
      writerUrl: a.url,
      subscriberUrl: b.url,
      writerToken: await issueDevToken({ dataDir, sub: "bench-writer", scope: "consent:write consent:read" }),
      readerToken: await issueDevToken({ dataDir, sub: "bench-reader", scope: "consent:read" }),
      subscribers,
      perConnection: 5,
      writesPerSecond: 20,
      seconds: 0.5,
      clientsInWorker: false,
    });
    // Ten writes, each granting location to a subject that had not granted it: one event, one change per subscriber.
    expect(r.written).toHaveLength(10);
    expect(r.expected).toBe(10 * subscribers);
    expect(r.arrived).toBe(r.expected);
    expect(r.positions).toEqual(new Map(r.written.map((p) => [p, subscribers])));
    for (const ms of [r.p50Ms, r.p99Ms, r.firstP50Ms, r.firstP99Ms]) expect(Number.isFinite(ms)).toBe(true);

    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const rows = await client.query<{ type: string }>("SELECT type FROM events WHERE position = ANY($1::bigint[]) ORDER BY position", [r.written]);
      expect(rows.rows.map((x) => x.type)).toEqual(Array.from({ length: 10 }, () => "ConsentGranted"));
    } finally {
      await client.end();
    }
  });
});
