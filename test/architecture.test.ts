// The dependency rule of the house, over every folder of src/ and every import form the compiler
// knows: data flows one way, the domain knows nothing of SQL, GraphQL or HTTP, and only the
// composition root picks a storage adapter.
import { describe, expect, it } from "vitest";
import { type ImportEdge, type Rule, edgesUnder, importsOf, offences, partOf, sourcesUnder } from "./support/import-graph.js";

const GRAPHQL_PACKAGES = /^(graphql|type-graphql|graphql-scalars|graphql-jit|graphql-ws(\/.*)?|@apollo\/server(\/.*)?|pino|reflect-metadata)$/;

/**
 * What each part of src/ may import besides itself and node: builtins. app, main, serve, cli,
 * open-storage and workers (the processes WORKERS starts, each composing the service) compose everything.
 */
const RULES: Record<string, Rule> = {
  domain: { parts: [], packages: null },
  log: { parts: ["domain"], packages: null },
  evidence: { parts: ["domain"], packages: null },
  storage: { parts: ["domain", "log"], packages: null },
  "storage/sqlite": { parts: ["domain", "log", "evidence", "storage"], packages: /^better-sqlite3$/ },
  // The PostgreSQL adapter also reads a SQLite file: the copy from SQLite into PostgreSQL.
  "storage/postgres": { parts: ["domain", "log", "evidence", "storage"], packages: /^(pg|better-sqlite3)$/ },
  // The application layer: the one command flow, written against the storage port's steps, and the
  // ledger's commands and reads. Of the log it uses only the canonical encoding and digests.
  application: { parts: ["domain", "log", "evidence", "storage"], packages: null },
  ledger: { parts: ["domain", "log", "evidence", "storage", "application"], packages: null },
  feed: { parts: ["domain", "log", "ledger", "limits", "turns"], packages: /^pino$/ },
  // The timer that records expiries and versions coming into effect as they fall due.
  schedule: { parts: ["domain", "ledger"], packages: /^pino$/ },
  keys: { parts: [], packages: /^jose$/ },
  auth: { parts: ["domain", "config", "keys"], packages: /^jose$/ },
  receipts: { parts: ["domain", "log", "keys", "ledger", "storage"], packages: /^jose$/ },
  rights: { parts: ["domain", "log", "ledger", "receipts", "storage", "turns"], packages: /^jose$/ },
  "catalog-dir": { parts: ["domain", "log", "ledger"], packages: null },
  config: { parts: ["domain"], packages: null },
  // The shutdown watchdog the service arms: node builtins only.
  "exit-guard": { parts: [], packages: null },
  // The main thread's fair turns: node builtins only.
  turns: { parts: [], packages: null },
  // The per-caller and per-subject limits as one interface: slots per caller, and the quota and rate of domain and auth.
  limits: { parts: ["domain", "auth", "turns"], packages: null },
  // Webhook delivery: a reader of the change feed that POSTs each change; no transport of the service's own.
  webhooks: { parts: ["domain", "log", "evidence", "feed", "ledger", "storage"], packages: /^pino$/ },
  graphql: { parts: ["domain", "log", "auth", "config", "feed", "ledger", "limits", "receipts", "rights", "storage", "webhooks"], packages: GRAPHQL_PACKAGES },
  // The supervisor process main.ts runs, and the shutdown deadlines it shares with the service: node builtins only.
  supervisor: { parts: [], packages: null },
  shutdown: { parts: [], packages: null },
  // Creating and tightening the data folder; it logs through the logger it is given.
  "data-dir": { parts: [], packages: /^pino$/ },
  // The browser pages are a client of the public API only: nothing of the server, just the GraphQL client and the build tool.
  // The dev-mode explorer adds GraphiQL and the React it renders with.
  web: { parts: [], packages: /^(vite|graphql|graphql-ws|graphql-request|@graphql-typed-document-node\/core|graphiql(\/.*)?|@graphiql\/toolkit|react|react-dom\/client)$/ },
  http: { parts: ["domain", "log", "auth", "config", "graphql", "ledger", "feed", "receipts", "storage", "turns"], packages: /^(ws|prom-client|jose|pino|graphql|graphql-ws(\/.*)?|@apollo\/server(\/.*)?)$/ },
};

const COMPOSITION = new Set(["app", "main", "serve", "cli", "open-storage", "workers"]);

/** Rules that hold whatever the part. */
const FORBIDDEN: ((e: ImportEdge) => string | null)[] = [
  (e) => (e.target?.startsWith("src/storage/") && partOf(e.target).startsWith("storage/") && !partOf(e.from).startsWith("storage/") && !COMPOSITION.has(partOf(e.from)) ? "only the composition root picks a storage adapter" : null),
  (e) => (/^(better-sqlite3|pg)$/.test(e.specifier) && !partOf(e.from).startsWith("storage/") ? "only a storage adapter drives a database" : null),
  (e) => (e.target !== null && ["feed", "receipts", "rights"].includes(partOf(e.from)) && ["graphql", "http"].includes(partOf(e.target)) ? "transports are leaves: the feed, receipts and rights do not know them" : null),
  (e) => (e.target !== null && !e.target.startsWith("src/") && !e.target.startsWith("node_modules") ? "src/ imports neither tests nor benchmarks" : null),
  (e) => (partOf(e.from) === "application" && e.target?.startsWith("src/log/") && e.target !== "src/log/canonical.ts" ? "the application uses only the log's canonical encoding" : null),
  (e) => (partOf(e.from) === "application" && e.target?.startsWith("src/storage/") && !/^src\/storage\/[^/]+\.ts$/.test(e.target) ? "the application knows the storage port, not an adapter" : null),
];

