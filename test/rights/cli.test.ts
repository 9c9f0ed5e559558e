// The officer's command line, built and spawned as an operator runs it: verify, backup and export beside a running server.
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestServer, startTestServer } from "../support/harness.js";
import { RECORD } from "./support.js";
import { sqlite } from "../support/ledger-commands.js";

const run = promisify(execFile);
const root = resolve(".");
let build: string;
let srv: TestServer;
let dbPath: string;

/** Runs the built CLI; resolves with the exit code and output whatever the code. */
async function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [join(build, "dist/src/cli.js"), ...args], { env: { ...process.env, ...env }, cwd: root });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

beforeAll(async () => {
  // Build into a folder of its own, so that a build elsewhere in the tree is neither needed nor disturbed.
  build = mkdtempSync(join(tmpdir(), "ledger-cli-build-"));
  writeFileSync(join(build, "package.json"), JSON.stringify({ type: "module" }));
  symlinkSync(join(root, "node_modules"), join(build, "node_modules"), "dir");
  // Other work in progress may not typecheck; tsc still emits, and the CLI's own modules are what we run.
  await run(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.build.json", "--outDir", join(build, "dist")], { cwd: root }).catch(() => undefined);
  expect(existsSync(join(build, "dist/src/cli.js"))).toBe(true);

  srv = await startTestServer();
  dbPath = join(srv.dataDir, "ledger.db");
  const r = await srv.gql(RECORD, { input: { policyVersion: 1, acceptPolicy: true, grant: ["location"], evidence: { ipAddress: "192.0.2.88" } } }, await srv.token("alice", "consent:self"));
  expect(r.errors).toBeUndefined();
}, 120_000);

afterAll(async () => {
  await srv?.close();
  if (build) rmSync(build, { recursive: true, force: true });
});

describe("consent-ledger CLI", () => {
  it("verify, backup and export work on the database the server has open", async () => {
    const head = await srv.gql<{ ledgerHead: { jws: string; position: string } }>(`query { ledgerHead { jws position } }`, {}, await srv.token("auditor", "ledger:read"));
    const jwks = join(srv.dataDir, "jwks.json");
    writeFileSync(jwks, JSON.stringify(srv.app.services.receipts.jwks()));
    const jwsFile = join(srv.dataDir, "head.jws");
    writeFileSync(jwsFile, head.data!.ledgerHead.jws);

    const ok = await cli(["verify", dbPath, "--head", jwsFile, "--jwks", jwks]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain(`signed head ok: position ${head.data!.ledgerHead.position}`);
    expect(ok.stdout.trim().split("\n").at(-1)).toBe("OK");

    const file = join(srv.dataDir, "backup.db");
    const backup = await cli(["backup", file], { DATABASE_URL: `sqlite:${dbPath}` });
    expect(backup.code).toBe(0);
    expect(backup.stdout).toMatch(/the copy's chain: ok, 3 events/);
    expect((await cli(["verify", file, "--json"])).stdout).toContain('"ok": true');

    const exported = await cli(["export", "alice", "--db", dbPath]);
    expect(exported.code).toBe(0);
    const doc = JSON.parse(exported.stdout) as { header: { piiPrincipalId: string }; events: { data: { evidence?: { ipAddress?: string } } }[] };
    expect(doc.header.piiPrincipalId).toBe("alice");
    expect(doc.events[1]!.data.evidence?.ipAddress).toBe("192.0.2.88");
  });

  it("verify exits 1 on a forged row and on a head it cannot prove, and says why", async () => {
    const db = sqlite(srv.app.services.ledger).store.db;
    db.exec("DROP TRIGGER events_refuse_update");
    db.prepare(`UPDATE events SET data = replace(data, '"version":1', '"version":2') WHERE position = 2`).run();
    const forged = await cli(["verify", dbPath]);
    expect(forged.code).toBe(1);
    expect(forged.stdout).toContain("chain BROKEN: first invalid position 0000000000000002");
    const noKey = await cli(["verify", dbPath, "--head", "x.y.z"]);
    expect(noKey.code).toBe(1);
    expect(noKey.stderr).toContain("--jwks");
  });
});
