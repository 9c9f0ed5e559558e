// Builds the preference centre, the officer console (dist/web) and the SDK files (dist/web/sdk) when
// missing or older than their sources.
import { statSync } from "node:fs";
import { buildIfStale } from "./build-step.mjs";
import { newest } from "./ensure-built.mjs";

const codegen = ["node_modules/@graphql-codegen/cli/cjs/bin.js", "--config", "codegen.json", "--silent"];
const web = buildIfStale({
  what: "the web pages with vite",
  marker: "dist/web/console/index.html",
  sourcesMtime: Math.max(newest("src/web", ["src/web/gql"]), statSync("schema.graphql").mtimeMs, statSync("codegen.json").mtimeMs),
  steps: [codegen, ["node_modules/vite/bin/vite.js", "build", "--config", "src/web/vite.config.ts", "--logLevel", "error"]],
  stdio: ["ignore", "ignore", "inherit"],
});
// The pages' build empties dist/web, so the SDK is built again after it.
buildIfStale({
  what: "the client library and the banner",
  marker: "dist/web/sdk/banner.js",
  sourcesMtime: web ? Infinity : Math.max(newest("client/src", ["client/src/gql"]), statSync("schema.graphql").mtimeMs),
  steps: [codegen, ["client/build.mjs"]],
  stdio: ["ignore", "ignore", "inherit"],
});
