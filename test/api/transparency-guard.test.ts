// Ledgers that share a data folder: SQLite tried first, then PostgreSQL beside the same DATA_DIR, both
// publish checkpoints; a SQLite file restored from an older copy halts its log and /readyz says why.
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { acceptRollback } from "../../src/log/accept-rollback.js";
import { type TestServer, startTestServer } from "../support/harness.js";
import { freshDatabase } from "../support/postgres.js";
import { freshId, onboard } from "./helpers.js";
import { eventually } from "../support/common.js";

const dataDir = mkdtempSync(join(tmpdir(), "ledger-guard-"));
const servers: TestServer[] = [];
afterAll(async () => {
  for (const s of servers.splice(0)) await s.close();
  rmSync(dataDir, { recursive: true, force: true });
});

async function start(env: Record<string, string> = {}): Promise<TestServer> {
  const srv = await startTestServer({ dataDir, env: { CHECKPOINT_INTERVAL_MS: "20", ...env } });
  servers.push(srv);
  return srv;
}

async function stop(srv: TestServer): Promise<void> {
  servers.splice(servers.indexOf(srv), 1);
  await srv.close();
}

/** The latest checkpoint's size once it covers `atLeast` events (it is published within the interval). */
async function checkpointCovering(srv: TestServer, atLeast: number): Promise<number> {
  const auditor = await srv.token("auditor", "ledger:read");
  let size = 0;
  await eventually(`a checkpoint covering ${atLeast} events`, async () => {
    const r = await srv.gql<{ ledgerCheckpoint: { treeSize: number } }>(`{ ledgerCheckpoint { treeSize } }`, {}, auditor);
    if (r.errors) expect(r.errors[0]!.extensions?.code).toBe("NOT_YET_LOGGED");
    else size = r.data!.ledgerCheckpoint.treeSize;
    return size >= atLeast;
  }, { intervalMs: 10 });
  return size;
}

const readyz = async (srv: TestServer) => {
  const res = await fetch(new URL("/readyz", srv.url));
  return { status: res.status, body: (await res.json()) as { status: string; reason?: string } };
};

/** Events in the ledger's tree now (every committed event is in it). */
const eventCount = (srv: TestServer): Promise<number> => srv.app.services.ledger.storage.transparency.treeSize();

describe("ledgers beside one data folder", () => {
  it("a SQLite ledger and then a PostgreSQL ledger both publish checkpoints; a restored older SQLite copy makes /readyz 503 until the operator acts", async () => {
    const sqlite = await start();
    await onboard(sqlite, freshId());
    await onboard(sqlite, freshId());
    const sqliteSize = await checkpointCovering(sqlite, await eventCount(sqlite));
    await stop(sqlite);
    copyFileSync(join(dataDir, "ledger.db"), join(dataDir, "older.db"));

    // PostgreSQL beside the same DATA_DIR: a new ledger, smaller than the SQLite one's checkpoint.
    const postgres = await start({ DATABASE_URL: await freshDatabase("guard") });
    await onboard(postgres, freshId());
    expect(await checkpointCovering(postgres, await eventCount(postgres))).toBeGreaterThan(0);
    expect((await readyz(postgres)).status).toBe(200);
    await stop(postgres);

    // Back on SQLite: its log goes on, and grows past the copy taken above.
    const again = await start();
    expect((await readyz(again)).status).toBe(200);
    await onboard(again, freshId());
    const grown = await checkpointCovering(again, await eventCount(again));
    expect(grown).toBeGreaterThan(sqliteSize);
    await stop(again);

    // The older copy restored: its log halts, and readiness names the reason.
    copyFileSync(join(dataDir, "older.db"), join(dataDir, "ledger.db"));
    const restored = await start();
    const halted = await readyz(restored);
    expect(halted.status).toBe(503);
    expect(halted.body.status).toBe("transparency log halted");
    expect(halted.body.reason).toMatch(new RegExp(`checkpoint ${grown} was published: was an older backup restored\\?.*accept-rollback`));

    // The operator accepts the loss (what `npm run cli -- accept-rollback --yes` does); the log resumes.
    const report = await acceptRollback(restored.app.services.ledger.storage.transparency, dataDir, restored.config.ledgerOrigin, { apply: true });
    expect(report.setAside).not.toBeNull();
    await eventually("/readyz 200 once the log resumes", async () => (await readyz(restored)).status === 200, { intervalMs: 10 });
    expect(await checkpointCovering(restored, await eventCount(restored))).toBeGreaterThan(0);
  });
});
