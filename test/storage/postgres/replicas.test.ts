// Several service processes on one PostgreSQL database, as an operator runs them behind a load
// balancer: exact versions, idempotency and subscriptions across replicas, and kill -9 mid-writes.
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { issueDevToken } from "../../../src/auth/dev-keys.js";
import { type ServiceProcess, buildService, startService } from "../../reliability/server-process.js";
import { ALL_SCOPES, RECORD, type RecordAnswer, allEvents, integrity, post, readyz, sleep } from "../../reliability/support.js";
import { Collected, wsClient } from "../../subscriptions/ws-client.js";
import { freshDatabase } from "../../support/postgres.js";

const LEDGER_EVENTS = `subscription Events($after: String) { ledgerEvents(after: $after) { position type subjectId } }`;
const PUBLISH = `mutation($input: PublishPolicyVersionInput!) { publishPolicyVersion(input: $input) { policyId number } }`;
const POLICY = `query($id: ID!) { policy(id: $id) { id versions { number } } }`;

interface EventMsg {
  position: string;
  type: string;
  subjectId: string | null;
}

const consentInput = (subjectId: string, extra: Record<string, unknown> = {}) => ({
  subjectId,
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
    dataDir = mkdtempSync(join(tmpdir(), "ledger-replicas-"));
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

  it("delivers to a subscriber on one replica the writes made through another, and resumes on a third", async () => {
    const [a, b] = replicas;
    const client = wsClient(a!.url, token);
    const sub = new Collected<EventMsg>(client, LEDGER_EVENTS, { after: null }, "ledgerEvents");
    const subjects = Array.from({ length: 4 }, (_, i) => `sub-${i}-${randomUUID().slice(0, 6)}`);
    const written: string[] = [];
    for (const s of subjects) {
      const r = await post<RecordAnswer>(b!.url, RECORD, { input: consentInput(s) }, token);
      written.push(...r.data!.recordConsent.events.map((e) => e.position));
    }
    await sub.until((c) => written.every((p) => c.items.some((i) => i.position === p)), "the events written through the other replica");
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
    await again.until((x) => x.items.length >= want.length, "the events after the cursor");
    expect(again.items.slice(0, want.length).map((i) => i.position)).toEqual(want);
    again.unsubscribe();
    await resumed.dispose();
  });

  it("makes a policy published through one replica known to the others within 2 seconds", async () => {
    const [a, b] = replicas;
    const policyId = `replica-policy-${randomUUID().slice(0, 6)}`;
    const r = await post(a!.url, PUBLISH, {
      input: {
        policyId,
        title: "replica policy",
        effectiveAt: new Date(Date.now() - 1_000).toISOString(),
        requiresConsent: false,
        documentDigest: "c".repeat(64),
        purposes: [{ id: "news", title: "news", description: null, mode: "OPT_IN", basis: "CONSENT", dataCategories: ["contact"] }],
      },
    }, token);
    expect(r.errors).toBeUndefined();
    const published = Date.now();
    let seen = false;
    while (!seen && Date.now() - published < 2_000) {
      const q = await post<{ policy: { id: string } | null }>(b!.url, POLICY, { id: policyId }, token);
      seen = q.data?.policy?.id === policyId;
      if (!seen) await sleep(50);
    }
    expect(seen).toBe(true);
  });

  it("loses no acknowledged event when a replica is killed with SIGKILL mid-writes; positions stay dense and the chain verifies", async () => {
    const victim = replicas[0]!;
    const survivor = replicas[1]!;
    const acked: string[] = [];
    let stop = false;
    const writer = async (url: string, n: number) => {
      for (let i = 0; !stop; i++) {
        const r = await post<RecordAnswer>(url, RECORD, { input: consentInput(`kill-${n}-${i}-${randomUUID().slice(0, 6)}`) }, token).catch(() => null);
        if (r?.data?.recordConsent) acked.push(...r.data.recordConsent.events.map((e) => e.id));
        else if (url === victim.url) return;
      }
    };
    const writers = [0, 1, 2, 3].map((n) => writer(n % 2 ? survivor.url : victim.url, n));
    await sleep(700);
    victim.child.kill("SIGKILL");
    await victim.exited;
    await sleep(300);
    stop = true;
    await Promise.all(writers);
    expect(await readyz(survivor.url)).toBe(200);
    const events = await allEvents(survivor.url, token);
    const ids = new Set(events.map((e) => e.id));
    expect(acked.filter((id) => !ids.has(id))).toEqual([]);
    expect(events.map((e) => Number(e.position))).toEqual(events.map((_, i) => i + 1));
    const report = await integrity(survivor.url, token);
    expect(report).toMatchObject({ ok: true, eventCount: events.length, firstInvalidPosition: null });
  });
});
