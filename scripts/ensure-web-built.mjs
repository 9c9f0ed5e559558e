// Builds the preference centre and the officer console (dist/web) when missing or older than their sources.
import { statSync } from "node:fs";
import { buildIfStale } from "./build-step.mjs";
import { newest } from "./ensure-built.mjs";

buildIfStale({
  what: "the web pages with vite",
  marker: "dist/web/console/index.html",
  sourcesMtime: Math.max(newest("src/web", ["src/web/gql"]), statSync("schema.graphql").mtimeMs, statSync("codegen.json").mtimeMs),
  steps: [
    ["node_modules/@graphql-codegen/cli/cjs/bin.js", "--config", "codegen.json", "--silent"],
    ["node_modules/vite/bin/vite.js", "build", "--config", "src/web/vite.config.ts", "--logLevel", "error"],
  ],
  stdio: ["ignore", "ignore", "inherit"],
});
