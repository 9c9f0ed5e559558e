// Installs a peer on demand into bench/.peers/ (git-ignored), never into the project's dependencies.
import { execFile } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

export const PEERS_DIR = resolve("bench", ".peers");

/** Whether `pkg` is installed under bench/.peers. */
const installed = (pkg: string) => existsSync(join(PEERS_DIR, "node_modules", ...pkg.split("/"), "package.json"));

/** Installs the specs whose package is missing; resolves to null, or the reason it could not. */
export async function ensurePeers(specs: Record<string, string>, timeoutMs = 300_000): Promise<string | null> {
  const missing = Object.entries(specs).filter(([pkg]) => !installed(pkg));
  if (missing.length === 0) return null;
  mkdirSync(PEERS_DIR, { recursive: true });
  const args = ["install", "--prefix", PEERS_DIR, "--no-audit", "--no-fund", ...missing.map(([pkg, range]) => `${pkg}@${range}`)];
  return new Promise((done) => {
    execFile("npm", args, { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, _stdout, stderr) => {
      if (!err && missing.every(([pkg]) => installed(pkg))) return done(null);
      const line = String(stderr).split("\n").find((l) => /ERR|error/i.test(l)) ?? (err ? err.message : "package missing after install");
      done(`npm install ${missing.map(([p, r]) => `${p}@${r}`).join(" ")} failed: ${line.trim().slice(0, 200)}`);
    });
  });
}

/** Loads an installed peer module (its own entry point, resolved from bench/.peers). */
export async function importPeer<T>(pkg: string): Promise<T> {
  const req = createRequire(join(PEERS_DIR, "package.json"));
  return (await import(pathToFileURL(req.resolve(pkg)).href)) as T;
}

/** A peer's installed version. */
export function peerVersion(pkg: string): string {
  const req = createRequire(join(PEERS_DIR, "package.json"));
  return (req(join(PEERS_DIR, "node_modules", ...pkg.split("/"), "package.json")) as { version: string }).version;
}
