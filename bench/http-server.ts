// Child process of the HTTP benches: the whole service (`ledger`) or a bare Apollo Server (`apollo`) on node:http.
import "reflect-metadata";
import { mkdtempSync, rmSync } from "node:fs";
import { type IncomingMessage, type ServerResponse, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ApolloServer, HeaderMap } from "@apollo/server";
import { pino } from "pino";
import { startApp } from "../src/app.js";
import { loadConfig } from "../src/config.js";

export interface ChildReady {
  url: string;
  dataDir: string | null;
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
    ready: { url: `http://127.0.0.1:${port}/graphql`, dataDir: null },
    stop: async () => {
      await apollo.stop();
      server.close();
    },
  };
}

/** The whole service; `compiledReads` false runs every operation on graphql-js (GRAPHQL_JIT=false). */
async function ledgerService(compiledReads = true): Promise<{ ready: ChildReady; stop: () => Promise<void> }> {
  const dataDir = mkdtempSync(join(tmpdir(), "ledger-bench-http-"));
  const config = loadConfig({
    PORT: "0",
    HOST: "127.0.0.1",
    DATA_DIR: dataDir,
    DATABASE_URL: `sqlite:${join(dataDir, "ledger.db")}`,
    CATALOG_DIR: "data/policies",
    LOG_LEVEL: "silent",
    GRAPHQL_JIT: String(compiledReads),
  });
  const app = await startApp(config, { logger: pino({ level: "silent" }) });
  return {
    ready: { url: app.url, dataDir },
    stop: async () => {
      await app.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

const mode = process.argv[2];
const started =
  mode === "apollo"
    ? bareApollo()
    : mode === "ledger"
      ? ledgerService()
      : mode === "ledger-interpreted"
        ? ledgerService(false)
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
