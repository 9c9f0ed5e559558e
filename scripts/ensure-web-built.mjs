// Builds the preference centre and the officer console (dist/web) when missing or older than their sources.
import { execFileSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { newest } from "./ensure-built.mjs";

const marker = "dist/web/console/index.html";
const sources = Math.max(newest("src/web", ["src/web/gql"]), statSync("schema.graphql").mtimeMs, statSync("codegen.json").mtimeMs);
if (!existsSync(marker) || statSync(marker).mtimeMs < sources) {
  const run = (bin, args) => execFileSync(process.execPath, [bin, ...args], { stdio: ["ignore", "ignore", "inherit"] });
  run("node_modules/@graphql-codegen/cli/cjs/bin.js", ["--config", "codegen.json", "--silent"]);
  run("node_modules/vite/bin/vite.js", ["build", "--config", "src/web/vite.config.ts", "--logLevel", "error"]);
}
