// Several service processes on one PostgreSQL database, as an operator runs them behind a load
// balancer: exact versions, idempotency and subscriptions across replicas, and kill -9 mid-writes.
import { randomUUID } from "node:crypto";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { issueDevToken } from "../../../src/auth/dev-keys.js";
import { publishCatalogDir } from "../../../src/catalog-dir.js";
import { type ServiceProcess, buildService, runCli, startService } from "../../reliability/server-process.js";
import { ALL_SCOPES, RECORD, type RecordAnswer, allEvents, integrity, post, readyz } from "../../reliability/support.js";
import { Collected, wsClient } from "../../subscriptions/ws-client.js";
import { openSqliteLedgerAt } from "../../support/ledger-commands.js";
import { freePort } from "../../support/postgres-server.js";
import { freshDatabase } from "../../support/postgres.js";
import { eventually, makeTempDir } from "../../support/common.js";

const LEDGER_EVENTS = `subscription Events($after: String) { ledgerEvents(after: $after) { position type subjectId } }`;
const PUBLISH = `mutation($input: PublishPolicyVersionInput!) { publishPolicyVersion(input: $input) { policyId number } }`;
const POLICY = `query($id: ID!) { policy(id: $id) { id versions { number } } }`;
const INCLUSION = `query($id: ID!) { inclusionProof(eventId: $id) { leafIndex treeSize leafHash hashes checkpoint { origin treeSize rootHash note } } }`;
const CONSISTENCY = `query($from: Int!) { consistencyProof(fromSize: $from) { fromSize toSize hashes checkpoint { origin treeSize rootHash note } } }`;
const CHECKPOINT = `query { ledgerCheckpoint { origin treeSize rootHash note } }`;

interface EventMsg {
  position: string;
  type: string;
  subjectId: string | null;
}

const consentInput = (subjectId: string, extra: Record<string, unknown> = {}) => ({
  subjectId,
  // Named: a test below publishes a second policy.
  policyId: "clavis-privacy",
  policyVersion: 1,
  acceptPolicy: true,
  grant: ["location"],
  ...extra,
});

