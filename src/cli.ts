// The command line: token | rebuild | emit-schema (and the officer's tools as they land).
import "reflect-metadata";
import { writeFileSync } from "node:fs";
import { issueDevToken, parseTokenArgs } from "./auth/dev-keys.js";
import { loadConfig } from "./config.js";
import { buildLedgerSchema, printLedgerSchema } from "./graphql/schema.js";
import { Ledger } from "./ledger.js";

const USAGE = `usage: consent-ledger <command>
  token --sub <id> --scope "<scopes>" [--ttl <seconds>]   print a dev-mode access token
  rebuild [<database file>]                                recompute the projections from the log
  emit-schema [<file>]                                     write the GraphQL SDL (default schema.graphql)`;

async function run(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case "token": {
      const config = loadConfig();
      if (config.auth.mode !== "dev") throw new Error("npm run token works in dev mode only (no AUTH_JWKS_URL/AUTH_JWKS_FILE)");
      const args = parseTokenArgs(rest);
      process.stdout.write(`${await issueDevToken({ ...args, dataDir: config.dataDir })}\n`);
      return 0;
    }
    case "rebuild": {
      const path = rest[0] ?? loadConfig().database.path;
      const ledger = new Ledger({ databasePath: path });
      const started = performance.now();
      const n = ledger.rebuild();
      await ledger.close();
      process.stdout.write(`rebuilt projections from ${n} events in ${Math.round(performance.now() - started)} ms\n`);
      return 0;
    }
    case "emit-schema": {
      const file = rest[0] ?? "schema.graphql";
      writeFileSync(file, printLedgerSchema(await buildLedgerSchema()));
      process.stdout.write(`wrote ${file}\n`);
      return 0;
    }
    default:
      process.stderr.write(`${USAGE}\n`);
      return command === undefined || command === "help" || command === "--help" ? 0 : 2;
  }
}

run(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  },
);
