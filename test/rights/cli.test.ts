// The officer's command line, built and spawned as an operator runs it: verify, backup and export beside a running server.
import { execFile } from "node:child_process";
import { chmodSync, existsSync, linkSync, lstatSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestServer, startTestServer } from "../support/harness.js";
import { RECORD } from "./support.js";
import { sqlite } from "../support/ledger-commands.js";
import { eventually, makeTempDir } from "../support/common.js";

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
  build = makeTempDir("ledger-cli-build-");
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

    // Evidence opens only with the key-encryption key, which lives apart from the database.
    const noKek = await cli(["export", "alice", "--db", dbPath, "--kek", join(srv.dataDir, "no-such.kek")]);
    expect(noKek.code).toBe(1);
    expect(noKek.stderr).toMatch(/no evidence key-encryption key/);
    const exported = await cli(["export", "alice", "--db", dbPath, "--kek", join(srv.dataDir, "keys", "evidence.kek")]);
    expect(exported.code).toBe(0);
    const doc = JSON.parse(exported.stdout) as { header: { piiPrincipalId: string }; events: { data: { evidence?: { ipAddress?: string } } }[] };
    expect(doc.header.piiPrincipalId).toBe("alice");
    expect(doc.events[1]!.data.evidence?.ipAddress).toBe("192.0.2.88");
  });

  it("proves a receipt's events offline with verify-proof and only the checkpoint verifier key", async () => {
    const vkeyFile = join(srv.dataDir, "checkpoint.vkey");
    writeFileSync(vkeyFile, await (await fetch(new URL("/.well-known/ledger-checkpoint-key", srv.url))).text());
    /** A GraphQL request as a client sends it; the body is kept exactly as received. */
    const post = async (query: string, variables: Record<string, unknown>, token: string) => {
      const res = await fetch(srv.url, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${token}` }, body: JSON.stringify({ query, variables }) });
      return res.text();
    };
    const auditor = await srv.token("auditor", "ledger:read");
    const oldCheckpoint = join(srv.dataDir, "checkpoint-before.json");
    writeFileSync(oldCheckpoint, await post(`query { ledgerCheckpoint { origin treeSize rootHash note } }`, {}, auditor));

    const holder = await srv.token("receipt-holder", "consent:self");
    const recorded = JSON.parse(await post(`mutation($input: RecordConsentInput!) { recordConsent(input: $input) { receipt } }`, { input: { policyVersion: 1, acceptPolicy: true, grant: ["location"] } }, holder)) as {
      data: { recordConsent: { receipt: string } };
    };
    const payload = JSON.parse(Buffer.from(recorded.data.recordConsent.receipt.split(".")[1]!, "base64url").toString("utf8")) as { ledger: { events: { id: string; hash: string }[] } };
    expect(payload.ledger.events.length).toBe(2);

    const INCLUSION = `query($id: ID!) { inclusionProof(eventId: $id) { leafIndex treeSize leafHash hashes checkpoint { origin treeSize rootHash note } } }`;
    for (const [i, e] of payload.ledger.events.entries()) {
      let body = "";
      await eventually("the event's inclusion proof", async () => !(body = await post(INCLUSION, { id: e.id }, holder)).includes("NOT_YET_LOGGED"));
      const file = join(srv.dataDir, `proof-${i}.json`);
      writeFileSync(file, body);
      const checked = await cli(["verify-proof", file, "--key", vkeyFile, "--event-hash", e.hash]);
      expect(checked.code, checked.stdout + checked.stderr).toBe(0);
      expect(checked.stdout).toContain(`event ${e.hash} is entry`);
      expect(checked.stdout.trim().split("\n").at(-1)).toBe("OK");
      if (i > 0) continue;
      // Not the event it claims to be, a changed proof, or another key: each refused.
      const other = payload.ledger.events[1 - i]!.hash;
      expect((await cli(["verify-proof", file, "--key", vkeyFile, "--event-hash", other])).code).toBe(1);
      const proof = JSON.parse(body) as { data: { inclusionProof: { hashes: string[]; leafHash: string } } };
      const tampered = join(srv.dataDir, `tampered-${i}.json`);
      const first = proof.data.inclusionProof.hashes[0]!;
      proof.data.inclusionProof.hashes[0] = `${first[0] === "A" ? "B" : "A"}${first.slice(1)}`;
      writeFileSync(tampered, JSON.stringify(proof));
      const refused = await cli(["verify-proof", tampered, "--key", vkeyFile]);
      expect(refused.code).toBe(1);
      expect(refused.stdout).toContain("FAILED");
    }
    const stranger = "ledger.test/other+0f1e2d3c+AeQjc9XvRuU2pn3ZbJN1QDk6mj9ovBIaABYnxCkKhOVd";
    const wrongKey = await cli(["verify-proof", join(srv.dataDir, "proof-0.json"), "--key", stranger]);
    expect(wrongKey.code).toBe(1);

    // The log only grew since the checkpoint saved before the receipt.
    const from = (JSON.parse(readFileSync(oldCheckpoint, "utf8")) as { data: { ledgerCheckpoint: { treeSize: number } } }).data.ledgerCheckpoint.treeSize;
    const consistency = join(srv.dataDir, "consistency.json");
    writeFileSync(consistency, await post(`query($from: Int!) { consistencyProof(fromSize: $from) { fromSize toSize hashes checkpoint { origin treeSize rootHash note } } }`, { from }, auditor));
    const grew = await cli(["verify-proof", consistency, "--key", vkeyFile, "--old", oldCheckpoint]);
    expect(grew.code, grew.stdout + grew.stderr).toBe(0);
    expect(grew.stdout).toContain(`at tree size ${from} is a prefix of`);
    const withoutOld = await cli(["verify-proof", consistency, "--key", vkeyFile]);
    expect(withoutOld.code).toBe(1);
    expect(withoutOld.stdout).toContain("--old");

    // verify checks the stored tree against the log and the latest checkpoint, and its signature with the key.
    const verified = await cli(["verify", dbPath, "--checkpoint-key", vkeyFile]);
    expect(verified.code, verified.stdout).toBe(0);
    expect(verified.stdout).toMatch(/tree ok: \d+ leaves; the latest checkpoint \(size \d+, root \S+\) holds, signature checked/);
    const db = sqlite(srv.app.services.ledger).store.db;
    const last = db.prepare("SELECT post_order, hash FROM merkle_nodes ORDER BY post_order DESC LIMIT 1").get() as { post_order: number; hash: Buffer };
    db.prepare("UPDATE merkle_nodes SET hash = zeroblob(32) WHERE post_order = ?").run(last.post_order);
    try {
      const damaged = await cli(["verify", dbPath]);
      expect(damaged.code).toBe(1);
      expect(damaged.stdout).toContain("tree FAILS: the tree's node at level");
    } finally {
      db.prepare("UPDATE merkle_nodes SET hash = ? WHERE post_order = ?").run(last.hash, last.post_order);
    }
  }, 180_000);

  it("finding 6: verify exits 1 when a read table was edited by SQL, and names the table", async () => {
    const db = sqlite(srv.app.services.ledger).store.db;
    db.prepare("UPDATE consents SET granted = 1 - granted WHERE subject_id = 'alice'").run();
    const edited = await cli(["verify", dbPath]);
    expect(edited.code).toBe(1);
    expect(edited.stdout).toMatch(/chain ok/);
    expect(edited.stdout).toMatch(/read tables DIFFER from a rebuild of the log: consents/);
    expect((await cli(["rebuild", dbPath])).code).toBe(0);
    expect((await cli(["verify", dbPath])).code).toBe(0);
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

describe("finding 5: backup refuses the live database, any other name of it, and symlinks", () => {
  let live: TestServer;
  let liveDb: string;
  let outside: string;
  beforeAll(async () => {
    // A server of its own: before the fix, the first command below wiped its database.
    live = await startTestServer();
    liveDb = join(live.dataDir, "ledger.db");
    outside = makeTempDir("ledger-backup-victims-");
    expect((await live.gql(RECORD, { input: { policyVersion: 1, acceptPolicy: true, grant: ["location"] } }, await live.token("bob", "consent:self"))).errors).toBeUndefined();
  }, 60_000);
  afterAll(async () => {
    await live?.close();
    if (outside) rmSync(outside, { recursive: true, force: true });
  });

  const env = () => ({ DATABASE_URL: `sqlite:${liveDb}` });

  it("refuses the live database by its path, through .., through a symlinked folder, by a hard link and its WAL, and the ledger goes on", async () => {
    const before = statSync(liveDb);
    linkSync(liveDb, join(outside, "hard-link.db"));
    symlinkSync(live.dataDir, join(outside, "alias"), "dir");
    const names = [liveDb, join(live.dataDir, "..", basename(live.dataDir), "ledger.db"), join(outside, "alias", "ledger.db"), join(outside, "hard-link.db"), `${liveDb}-wal`];
    for (const name of names) {
      const r = await cli(["backup", name, "--force"], env());
      expect(r.code, name).toBe(1);
      expect(r.stderr, name).toMatch(/is the live database/);
    }
    const after = statSync(liveDb);
    expect(after.ino).toBe(before.ino);
    expect(after.size).toBeGreaterThanOrEqual(before.size);
    // The ledger still writes, reads and verifies; ready means ready.
    const w = await live.gql(RECORD, { input: { policyVersion: 1, grant: [], withdraw: ["location"] } }, await live.token("bob", "consent:self"));
    expect(w.errors).toBeUndefined();
    const readyz = await fetch(live.url.replace(/\/graphql$/, "/readyz"));
    expect(readyz.status).toBe(200);
    const integrity = await live.gql<{ ledgerIntegrity: { ok: boolean } }>(`query { ledgerIntegrity { ok } }`, {}, await live.token("auditor", "ledger:read"));
    expect(integrity.data!.ledgerIntegrity.ok).toBe(true);
    expect((await cli(["verify", liveDb])).code).toBe(0);
  });

  it("never writes through a symlink: the target keeps its bytes and its mode, with or without --force", async () => {
    const victim = join(outside, "victim.txt");
    writeFileSync(victim, "precious\n", { mode: 0o644 });
    chmodSync(victim, 0o644);
    const link = join(outside, "backup-link.db");
    symlinkSync(victim, link);
    const dangling = join(outside, "dangling.db");
    symlinkSync(join(outside, "not-yet-there"), dangling);
    for (const [name, args] of [
      ["a symlink with --force", [link, "--force"]],
      ["a symlink", [link]],
      ["a dangling symlink", [dangling]],
      ["a dangling symlink with --force", [dangling, "--force"]],
    ] as const) {
      const r = await cli(["backup", ...args], env());
      expect(r.code, name).toBe(1);
      expect(r.stderr, name).toMatch(/symbolic link/);
    }
    expect(readFileSync(victim, "utf8")).toBe("precious\n");
    expect(statSync(victim).mode & 0o777).toBe(0o644);
    expect(existsSync(join(outside, "not-yet-there"))).toBe(false);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
  });

  it("still backs up to a new file, and with --force over an old backup, leaving nothing else behind", async () => {
    const dir = makeTempDir("ledger-backup-ok-");
    try {
      const file = join(dir, "copy.db");
      expect((await cli(["backup", file], env())).code).toBe(0);
      const refused = await cli(["backup", file], env());
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/exists/);
      const forced = await cli(["backup", file, "--force"], env());
      expect(forced.code, forced.stderr).toBe(0);
      expect(forced.stdout).toMatch(/the copy's chain: ok/);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(readdirSync(dir)).toEqual(["copy.db"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