describe("replicas on one PostgreSQL database", () => {
  let build: string;
  let dataDir: string;
  let databaseUrl: string;
  let token: string;
  const replicas: ServiceProcess[] = [];

  const start = async () => {
    const r = await startService(build, { dataDir, dbPath: "", databaseUrl });
    replicas.push(r);
    return r;
  };

  beforeAll(async () => {
    build = buildService();
    // One data folder for every replica: they share the dev signing keys, as they would share a JWKS.
    dataDir = makeTempDir("ledger-replicas-");
    databaseUrl = await freshDatabase("replicas");
    // Started together: the schema is created once, the catalogue published once.
    await Promise.all([start(), start()]);
    token = await issueDevToken({ sub: "ops", scope: ALL_SCOPES, dataDir });
  }, 180_000);

  afterAll(async () => {
    for (const r of replicas) {
      r.child.kill("SIGKILL");
      await r.exited;
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("lets one of two replicas racing on one subject version win; the other answers VERSION_CONFLICT", async () => {
    const [a, b] = replicas;
    const subjectId = `race-${randomUUID().slice(0, 8)}`;
    const answers = await Promise.all(
      [a!, b!, a!, b!].map((r) => post<RecordAnswer>(r.url, RECORD, { input: consentInput(subjectId, { expectedVersion: 0 }) }, token)),
    );
    expect(answers.filter((x) => x.data?.recordConsent).length).toBe(1);
    expect(answers.filter((x) => x.code === "VERSION_CONFLICT").length).toBe(3);
  });

  it("answers an idempotency key replayed on another replica with the first answer", async () => {
    const [a, b] = replicas;
    const subjectId = `idem-${randomUUID().slice(0, 8)}`;
    const input = consentInput(subjectId, { idempotencyKey: randomUUID() });
    const first = await post<RecordAnswer>(a!.url, RECORD, { input }, token);
    const again = await post<RecordAnswer>(b!.url, RECORD, { input }, token);
    expect(first.data?.recordConsent.events.length).toBeGreaterThan(0);
    expect(again.data?.recordConsent.events).toEqual(first.data?.recordConsent.events);
    const other = await post<RecordAnswer>(b!.url, RECORD, { input: { ...input, grant: [] } }, token);
    expect(other.code).toBe("IDEMPOTENCY_CONFLICT");
  });

  it("delivers to a subscriber on one replica the writes made through another, and resumes on a third", { timeout: 90_000 }, async () => {
    const [a, b] = replicas;
    // From the head as it stands: a subscription "from now" may become live after the first write, on a loaded machine.
    const head = await post<{ ledgerIntegrity: { headPosition: string } }>(a!.url, `query { ledgerIntegrity { headPosition } }`, {}, token);
    const client = wsClient(a!.url, token);
    const sub = new Collected<EventMsg>(client, LEDGER_EVENTS, { after: head.data!.ledgerIntegrity.headPosition }, "ledgerEvents");
    const subjects = Array.from({ length: 4 }, (_, i) => `sub-${i}-${randomUUID().slice(0, 6)}`);
    const written: string[] = [];
    for (const s of subjects) {
      const r = await post<RecordAnswer>(b!.url, RECORD, { input: consentInput(s) }, token);
      written.push(...r.data!.recordConsent.events.map((e) => e.position));
    }
    await sub.until((c) => written.every((p) => c.items.some((i) => i.position === p)), "the events written through the other replica", 30_000);
    const positions = sub.items.map((i) => Number(i.position));
    expect(positions).toEqual([...positions].sort((x, y) => x - y));
    expect(new Set(positions).size).toBe(positions.length);
    sub.unsubscribe();
    await client.dispose();

    // Resume with the last cursor on a replica that did not exist when the subscription began.
    const c = await start();
    const last = sub.items.at(-1)!.position;
    const more = await post<RecordAnswer>(a!.url, RECORD, { input: consentInput(`sub-late-${randomUUID().slice(0, 6)}`) }, token);
    const resumed = wsClient(c.url, token);
    const again = new Collected<EventMsg>(resumed, LEDGER_EVENTS, { after: last }, "ledgerEvents");
    const want = more.data!.recordConsent.events.map((e) => e.position);
    await again.until((x) => x.items.length >= want.length, "the events after the cursor", 30_000);
    expect(again.items.slice(0, want.length).map((i) => i.position)).toEqual(want);
    again.unsubscribe();
    await resumed.dispose();
  });

  it("refuses to start on an unreachable DATABASE_URL with one line that names the server, not the password", async () => {
    const bad = `postgres://ledger:not-this-password@127.0.0.1:${await freePort()}/ledger`;
    const started = startService(build, { dataDir, dbPath: "", databaseUrl: bad });
    await expect(started).rejects.toThrow(/exited \(1\) before listening/);
    const err = await started.catch((e: Error) => e.message);
    const line = String(err).split("stderr: ")[1]!.trim();
    expect(line.split("\n")).toHaveLength(1);
    expect(line).toMatch(/cannot open the PostgreSQL ledger at postgres:\/\/ledger@127\.0\.0\.1:\d+\/ledger/);
    expect(line).not.toContain("not-this-password");
  });

  it("copies a SQLite ledger with migrate-sqlite-to-postgres, and verify walks the copy on PostgreSQL", async () => {
    const file = join(dataDir, "source.db");
    const ledger = await openSqliteLedgerAt(file);
    await publishCatalogDir(ledger, "data/policies");
    await ledger.close();
    const target = await freshDatabase("copy");
    const env = { dataDir, dbPath: file };
    const copy = runCli(build, env, ["migrate-sqlite-to-postgres", "--from", `sqlite:${file}`, "--to", target]);
    // Progress goes to stderr: here one chunk, so one line, the last.
    expect(copy.stderr).toMatch(/^copied ([1-9][\d,]*) of \1 events \(100%\), [\d,]+ events\/s, done\n$/);
    expect(copy.status).toBe(0);
    expect(copy.stdout).toMatch(/^copied [1-9]\d* events, .*the copy's chain: ok, head \d+, the source's head/);
    const verify = runCli(build, env, ["verify", target, "--json"]);
    expect(verify.status).toBe(0);
    expect(JSON.parse(verify.stdout)).toMatchObject({ ok: true });
    const again = runCli(build, env, ["migrate-sqlite-to-postgres", "--from", `sqlite:${file}`, "--to", target]);
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/already holds \d+ events/);
  });

  it("proves a receipt's events, recorded through one replica, against the checkpoint another serves, offline with the one verifier key", async () => {
    const [a, b] = replicas;
    // Reads are sent again if the first try met a kept-alive socket the server had just closed.
    const vkeyOf = async (url: string) => {
      const u = new URL("/.well-known/ledger-checkpoint-key", url);
      return (await fetch(u).catch(() => fetch(u))).text();
    };
    const vkey = await vkeyOf(a!.url);
    expect(await vkeyOf(b!.url)).toBe(vkey);
    const vkeyFile = join(dataDir, "checkpoint.vkey");
    writeFileSync(vkeyFile, vkey);
    const env = { dataDir, dbPath: "", databaseUrl };
    /** A query retried while its answer is NOT_YET_LOGGED (checkpoints follow commits within a second). */
    const logged = async (url: string, query: string, variables: Record<string, unknown>) => {
      const ask = () => post<Record<string, unknown>>(url, query, variables, token);
      let r = await ask().catch(() => ask());
      await eventually("a checkpoint covering the write", async () => (r = await ask().catch(() => ask())).code !== "NOT_YET_LOGGED");
      return r;
    };
    const before = (await logged(a!.url, CHECKPOINT, {})).data!.ledgerCheckpoint as { treeSize: number; rootHash: string };

    const recorded = await post<RecordAnswer>(a!.url, RECORD, { input: consentInput(`proof-${randomUUID().slice(0, 8)}`) }, token);
    const payload = JSON.parse(Buffer.from(recorded.data!.recordConsent.receipt.split(".")[1]!, "base64url").toString("utf8")) as { ledger: { events: { id: string; hash: string }[] } };
    expect(payload.ledger.events.length).toBeGreaterThan(0);
    for (const [i, e] of payload.ledger.events.entries()) {
      const r = await logged(b!.url, INCLUSION, { id: e.id });
      expect(r.errors, JSON.stringify(r.errors)).toBeUndefined();
      const file = join(dataDir, `replica-proof-${i}.json`);
      writeFileSync(file, JSON.stringify({ data: r.data }));
      const checked = runCli(build, env, ["verify-proof", file, "--key", vkeyFile, "--event-hash", e.hash]);
      expect(checked.status, checked.stdout + checked.stderr).toBe(0);
      expect(checked.stdout.trim().split("\n").at(-1)).toBe("OK");
    }
    // The checkpoint seen on A before is a prefix of the one B serves now.
    const oldFile = join(dataDir, "replica-checkpoint-before.json");
    writeFileSync(oldFile, JSON.stringify({ data: { ledgerCheckpoint: before } }));
    const consistency = await logged(b!.url, CONSISTENCY, { from: before.treeSize });
    expect(consistency.errors, JSON.stringify(consistency.errors)).toBeUndefined();
    const proofFile = join(dataDir, "replica-consistency.json");
    writeFileSync(proofFile, JSON.stringify({ data: consistency.data }));
    const checked = runCli(build, env, ["verify-proof", proofFile, "--key", vkeyFile, "--old", oldFile]);
    expect(checked.status, checked.stdout + checked.stderr).toBe(0);
  });

  it("makes a policy published through one replica known to the others within 2 seconds", async () => {
    const [a, b] = replicas;
    const policyId = `replica-policy-${randomUUID().slice(0, 6)}`;
    // Sent twice only if the first try met a kept-alive socket the server had just closed (nothing was received).
    const publish = () => post(a!.url, PUBLISH, {
      input: {
        policyId,
        title: "replica policy",
        effectiveAt: new Date(Date.now() - 1_000).toISOString(),
        requiresConsent: false,
        documentDigest: "c".repeat(64),
        purposes: [{ id: "news", title: "news", description: null, mode: "OPT_IN", basis: "CONSENT", dataCategories: ["contact"] }],
      },
    }, token);
    const r = await publish().catch(() => publish());
    expect(r.errors, JSON.stringify(r.errors)).toBeUndefined();
    // The other replica learns of it from the log (its change pump), which announces nothing to the test: ask it.
    await eventually("the publication seen by the other replica", async () => (await post<{ policy: { id: string } | null }>(b!.url, POLICY, { id: policyId }, token)).data?.policy?.id === policyId);
  });

  it("loses no acknowledged event when a replica is killed with SIGKILL mid-writes; positions stay dense and the chain verifies", { timeout: 90_000 }, async () => {
    const victim = replicas[0]!;
    const survivor = replicas[1]!;
    const acked: string[] = [];
    let ackedByVictim = 0;
    let ackedAfterKill = 0;
    let killed = false;
    let stop = false;
    const writer = async (url: string, n: number) => {
      for (let i = 0; !stop; i++) {
        const r = await post<RecordAnswer>(url, RECORD, { input: consentInput(`kill-${n}-${i}-${randomUUID().slice(0, 6)}`) }, token).catch(() => null);
        if (r?.data?.recordConsent) {
          acked.push(...r.data.recordConsent.events.map((e) => e.id));
          if (url === victim.url) ackedByVictim++;
          if (killed) ackedAfterKill++;
        } else if (url === victim.url) return;
        else if (r) throw new Error(`a write to the survivor was refused: ${JSON.stringify(r.errors)}`);
      }
    };
    const writers = [0, 1, 2, 3].map((n) => writer(n % 2 ? survivor.url : victim.url, n));
    const until = (cond: () => boolean, what: string) => eventually(what, cond, { timeoutMs: 30_000 });
    // Killed in the middle of writing: after some of its writes were acknowledged, with more in flight.
    await until(() => ackedByVictim >= 3, "writes acknowledged by the victim");
    victim.child.kill("SIGKILL");
    killed = true;
    await victim.exited;
    await until(() => ackedAfterKill >= 3, "writes acknowledged by the survivor after the kill");
    stop = true;
    await Promise.all(writers);
    // The victim was writing when it died, and the survivor went on writing after.
    expect(ackedByVictim).toBeGreaterThan(0);
    expect(ackedAfterKill).toBeGreaterThan(0);
    expect(await readyz(survivor.url)).toBe(200);
    const events = await allEvents(survivor.url, token);
    const ids = new Set(events.map((e) => e.id));
    expect(acked.filter((id) => !ids.has(id))).toEqual([]);
    expect(events.map((e) => Number(e.position))).toEqual(events.map((_, i) => i + 1));
    const report = await integrity(survivor.url, token);
    expect(report).toMatchObject({ ok: true, eventCount: events.length, firstInvalidPosition: null });
    // The tree the sequencer kept through the kill is the tree of the log, and the latest checkpoint its root.
    const verify = runCli(build, { dataDir, dbPath: "", databaseUrl }, ["verify", databaseUrl, "--json"]);
    expect(verify.status, verify.stdout + verify.stderr).toBe(0);
    expect(JSON.parse(verify.stdout)).toMatchObject({ ok: true, tree: { ok: true, leaves: events.length } });
  });
});