describe("the dependency rule", () => {
  const edges = edgesUnder("src");

  it("holds for every import of every file in src/", () => {
    expect(offences(edges, RULES, FORBIDDEN)).toEqual([]);
  });

  it("has a rule for every part of src/ but the composition root", () => {
    const parts = new Set(sourcesUnder("src").map(partOf));
    expect([...parts].filter((p) => !RULES[p] && !COMPOSITION.has(p)).sort()).toEqual([]);
  });

  it("sees the imports it judges (the graph is not empty, adapters are reached only from the root)", () => {
    expect(edges.length).toBeGreaterThan(100);
    const intoSqlite = edges.filter((e) => e.target !== null && partOf(e.target) === "storage/sqlite" && partOf(e.from) !== "storage/sqlite").map((e) => partOf(e.from));
    expect(new Set(intoSqlite)).toEqual(new Set(["open-storage"]));
  });
});

describe("the checker", () => {
  const planted = (file: string, text: string) => offences(importsOf(file, text), RULES, FORBIDDEN);

  it("reads every import form: static, type-only, re-export, side-effect, dynamic, require, either quotes", () => {
    const text = [
      `import { a } from "../ledger.js";`,
      `import type { B } from '../graphql/present.js';`,
      `export { c } from "../http/server.js";`,
      `export * from '../feed/change-feed.js';`,
      `import "../auth/scopes.js";`,
      `const d = await import("../rights/backup.js");`,
      `const e = require('../storage/sqlite/rows.js');`,
      `import f = require("better-sqlite3");`,
      `type G = import("../receipts/signer.js").Signer;`,
    ].join("\n");
    expect(importsOf("src/domain/x.ts", text).map((e) => e.target ?? e.specifier)).toEqual([
      "src/ledger.ts",
      "src/graphql/present.ts",
      "src/http/server.ts",
      "src/feed/change-feed.ts",
      "src/auth/scopes.ts",
      "src/rights/backup.ts",
      "src/storage/sqlite/rows.ts",
      "better-sqlite3",
      "src/receipts/signer.ts",
    ]);
  });

  it("catches a planted import of the ledger from the domain, in single quotes too", () => {
    expect(planted("src/domain/decide.ts", `import { Ledger } from '../ledger.js';`)).toEqual(["src/domain/decide.ts (domain) imports ../ledger.js (ledger)"]);
    expect(planted("src/domain/decide.ts", `const m = await import("../ledger.js");`)).toHaveLength(1);
  });

  it("catches a transport imported by the feed, receipts or rights", () => {
    expect(planted("src/feed/change-feed.ts", `import type { X } from "../graphql/present.js";`).join()).toMatch(/transports are leaves/);
    expect(planted("src/rights/subject-export.ts", `export { y } from "../graphql/cursor.js";`).join()).toMatch(/transports are leaves/);
    expect(planted("src/receipts/signer.ts", `import "../http/server.js";`).join()).toMatch(/transports are leaves/);
  });

  it("catches an adapter imported above the port, and SQLite driven outside its adapter", () => {
    expect(planted("src/ledger.ts", `import { SqliteStorage } from "./storage/sqlite/sqlite-storage.js";`).join()).toMatch(/composition root/);
    expect(planted("src/graphql/resolvers/x.ts", `import Database from "better-sqlite3";`).join()).toMatch(/only a storage adapter/);
    expect(planted("src/ledger.ts", `import pg from "pg";`).join()).toMatch(/only a storage adapter/);
    expect(planted("src/open-storage.ts", `import { SqliteStorage } from "./storage/sqlite/sqlite-storage.js";`)).toEqual([]);
  });

  it("keeps the application above the port: adapters and the domain do not import it, it imports no adapter and of the log only the canonical encoding", () => {
    expect(planted("src/storage/sqlite/run-command.ts", `import { handleCommand } from "../../application/handle-command.js";`)).toHaveLength(1);
    expect(planted("src/storage/postgres/run-command.ts", `import type { X } from "../../application/commands.js";`)).toHaveLength(1);
    expect(planted("src/domain/decide.ts", `import { Queries } from "../application/queries.js";`)).toHaveLength(1);
    expect(planted("src/application/handle-command.ts", `import { PostgresStorage } from "../storage/postgres/postgres-storage.js";`).join()).toMatch(/not an adapter/);
    expect(planted("src/application/handle-command.ts", `import { TransparencyLog } from "../log/transparency-log.js";`).join()).toMatch(/canonical encoding/);
    expect(planted("src/application/handle-command.ts", `import type { Step } from "../storage/command-steps.js";\nimport { sha256Hex } from "../log/canonical.js";`)).toEqual([]);
    expect(planted("src/ledger.ts", `import { Commands } from "./application/commands.js";`)).toEqual([]);
  });

  it("catches a test or benchmark imported from src/", () => {
    expect(planted("src/ledger.ts", `import { x } from "../test/support/harness.js";`).join()).toMatch(/neither tests nor benchmarks/);
  });

  it("lets a legal import pass", () => {
    expect(planted("src/feed/change-feed.ts", `import type { Ledger } from "../ledger.js";\nimport { badInput } from '../domain/errors.js';`)).toEqual([]);
  });
});
