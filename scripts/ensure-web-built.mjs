// Builds the preference centre, the officer console and the SDK files (dist/web, dist/web/sdk) when missing or older than their sources.
import { execFileSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { newest } from "./ensure-built.mjs";

const marker = "dist/web/console/index.html";
const sources = Math.max(newest("src/web", ["src/web/gql"]), statSync("schema.graphql").mtimeMs, statSync("codegen.json").mtimeMs);
const sdkMarker = "dist/web/sdk/banner.js";
const sdkSources = Math.max(newest("client/src", ["client/src/gql"]), statSync("schema.graphql").mtimeMs);
const web = !existsSync(marker) || statSync(marker).mtimeMs < sources;
// The pages' build empties dist/web, so the SDK is built again after it.
const sdk = web || !existsSync(sdkMarker) || statSync(sdkMarker).mtimeMs < sdkSources;
const run = (bin, args) => execFileSync(process.execPath, [bin, ...args], { stdio: ["ignore", "ignore", "inherit"] });
if (web || sdk) run("node_modules/@graphql-codegen/cli/cjs/bin.js", ["--config", "codegen.json", "--silent"]);
if (web) run("node_modules/vite/bin/vite.js", ["build", "--config", "src/web/vite.config.ts", "--logLevel", "error"]);
if (sdk) run("client/build.mjs", []);
