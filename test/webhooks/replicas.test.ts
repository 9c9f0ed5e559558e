// Two service processes on one PostgreSQL database: one of them at a time delivers a webhook (a
// lease); kill -9 of that one moves the lease to the other, which goes on from the stored cursor:
// every change arrives, and no message overtakes an earlier one.
import { readFileSync, rmSync } from "node:fs";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { issueDevToken } from "../../src/auth/dev-keys.js";
import { type ServiceProcess, buildService, startService } from "../reliability/server-process.js";
import { ALL_SCOPES, RECORD, type RecordAnswer, post } from "../reliability/support.js";
import { makeTempDir } from "../support/common.js";
import { freshDatabase } from "../support/postgres.js";
import { WebhookReceiver } from "../support/webhook-receiver.js";
import { freshId } from "../api/helpers.js";

const CREATE = `mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { webhook { id } secret } }`;

describe("webhooks across PostgreSQL replicas", () => {
  let build: string;
  let dataDir: string;
  let databaseUrl: string;
  let token: string;
  let receiver: WebhookReceiver;
  let db: pg.Client;
  const replicas: ServiceProcess[] = [];

  const start = async () => {
    const r = await startService(build, {
      dataDir,
      dbPath: "",
      databaseUrl,
      extra: {
        WEBHOOK_ALLOW_HTTP: "true",
        WEBHOOK_ALLOW_PRIVATE: "true",
        // A short lease, so that the test sees it move soon after its holder dies.
        WEBHOOK_LEASE_MS: "2000",
        WEBHOOK_TIMEOUT_MS: "500",
        WEBHOOK_FLUSH_MS: "20",
        WEBHOOK_RETRY_DELAYS_MS: Array.from({ length: 100 }, () => "50").join(","),
      },
    });
    replicas.push(r);
    return r;
  };

  beforeAll(async () => {
    build = buildService();
    dataDir = makeTempDir("webhook-replicas-");
    databaseUrl = await freshDatabase("webhook_replicas");
    await Promise.all([start(), start()]);
    token = await issueDevToken({ sub: "ops", scope: ALL_SCOPES, dataDir });
    receiver = await WebhookReceiver.start();
    db = new pg.Client({ connectionString: databaseUrl });
    await db.connect();
  }, 180_000);

  afterAll(async () => {
    for (const r of replicas) {
      r.child.kill("SIGKILL");
      await r.exited;
    }
    await db?.end();
    await receiver?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const holderPid = async (webhookId: string): Promise<number | null> => {
    const { rows } = await db.query<{ holder: string }>("SELECT holder FROM webhook_leases WHERE webhook_id = $1 AND expires_at > clock_timestamp()", [webhookId]);
    return rows[0] ? Number(rows[0].holder.split(":").at(-2)) : null;
  };

  // The lease names the service process; the test spawned its supervisor (main.js), whose child it is.
  const replicaOf = (pid: number | null): ServiceProcess | undefined => {
    if (pid === null) return undefined;
    const direct = replicas.find((r) => r.child.pid === pid);
    if (direct) return direct;
    const parent = Number(readFileSync(`/proc/${pid}/stat`, "utf8").replace(/^.*\) /s, "").split(" ")[1]);
    return replicas.find((r) => r.child.pid === parent);
  };

  const record = async (via: ServiceProcess, subjectId: string) => {
    const r = await post<RecordAnswer>(via.url, RECORD, { input: { subjectId, policyId: "clavis-privacy", policyVersion: 1, acceptPolicy: true, grant: ["location"] } }, token);
    expect(r.errors).toBeUndefined();
  };

  it("moves the lease when the delivering replica is killed, and loses nothing", { timeout: 120_000 }, async () => {
    const [a, b] = replicas;
    const created = (await post<{ createWebhook: { webhook: { id: string }; secret: string } }>(a!.url, CREATE, { input: { url: receiver.url("/lease") } }, token)).data!
      .createWebhook;
    receiver.trust("/lease", created.secret);
    let holder: number | null = null;
    for (let i = 0; i < 1_000 && holder === null; i++) holder = await holderPid(created.webhook.id);
    const victim = replicaOf(holder)!;
    const survivor = victim === a ? b! : a!;
    expect(victim).toBeDefined();

    const acked = (s: string) => receiver.acknowledged("/lease").some((r) => r.message?.data.subjectId === s && r.message.data.purposeId === "location");
    const before = [freshId("pre"), freshId("pre"), freshId("pre")];
    for (const s of before) await record(survivor, s);
    await receiver.until(() => before.every(acked), "the changes before the kill, from the lease holder");
    process.kill(holder!, "SIGKILL");
    await victim.exited;
    const after = [freshId("post"), freshId("post"), freshId("post")];
    for (const s of after) await record(survivor, s);
    await receiver.until(() => after.every(acked), "the changes after the kill, from the replica that took the lease", 60_000);
    expect(replicaOf(await holderPid(created.webhook.id))).toBe(survivor);

    const got = receiver.acknowledged("/lease");
    expect(got.every((r) => r.verified)).toBe(true);
    // A message may come again after the move (same webhook-id), but none comes before an earlier one first did.
    const seen = new Set<string>();
    const firsts: string[] = [];
    for (const r of got) if (!seen.has(r.id)) (seen.add(r.id), firsts.push(r.message!.data.cursor));
    expect(firsts).toEqual([...firsts].sort());
    const order = [...new Set(got.filter((r) => r.message!.data.purposeId === "location").map((r) => r.message!.data.subjectId))];
    expect(order).toEqual([...before, ...after]);
  });
});
