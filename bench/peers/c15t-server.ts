// Child process of the c15t bench: c15t's self-hosted backend on Kysely + better-sqlite3, served on node:http.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { importPeer } from "./install.js";

interface Closable {
  close(): void;
}

async function main(): Promise<{ url: string; stop: () => Promise<void> }> {
  const { Kysely, SqliteDialect } = await importPeer<{ Kysely: new (o: unknown) => unknown; SqliteDialect: new (o: unknown) => unknown }>("kysely");
  const { c15tInstance } = await importPeer<{ c15tInstance: (o: unknown) => { handler: (r: Request) => Promise<Response> } }>("@c15t/backend");
  const { DB } = await importPeer<{ DB: { client: (adapter: unknown) => unknown } }>("@c15t/backend/db/schema");
  const { migrator } = await importPeer<{ migrator: (o: unknown) => Promise<{ execute?: () => Promise<void> }> }>("@c15t/backend/db/migrator");
  const { kyselyAdapter } = await importPeer<{ kyselyAdapter: (o: unknown) => unknown }>("@c15t/backend/db/adapters/kysely");
  const { serve } = await importPeer<{ serve: (o: unknown, cb: (info: { port: number }) => void) => Closable }>("@hono/node-server");
  const dir = mkdtempSync(join(tmpdir(), "ledger-bench-c15t-"));
  const sqlite = new Database(join(dir, "c15t.db"));
  // The same durability as the ledger: WAL with synchronous=FULL (better-sqlite3's default synchronous).
  sqlite.pragma("journal_mode = WAL");
  sqlite.pragma("synchronous = FULL");
  const adapter = kyselyAdapter({ db: new Kysely({ dialect: new SqliteDialect({ database: sqlite }) }), provider: "sqlite" });
  const migration = await migrator({ db: DB.client(adapter), schema: "latest" });
  await migration.execute?.();
  const c15t = c15tInstance({ appName: "bench", basePath: "/", trustedOrigins: ["http://127.0.0.1"], adapter, logger: { level: "error" } });
  return new Promise((resolve) => {
    const server = serve({ fetch: c15t.handler, port: 0, hostname: "127.0.0.1" }, (info) =>
      resolve({
        url: `http://127.0.0.1:${info.port}`,
        stop: async () => {
          server.close();
          sqlite.close();
          rmSync(dir, { recursive: true, force: true });
        },
      }),
    );
  });
}

main().then(
  ({ url, stop }) => {
    process.on("message", (m) => {
      if (m === "stop") stop().finally(() => process.exit(0));
    });
    process.send?.({ url, dataDir: null });
  },
  (e: unknown) => {
    process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
