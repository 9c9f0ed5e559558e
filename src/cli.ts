// The command line: token | rebuild | emit-schema | verify | verify-proof | backup | export | migrate-sqlite-to-postgres | accept-rollback.
import "reflect-metadata";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { issueDevToken, parseTokenArgs } from "./auth/dev-keys.js";
import { type Config, loadConfig, migrationEndpoints, parseDatabaseUrl } from "./config.js";
import { devKekPath, readKekFile } from "./keys/evidence-kek.js";
import { buildLedgerSchema, printLedgerSchema } from "./graphql/schema.js";
import { Ledger } from "./ledger.js";
import type { BackupReport } from "./storage/storage-port.js";
import { openStorage } from "./open-storage.js";
import { type RollbackReport, acceptRollback, formatRollbackReport } from "./log/accept-rollback.js";
import { copySqliteToPostgres } from "./storage/postgres/copy-from-sqlite.js";
import { type CopyProgress, formatCopyProgress } from "./storage/postgres/copy-progress.js";
import { buildSubjectExport } from "./rights/subject-export.js";
import { chainReport, formatOfflineReport, verifyOffline } from "./rights/verify-offline.js";
import { formatProofReport, verifyProofFile } from "./rights/verify-proof.js";

const USAGE = `usage: consent-ledger <command>
  token --sub <id> --scope "<scopes>" [--ttl <seconds>]   print a dev-mode access token
  rebuild [<database file>]                                recompute the projections from the log
  emit-schema [<file>]                                     write the GraphQL SDL (default schema.graphql)
  verify [<database file>] [--head <jws or file> (--jwks <file> | --key <receipt key file>)]
         [--checkpoint-key <vkey or file>] [--json]
                                                           walk the hash chain offline (read-only) and check the
                                                           Merkle tree against the latest checkpoint (its signature
                                                           too, given the vkey); with --head, prove the signed head
                                                           still holds; exit 0 ok, 1 not
  verify-proof <proof.json> --key <vkey or file> [--event-hash <hex>] [--old <checkpoint file>] [--json]
                                                           check a saved inclusionProof or consistencyProof result
                                                           offline against the checkpoint key; exit 0 ok, 1 not
  backup <file> [--db <database file>] [--force]           online backup while the server runs; checks the copy;
                                                           never onto the live database (under any name) or
                                                           through a symbolic link
  export <subjectId> [--db <database file>] [--kek <file>] print the subject's record (disclosure) as JSON; the
                                                           evidence key-encryption key defaults to EVIDENCE_KEK_FILE,
                                                           else <DATA_DIR>/keys/evidence.kek
  migrate-sqlite-to-postgres --from <file or sqlite:path> --to postgres://user:pass@host:port/db
                                                           copy a ledger (stopped) into an empty PostgreSQL
                                                           database, keeping every event, position and hash
                                                           (progress on stderr: events copied, rate, time left);
                                                           exit 0 when the copy's chain ends on the source's head
  accept-rollback [--db <database file>] [--yes]           after a restore from an older backup halted the transparency
                                                           log: show which checkpoints become void; with --yes set the
                                                           copy kept under DATA_DIR aside so the log resumes

  The database defaults to DATABASE_URL (sqlite:<path> or postgres://…); <database file> may be either URL.`;

/** `--name value` options and positional arguments; flags listed in `booleans` take no value. */
function parseArgs(args: readonly string[], booleans: readonly string[] = []): { options: Map<string, string>; positional: string[] } {
  const options = new Map<string, string>();
  const positional: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith("--")) {
      positional.push(a);
      continue;
    }
    const name = a.slice(2);
    if (booleans.includes(name)) options.set(name, "true");
    else {
      const value = args[++i];
      if (value === undefined) throw new Error(`${a} needs a value`);
      options.set(name, value);
    }
  }
  return { options, positional };
}

/** The database a command names (a file path, or a sqlite:/postgres:// URL), or DATABASE_URL's. */
const databaseAt = (given: string | undefined): Config["database"] =>
  given === undefined ? loadConfig().database : /^(sqlite|postgres(ql)?):/i.test(given) ? parseDatabaseUrl(given) : { kind: "sqlite", path: given };

