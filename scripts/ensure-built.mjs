// Builds with tsc when dist/ is missing or older than any source file, so `npm start` works on a fresh clone.
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { buildIfStale } from "./build-step.mjs";

/** The newest modification time under `dir`, leaving out the folders in `skip`. */
export function newest(dir, skip = []) {
  let t = 0;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (skip.includes(p)) continue;
    const s = statSync(p);
    t = Math.max(t, s.isDirectory() ? newest(p, skip) : s.mtimeMs);
  }
  return t;
}

// The web pages have their own build (ensure-web-built.mjs): editing them does not rebuild the server.
buildIfStale({
  what: "the server with tsc",
  marker: "dist/src/main.js",
  sourcesMtime: Math.max(newest("src", ["src/web"]), newest("bench")),
  steps: [["node_modules/typescript/bin/tsc", "-p", "tsconfig.build.json"]],
});
