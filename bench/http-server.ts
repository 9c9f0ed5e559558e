// Child process of the HTTP benches: the whole service (`ledger`), a bare Apollo Server (`apollo`) on node:http, or node:http alone (`raw`).
// `ledger` takes settings as KEY=VALUE arguments over its defaults (DATABASE_URL=postgres://…, a shared DATA_DIR).
import "reflect-metadata";
import { mkdtempSync, rmSync } from "node:fs";
import { type IncomingMessage, type ServerResponse, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { ApolloServer, HeaderMap } from "@apollo/server";
import { pino } from "pino";
import { startApp } from "../src/app.js";
import { loadConfig } from "../src/config.js";

export interface ChildReady {
  url: string;
  dataDir: string | null;
  /** The backend the service opened (from its config); null for the bare Apollo Server. */
  database: "sqlite" | "postgres" | null;
  /** Every process serving: this one, and with WORKERS > 1 its worker processes (for CPU time from /proc). */
  pids?: number[];
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const raw = Buffer.concat(chunks).toString("utf8");
  return raw.length > 0 ? JSON.parse(raw) : undefined;
}

/** Apollo Server 5 answering `{ hello }`, mounted on node:http the way src/http/server.ts mounts ours. */
async function bareApollo(): Promise<{ ready: ChildReady; stop: () => Promise<void> }> {
  const apollo = new ApolloServer({ typeDefs: "type Query { hello: String! }", resolvers: { Query: { hello: () => "world" } } });
  await apollo.start();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    (async () => {
      const body = req.method === "POST" ? await readJson(req) : undefined;
      const headers = new HeaderMap();
      for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(", ") : v);
      const response = await apollo.executeHTTPGraphQLRequest({
        httpGraphQLRequest: { method: (req.method ?? "GET").toUpperCase(), headers, search: new URL(req.url ?? "/", "http://x").search, body },
        context: async () => ({}),
      });
      for (const [k, v] of response.headers) res.setHeader(k, v);
      res.statusCode = response.status ?? 200;
      if (response.body.kind === "complete") res.end(response.body.string);
      else {
        for await (const chunk of response.body.asyncIterator) res.write(chunk);
        res.end();
      }
    })().catch(() => {
      res.statusCode = 500;
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  return {
    ready: { url: `http://127.0.0.1:${port}/graphql`, dataDir: null, database: null },
    stop: async () => {
      await apollo.stop();
      server.close();
    },
  };
}

/** The floor of any Node HTTP service: node:http reading the body and answering a fixed JSON. */
async function rawNodeHttp(): Promise<{ ready: ChildReady; stop: () => Promise<void> }> {
  const answer = JSON.stringify({ data: { hello: "world" } });
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.on("data", () => {});
    req.on("end", () => {
      res.writeHead(200, { "content-type": "application/json; charset=utf-8" });
      res.end(answer);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  return { ready: { url: `http://127.0.0.1:${port}/graphql`, dataDir: null, database: null }, stop: async () => void server.close() };
}

/**
 * The whole service, on SQLite in a temp folder unless `settings` (environment variables) say
 * otherwise; `compiledReads` false runs every operation on graphql-js (GRAPHQL_JIT=false). A DATA_DIR
 * given in `settings` belongs to the caller (replicas share it) and is left in place at stop.
 */
export async function ledgerService(settings: Record<string, string> = {}, compiledReads = true): Promise<{ ready: ChildReady; stop: () => Promise<void> }> {
  const ownDir = settings["DATA_DIR"] === undefined;
  const dataDir = settings["DATA_DIR"] ?? mkdtempSync(join(tmpdir(), "ledger-bench-http-"));
  const config = loadConfig({
    PORT: "0",
    HOST: "127.0.0.1",
    DATABASE_URL: `sqlite:${join(dataDir, "ledger.db")}`,
    CATALOG_DIR: "data/policies",
    LOG_LEVEL: "silent",
    GRAPHQL_JIT: String(compiledReads),
    ...settings,
    DATA_DIR: dataDir,
  });
  const app = await startApp(config, { logger: pino({ level: "silent" }) });
  return {
    ready: { url: app.url, dataDir, database: config.database.kind, pids: [process.pid, ...(app.workerPids?.() ?? [])] },
    stop: async () => {
      await app.close();
      if (ownDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** `KEY=VALUE` arguments as settings. */
function settingsOf(args: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const a of args) {
    const eq = a.indexOf("=");
    if (eq <= 0) throw new Error(`expected KEY=VALUE, got ${a}`);
    out[a.slice(0, eq)] = a.slice(eq + 1);
  }
  return out;
}

function serve(mode: string | undefined, args: readonly string[]): void {
  const started =
    mode === "apollo"
      ? bareApollo()
      : mode === "raw"
        ? rawNodeHttp()
      : mode === "ledger"
        ? ledgerService(settingsOf(args))
        : mode === "ledger-interpreted"
          ? ledgerService(settingsOf(args), false)
          : Promise.reject(new Error(`unknown mode ${mode}`));
  started.then(
    ({ ready, stop }) => {
      process.on("message", (m) => {
        if (m === "stop") stop().finally(() => process.exit(0));
      });
      process.send?.(ready);
    },
    (e: unknown) => {
      process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exit(1);
    },
  );
}

// Serves only as a forked child's entry point, so the bench smoke test can import ledgerService.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) serve(process.argv[2], process.argv.slice(3));
