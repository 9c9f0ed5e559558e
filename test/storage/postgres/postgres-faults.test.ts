// Bad URLs and a lost database: a one-line refusal at start, STORE_UNAVAILABLE while it is gone,
// and a replica that finds its way back by itself.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { NewEvent } from "../../../src/storage/event-store.js";
import { PostgresStore } from "../../../src/storage/postgres/postgres-store.js";
import { freePort } from "../../support/postgres-server.js";
import { freshDatabase } from "../../support/postgres.js";
import { type TcpProxy, startTcpProxy } from "../../support/tcp-proxy.js";
import { eventually } from "../../support/common.js";

const grant = (subjectId: string): NewEvent => ({
  type: "ConsentGranted",
  data: { policyId: "p", version: 1, purposeId: "x", expiresAt: null },
  occurredAt: 1_700_000_000_000,
  actor: { kind: "SUBJECT", id: subjectId },
  subjectId,
});

const until = (cond: () => boolean | Promise<boolean>, ms = 10_000) => eventually("the store's state", cond, { timeoutMs: ms, intervalMs: 50 });

describe("PostgreSQL faults", () => {
  let url: URL;
  let proxy: TcpProxy;
  let store: PostgresStore;

  beforeAll(async () => {
    url = new URL(await freshDatabase());
    proxy = await startTcpProxy(Number(url.port));
    const viaProxy = new URL(url);
    viaProxy.port = String(proxy.port);
    store = await PostgresStore.open({ url: viaProxy.toString() });
  });
  afterAll(async () => {
    await store?.close();
    await proxy?.close();
  });

  it("refuses to open an unreachable server with one line that names it and not the password", async () => {
    const port = await freePort();
    const bad = `postgres://ledger:s3cret-pw@127.0.0.1:${port}/nowhere`;
    const e = await PostgresStore.open({ url: bad }).then(
      () => null,
      (err: Error) => err,
    );
    expect(e?.message).toMatch(new RegExp(`^cannot open the PostgreSQL ledger at postgres://ledger@127\\.0\\.0\\.1:${port}/nowhere: `));
    expect(e?.message).not.toContain("s3cret-pw");
    expect(e?.message).not.toContain("\n");
  });

  it("refuses a database that does not exist, and wrong credentials, in one line", async () => {
    const missing = new URL(url);
    missing.pathname = "/no_such_db";
    await expect(PostgresStore.open({ url: missing.toString() })).rejects.toThrow(/^cannot open the PostgreSQL ledger at .*no_such_db.*does not exist/);
    const wrong = new URL(url);
    wrong.password = "wrong";
    await expect(PostgresStore.open({ url: wrong.toString() })).rejects.toThrow(/^cannot open the PostgreSQL ledger at .*password authentication failed/);
  });

  it("answers STORE_UNAVAILABLE and is not ready while the connection is lost, then recovers by itself", async () => {
    const before = await store.append("subject:f0", 0, [grant("f0")]);
    proxy.cut();
    await expect(store.append("subject:f1", 0, [grant("f1")])).rejects.toMatchObject({ code: "STORE_UNAVAILABLE" });
    expect(store.isWritable()).toBe(false);
    proxy.restore();
    await until(() => store.isWritable());
    const after = await store.append("subject:f1", 0, [grant("f1")]);
    // Nothing half-written while it was gone: the chain goes on from the last acknowledged event.
    expect(after[0]!.position).toBe(before[0]!.position + 1);
    expect((await store.verify()).ok).toBe(true);
  });

  it("delivers to listeners what committed while its listening connection was down", async () => {
    const seen: number[] = [];
    const off = store.onCommit((es) => seen.push(...es.map((e) => e.position)));
    proxy.cut();
    // Another replica, reaching the database directly, writes while this one is cut off.
    const other = await PostgresStore.open({ url: url.toString() });
    const written = await other.append("subject:f2", 0, [grant("f2")]);
    await other.close();
    proxy.restore();
    await until(() => seen.includes(written[0]!.position));
    off();
    expect(seen).toEqual([written[0]!.position]);
  });
});
