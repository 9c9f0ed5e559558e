// One build step of `npm start` on a fresh clone: run only when the output is missing or older than its
// sources, and say so on stderr (a first build takes half a minute; silence reads as a hang).
import { execFileSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";

/**
 * Runs `steps` (each [script, ...args], run with this node) when `marker` is missing or older than
 * `sourcesMtime`; prints what is being built before, and how long it took after. Returns whether it built.
 */
export function buildIfStale({ what, marker, sourcesMtime, steps, stdio = "inherit", log = (line) => process.stderr.write(`${line}\n`) }) {
  if (existsSync(marker) && statSync(marker).mtimeMs >= sourcesMtime) return false;
  const why = existsSync(marker) ? "its sources changed" : "first start";
  log(`consent-ledger: building ${what} (${why}); this takes a few seconds to a minute…`);
  const started = performance.now();
  for (const [script, ...args] of steps) execFileSync(process.execPath, [script, ...args], { stdio });
  log(`consent-ledger: built ${what} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return true;
}
