// Builds with tsc when dist/ is missing or older than any source file, so `npm start` works on a fresh clone.
import { execFileSync } from "node:child_process";
import { readdirSync, statSync, existsSync } from "node:fs";
import { join } from "node:path";

function newest(dir) {
  let t = 0;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const s = statSync(p);
    t = Math.max(t, s.isDirectory() ? newest(p) : s.mtimeMs);
  }
  return t;
}

const marker = "dist/src/main.js";
if (!existsSync(marker) || statSync(marker).mtimeMs < Math.max(newest("src"), newest("bench"))) {
  execFileSync(process.execPath, ["node_modules/typescript/bin/tsc", "-p", "tsconfig.build.json"], { stdio: "inherit" });
}
