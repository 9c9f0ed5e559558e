// A service process on PostgreSQL that loses its database, as a client and a load balancer see it:
// writes answer STORE_UNAVAILABLE and /readyz says 503 while the connection is gone; once it is back
// the replica recovers by itself, and nothing acknowledged is lost or half-written.
import { rmSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { issueDevToken } from "../../../src/auth/dev-keys.js";
import { type ServiceProcess, buildService, startService } from "../../reliability/server-process.js";
import { ALL_SCOPES, RECORD, type RecordAnswer, allEvents, integrity, post, readyz } from "../../reliability/support.js";
import { eventually, makeTempDir } from "../../support/common.js";
import { freshDatabase } from "../../support/postgres.js";
import { type TcpProxy, startTcpProxy } from "../../support/tcp-proxy.js";

const input = (subjectId: string) => ({ subjectId, policyId: "clavis-privacy", policyVersion: 1, acceptPolicy: true, grant: ["location"] });

/** Waits until `cond` holds (the replica's view of its connection is seen only by asking it). */
const until = (what: string, cond: () => Promise<boolean>, ms = 20_000): Promise<void> => eventually(what, cond, { timeoutMs: ms, intervalMs: 100 });

describe("a replica that loses its PostgreSQL connection", () => {
  let dataDir: string;
  let proxy: TcpProxy;
  let service: ServiceProcess;
  let token: string;

  beforeAll(async () => {
    const build = buildService();
    dataDir = makeTempDir("ledger-outage-");
    const url = new URL(await freshDatabase("outage"));
    proxy = await startTcpProxy(Number(url.port));
    url.port = String(proxy.port);
    service = await startService(build, { dataDir, dbPath: "", databaseUrl: url.toString() });
    token = await issueDevToken({ sub: "ops", scope: ALL_SCOPES, dataDir });
  }, 180_000);

  afterAll(async () => {
    service?.child.kill("SIGKILL");
    await service?.exited;
    await proxy?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it("answers STORE_UNAVAILABLE and 503 on /readyz while the database is gone, then recovers by itself", { timeout: 90_000 }, async () => {
    const before = await post<RecordAnswer>(service.url, RECORD, { input: input("outage-before") }, token);
    expect(before.errors).toBeUndefined();
    expect(await readyz(service.url)).toBe(200);

    proxy.cut();
    const during = await post<RecordAnswer>(service.url, RECORD, { input: input("outage-during") }, token);
    expect(during.data).toBeNull();
    expect(during.errors?.map((e) => e.extensions?.["code"])).toEqual(["STORE_UNAVAILABLE"]);
    // What the database said stays in the log: the client hears only the contract's message.
    expect(JSON.stringify(during.errors)).not.toMatch(/ECONNRESET|ECONNREFUSED|terminat/i);
    await until("/readyz turns 503", async () => (await readyz(service.url)) === 503);
    expect(service.child.exitCode).toBeNull();

    proxy.restore();
    await until("/readyz turns 200 again", async () => (await readyz(service.url)) === 200);
    const after = await post<RecordAnswer>(service.url, RECORD, { input: input("outage-after") }, token);
    expect(after.errors).toBeUndefined();

    // The refused write left nothing behind; the acknowledged ones follow each other in one chain.
    const positions = (r: RecordAnswer) => r.recordConsent.events.map((e) => Number(e.position));
    expect(Math.min(...positions(after.data!))).toBe(Math.max(...positions(before.data!)) + 1);
    const events = await allEvents(service.url, token);
    expect(events.some((e) => e.subjectId === "outage-during")).toBe(false);
    expect(events.filter((e) => e.subjectId === "outage-after").map((e) => e.id)).toEqual(after.data!.recordConsent.events.map((e) => e.id));
    const report = await integrity(service.url, token);
    expect(report).toMatchObject({ ok: true, eventCount: events.length, firstInvalidPosition: null });
  });
});