async function run(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case "token": {
      // The same settings as the server: a production or public-host configuration refuses here too.
      const config = loadConfig();
      if (config.auth.mode !== "dev") throw new Error(`npm run token works in dev mode only; this configuration is ${config.auth.mode} mode (${config.auth.modeReason})`);
      const args = parseTokenArgs(rest);
      if (args.ttlSeconds !== undefined && args.ttlSeconds > config.auth.maxTokenAgeSeconds)
        throw new Error(`--ttl ${args.ttlSeconds} exceeds AUTH_MAX_TOKEN_AGE_SECONDS (${config.auth.maxTokenAgeSeconds}); the server would refuse the token`);
      process.stdout.write(`${await issueDevToken({ ...args, dataDir: config.dataDir })}\n`);
      return 0;
    }
    case "rebuild": {
      const storage = await openStorage(databaseAt(rest[0]));
      const started = performance.now();
      let n: number;
      try {
        n = await storage.rebuild();
      } finally {
        await storage.close();
      }
      process.stdout.write(`rebuilt projections from ${n} events in ${Math.round(performance.now() - started)} ms\n`);
      return 0;
    }
    case "emit-schema": {
      const file = rest[0] ?? "schema.graphql";
      writeFileSync(file, printLedgerSchema(await buildLedgerSchema()));
      process.stdout.write(`wrote ${file}\n`);
      return 0;
    }
    case "verify": {
      const { options, positional } = parseArgs(rest, ["json"]);
      const head = options.get("head");
      const database = databaseAt(positional[0] ?? options.get("db"));
      const storage = await openStorage(database, { readonly: true });
      const checkpointKey = options.get("checkpoint-key");
      const report = await verifyOffline(storage, database.kind === "sqlite" ? database.path : database.kind, {
        // A JWS has no path separators and is rarely a file name: read it from a file only when one exists.
        ...(head !== undefined ? { headJws: existsSync(head) ? readFileSync(head, "utf8").trim() : head } : {}),
        ...(options.has("jwks") ? { jwksFile: options.get("jwks")! } : {}),
        ...(options.has("key") ? { keyFile: options.get("key")! } : {}),
        ...(checkpointKey !== undefined ? { checkpointKey: existsSync(checkpointKey) ? readFileSync(checkpointKey, "utf8").trim() : checkpointKey } : {}),
      });
      await storage.close();
      process.stdout.write(`${options.has("json") ? JSON.stringify(report, null, 2) : formatOfflineReport(report)}\n`);
      return report.ok ? 0 : 1;
    }
    case "verify-proof": {
      const { options, positional } = parseArgs(rest, ["json"]);
      const file = positional[0];
      const key = options.get("key");
      if (!file || !key) throw new Error("usage: verify-proof <proof.json> --key <vkey or file> [--event-hash <hex>] [--old <checkpoint file>]");
      // A verifier key holds "+" and no path separator; read it from a file only when one exists.
      const verifierKey = existsSync(key) ? readFileSync(key, "utf8").trim() : key;
      const old = options.get("old");
      const report = verifyProofFile(readFileSync(file, "utf8"), {
        verifierKey,
        ...(options.has("event-hash") ? { eventHash: options.get("event-hash")! } : {}),
        ...(old !== undefined ? { earlierCheckpoint: readFileSync(old, "utf8") } : {}),
      });
      process.stdout.write(`${options.has("json") ? JSON.stringify(report, null, 2) : formatProofReport(report)}\n`);
      return report.ok ? 0 : 1;
    }
    case "backup": {
      const { options, positional } = parseArgs(rest, ["force"]);
      const file = positional[0];
      if (!file) throw new Error("usage: backup <file> [--db <database file>] [--force]");
      const storage = await openStorage(databaseAt(options.get("db")), { readonly: true });
      let r: BackupReport;
      try {
        r = await storage.backup(file, { overwrite: options.has("force") });
      } finally {
        await storage.close();
      }
      const chain = chainReport(r.chain);
      process.stdout.write(
        `backed up ${r.source} to ${r.destination} (${r.pages} pages); the copy's chain: ${chain.ok ? `ok, ${chain.eventCount} events, head ${chain.headPosition ?? "(empty)"}` : `BROKEN at ${chain.firstInvalidPosition}`}\n`,
      );
      return r.chain.ok ? 0 : 1;
    }
    case "export": {
      const { options, positional } = parseArgs(rest);
      const subjectId = positional[0];
      if (!subjectId) throw new Error("usage: export <subjectId> [--db <database file>] [--kek <file>]");
      const config = loadConfig();
      const kekPath = options.get("kek") ?? config.evidenceKekFile ?? devKekPath(config.dataDir);
      const evidenceKek = await readKekFile(kekPath);
      if (!evidenceKek) throw new Error(`no evidence key-encryption key at ${kekPath}: pass --kek <file> or set EVIDENCE_KEK_FILE`);
      const ledger = await Ledger.open(await openStorage(databaseAt(options.get("db")), { readonly: true, evidenceKek }), { defaultPolicyId: config.defaultPolicyId });
      try {
        process.stdout.write(`${JSON.stringify(await buildSubjectExport(ledger, subjectId), null, 2)}\n`);
      } finally {
        await ledger.close();
      }
      return 0;
    }
    case "migrate-sqlite-to-postgres": {
      const { options } = parseArgs(rest);
      const { sqlitePath, postgresUrl } = migrationEndpoints(options.get("from"), options.get("to"));
      // A line at most every second on stderr (one per chunk copied); the summary goes to stdout.
      let shown = 0;
      const onProgress = (p: CopyProgress) => {
        if (p.copied < p.total && p.elapsedMs - shown < 1_000) return;
        shown = p.elapsedMs;
        process.stderr.write(`${formatCopyProgress(p)}\n`);
      };
      const r = await copySqliteToPostgres(sqlitePath, postgresUrl, { onProgress });
      process.stdout.write(
        `copied ${r.events} events, ${r.subjectKeys} evidence keys and ${r.idempotencyKeys} idempotency records; ` +
          `the copy's chain: ${r.chain.ok ? "ok" : `BROKEN at ${r.chain.firstInvalidPosition}`}, head ${r.chain.head?.position ?? "(empty)"}` +
          `${r.ok ? ", the source's head" : `, NOT the source's head (${r.sourceHead?.position ?? "(empty)"})`}\n`,
      );
      return r.ok ? 0 : 1;
    }
    case "accept-rollback": {
      const { options } = parseArgs(rest, ["yes"]);
      const config = loadConfig();
      const storage = await openStorage(databaseAt(options.get("db")), { readonly: true });
      let report: RollbackReport;
      try {
        report = await acceptRollback(storage.transparency, config.dataDir, config.ledgerOrigin, { apply: options.has("yes") });
      } finally {
        await storage.close();
      }
      process.stdout.write(`${formatRollbackReport(report, options.has("yes"))}\n`);
      return report.holds || options.has("yes") ? 0 : 1;
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
