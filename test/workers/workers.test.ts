// WORKERS=2: connections shared out among worker processes, on SQLite one writer in the primary,
// every commit delivered to every worker's subscribers once and in order, a dead worker replaced.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BACKENDS } from "../support/backend.js";
import { type TestServer, startTestServer } from "../support/harness.js";
import { freshId } from "../api/helpers.js";
import { eventually } from "../support/common.js";
import { Collected, wsClient } from "../subscriptions/ws-client.js";
import { type Answer, postAlone } from "./alone.js";

const RECORD = `mutation R($input: RecordConsentInput!) { recordConsent(input: $input) { events { position type } } }`;
const LEDGER_EVENTS = `subscription Events($after: String, $types: [String!]) { ledgerEvents(after: $after, types: $types) { position type subjectId } }`;
const PERMISSION = `query P($s: ID!) { permission(subjectId: $s, purposeId: "location") { permitted } }`;

const positionsOf = (a: Answer): string[] => ((a.body.data?.["recordConsent"] as { events: { position: string }[] } | undefined)?.events ?? []).map((e) => e.position);

describe.each(BACKENDS)("WORKERS=2 on %s", (backend) => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startTestServer({ backend, env: { WORKERS: "2" } });
  }, 120_000);
  afterAll(() => srv?.close());

  it("serves from two worker processes besides the primary", () => {
    const pids = srv.app.workerPids!();
    expect(pids).toHaveLength(2);
    expect(new Set([...pids, process.pid]).size).toBe(3);
  });

  it("gives each subscriber, on either worker, every change written through either worker once and in order", async () => {
    const writer = await srv.token("service", "consent:write");
    const reader = await srv.token("auditor", "ledger:read");
    const start = positionsOf(await postAlone(srv.url, RECORD, { input: { subjectId: freshId("w"), policyVersion: 1, acceptPolicy: true, grant: ["location"] } }, writer));
    const after = start.at(-1)!;
    // Two connections opened one after the other land on different workers.
    const clients = [wsClient(srv.url, reader), wsClient(srv.url, reader)];
    const subs = clients.map((c) => new Collected<{ position: string; type: string }>(c, LEDGER_EVENTS, { after, types: ["ConsentGranted", "ConsentWithdrawn"] }, "ledgerEvents"));
    const first = positionsOf(await postAlone(srv.url, RECORD, { input: { subjectId: freshId("w"), policyVersion: 1, acceptPolicy: true, grant: ["location"] } }, writer));
    await Promise.all(subs.map((s) => s.until((c) => c.items.some((i) => i.position === first.at(-1)), "the first grant")));
    // Writes through both workers at once, each on a connection of its own.
    const answers = await Promise.all(
      Array.from({ length: 24 }, (_, i) =>
        postAlone(srv.url, RECORD, { input: { subjectId: freshId("w"), policyVersion: 1, acceptPolicy: true, ...(i % 2 ? { withdraw: ["location"] } : { grant: ["location"] }) } }, writer),
      ),
    );
    for (const a of answers) expect(a.body.errors).toBeUndefined();
    const written = [first, ...answers.map(positionsOf)].flat();
    const last = written.reduce((a, b) => (b > a ? b : a));
    await Promise.all(subs.map((s) => s.until((c) => c.items.some((i) => i.position === last), "the last write")));
    for (const s of subs) {
      const seen = s.items.map((i) => i.position);
      expect(new Set(seen).size).toBe(seen.length);
      expect([...seen].sort()).toEqual(seen);
      // Every consent change written is seen (each write's events include one grant or withdrawal).
      const changes = answers.length + 1;
      expect(seen.length).toBe(changes);
    }
    for (const c of clients) await c.dispose();
  });

  it("answers /metrics with every process's counts, each commit counted once", async () => {
    const reader = await srv.token("auditor", "ledger:read");
    const r = await srv.gql<{ events: { edges: unknown[] } }>(`{ events(first: 100, types: ["ConsentGranted"]) { edges { cursor } } }`, {}, reader);
    const stored = r.data!.events.edges.length;
    // The primary counts commits as they reach it: on SQLite from its writer before any answer, on
    // PostgreSQL from its change feed, which may hear of a worker's commit after that worker answered.
    let appended: number[] = [];
    let lines = "";
    await eventually("the primary has counted every stored grant", async () => {
      const res = await fetch(new URL("/metrics", srv.url));
      expect(res.status).toBe(200);
      const text = await res.text();
      lines = text.split("\n").filter((l) => l.includes("appended")).join("\n");
      appended = [...text.matchAll(/^ledger_events_appended_total\{type="ConsentGranted"\} (\d+)/gm)].map((m) => Number(m[1]));
      return appended.length === 1 && appended[0]! >= stored;
    }).catch(() => undefined);
    // Once, not once per process, and never more than were stored.
    expect(appended, lines).toEqual([stored]);
  });
});

describe("a worker killed mid-load", () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startTestServer({ backend: "sqlite", env: { WORKERS: "2" } });
  }, 120_000);
  afterAll(() => srv?.close());

  it("is replaced, and every acknowledged write is in the ledger", async () => {
    const writer = await srv.token("service", "consent:write consent:read");
    const before = srv.app.workerPids!();
    const victim = before[0]!;
    const acknowledged: string[] = [];
    let killed = false;
    let stop = false;
    // Eight callers write one subject each per call until the worker is gone and its successor serves.
    const load = Array.from({ length: 8 }, async () => {
      while (!stop) {
        const subjectId = freshId("k");
        const a = await postAlone(srv.url, RECORD, { input: { subjectId, policyVersion: 1, acceptPolicy: true, grant: ["location"] } }, writer).catch(() => null);
        if (a && a.status === 200 && !a.body.errors) acknowledged.push(subjectId);
        if (!killed && acknowledged.length >= 20) {
          killed = true;
          process.kill(victim, "SIGKILL");
        }
      }
    });
    await expect.poll(() => killed && srv.app.workerPids!().length === 2 && !srv.app.workerPids!().includes(victim), { timeout: 60_000, interval: 50 }).toBe(true);
    const countAtReplacement = acknowledged.length;
    await expect.poll(() => acknowledged.length >= countAtReplacement + 20, { timeout: 60_000, interval: 50 }).toBe(true);
    stop = true;
    await Promise.all(load);
    expect(srv.app.workerPids!()).toHaveLength(2);
    for (const subjectId of acknowledged) {
      const state = await srv.app.services.ledger.subject(subjectId);
      expect(state.status, subjectId).not.toBe("UNKNOWN");
      const a = await postAlone(srv.url, PERMISSION, { s: subjectId }, writer);
      expect(a.body.data?.["permission"]).toEqual({ permitted: true });
    }
  }, 180_000);
});

describe("WORKERS=auto", () => {
  it("starts one worker process per core", async () => {
    const { availableParallelism } = await import("node:os");
    const srv = await startTestServer({ backend: "sqlite", env: { WORKERS: "auto" } });
    try {
      const cores = availableParallelism();
      if (cores > 1) expect(srv.app.workerPids!()).toHaveLength(cores);
      else expect(srv.app.workerPids).toBeUndefined();
      const t = await srv.token("service", "consent:read");
      const r = await srv.gql(PERMISSION, { s: freshId("a") }, t);
      expect(r.errors).toBeUndefined();
    } finally {
      await srv.close();
    }
  }, 120_000);
});
