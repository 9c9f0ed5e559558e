// SIGKILL under concurrent recordConsent load: after a restart every acknowledged event is there, nothing is half-written, projections equal a rebuild.
import { randomUUID } from "node:crypto";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { issueDevToken } from "../../src/auth/dev-keys.js";
import { type ServiceEnv, type ServiceProcess, buildService, runCli, startService } from "./server-process.js";
import { ALL_SCOPES, RECORD, type RecordAnswer, allEvents, consentAnswers, integrity, post, readyz } from "./support.js";
import { makeTempDir } from "../support/common.js";

const CLIENTS = 16;
const SUBJECTS_PER_CLIENT = 3;
/** How many writes are acknowledged before the server is killed (with more in flight); each is one crash-and-restart round. */
const KILL_AFTER_ACKS = [1, 25, 150];

interface Ack {
  idempotencyKey: string;
  events: RecordAnswer["recordConsent"]["events"];
}

interface Call {
  subjectId: string;
  input: Record<string, unknown>;
}

/** One client: owns its subjects, writes to them one call at a time, remembers what was acknowledged. */
class Client {
  readonly subjects: string[];
  /** Per subject, the acknowledged calls in order. */
  readonly acks = new Map<string, Ack[]>();
  /** The call that was sent but not answered when the server died (at most one: calls are sequential). */
  inFlight: Call | null = null;
  private next = 0;

  constructor(
    readonly id: number,
    readonly token: string,
  ) {
    this.subjects = Array.from({ length: SUBJECTS_PER_CLIENT }, (_, i) => `crash-c${id}-s${i}-${randomUUID().slice(0, 6)}`);
    for (const s of this.subjects) this.acks.set(s, []);
  }

  /** The k-th call on a subject: onboarding names three purposes, later calls swap two; every call is 2-3 events. */
  private callFor(subjectId: string): Call {
    const k = this.acks.get(subjectId)!.length;
    const swap = k % 2 === 1 ? { grant: ["linked-accounts"], withdraw: ["location"] } : { grant: ["location"], withdraw: ["linked-accounts"] };
    const body = k === 0 ? { acceptPolicy: true, grant: ["location"], withdraw: ["linked-accounts"] } : swap;
    return { subjectId, input: { subjectId, policyVersion: 1, ...body, evidence: { channel: "crash-test", userAgent: `client ${this.id}` }, idempotencyKey: randomUUID() } };
  }

  expectedEvents(call: Call): number {
    const i = call.input as { acceptPolicy?: boolean; grant: string[]; withdraw: string[] };
    return (i.acceptPolicy ? 1 : 0) + i.grant.length + i.withdraw.length;
  }

  /** Sends one call; true when it was acknowledged, false when the server went away first. */
  async send(url: string, call: Call): Promise<boolean> {
    this.inFlight = call;
    let r;
    try {
      r = await post<RecordAnswer>(url, RECORD, { input: call.input }, this.token);
    } catch {
      return false; // connection reset by the kill: the outcome is unknown, the call stays in flight
    }
    if (r.errors) throw new Error(`client ${this.id}: ${JSON.stringify(r.errors)}`);
    this.acks.get(call.subjectId)!.push({ idempotencyKey: String(call.input["idempotencyKey"]), events: r.data!.recordConsent.events });
    this.inFlight = null;
    return true;
  }

  /** Writes until the server dies (or `stop` says so), telling `acked` of each acknowledged call. */
  async load(url: string, stop: () => boolean, acked: () => void = () => {}): Promise<void> {
    while (!stop()) {
      const subjectId = this.subjects[this.next++ % this.subjects.length]!;
      if (!(await this.send(url, this.callFor(subjectId)))) return;
      acked();
    }
  }
}

let buildDir: string;
let dataDir: string;
let env: ServiceEnv;
let server: ServiceProcess | null = null;

beforeAll(() => {
  buildDir = buildService();
  dataDir = makeTempDir("ledger-crash-");
  env = { dataDir, dbPath: join(dataDir, "ledger.db") };
}, 120_000);

afterAll(async () => {
  if (server && server.child.exitCode === null) {
    server.child.kill("SIGKILL");
    await server.exited;
  }
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(buildDir, { recursive: true, force: true });
});

async function stopGracefully(s: ServiceProcess): Promise<void> {
  s.child.kill("SIGTERM");
  expect(await s.exited).toBe(0);
}

describe("the real server killed with SIGKILL under concurrent recordConsent load", () => {
  it(`keeps every acknowledged event, writes nothing by halves and rebuilds to the same answers (kills after ${KILL_AFTER_ACKS.join(", ")} acknowledged writes)`, async () => {
    server = await startService(buildDir, env);
    const officer = await issueDevToken({ dataDir, sub: "crash-officer", scope: ALL_SCOPES });
    const clients = await Promise.all(
      Array.from({ length: CLIENTS }, async (_, i) => new Client(i, await issueDevToken({ dataDir, sub: `crash-client-${i}`, scope: "consent:write consent:read" }))),
    );
    const catalogEvents = (await integrity(server.url, officer)).eventCount;
    let totalAcked = 0;
    const outcomes = { committed: 0, lost: 0 };

    for (const killAfter of KILL_AFTER_ACKS) {
      // ---- load, then the kill once `killAfter` writes were acknowledged ----
      const running = server;
      let killed = false;
      let acks = 0;
      let enough!: () => void;
      const reached = new Promise<void>((r) => (enough = r));
      const loads = clients.map((c) => c.load(running.url, () => killed, () => void (++acks === killAfter && enough())));
      await reached;
      killed = true;
      running.child.kill("SIGKILL");
      expect(await running.exited).toBe("SIGKILL");
      await Promise.all(loads);

      // ---- restart; clients retry what was in flight with the same idempotency key ----
      server = await startService(buildDir, env);
      const url = server.url;
      const log = new Map((await allEvents(url, officer)).map((e) => [e.id, e]));
      const inFlightOutcome = new Map<Call, "committed" | "lost">();
      for (const c of clients) {
        const call = c.inFlight;
        if (!call) continue;
        const priorStream = [...log.values()].filter((e) => e.subjectId === call.subjectId).length;
        const ackedBefore = c.acks.get(call.subjectId)!.reduce((n, a) => n + a.events.length, 0);
        // All of the call or none of it: never a part.
        expect([ackedBefore, ackedBefore + c.expectedEvents(call)]).toContain(priorStream);
        expect(await c.send(url, call)).toBe(true);
        const replay = c.acks.get(call.subjectId)!.at(-1)!.events;
        expect(replay).toHaveLength(c.expectedEvents(call));
        inFlightOutcome.set(call, priorStream > ackedBefore ? "committed" : "lost");
        // A committed call's retry is a replay of the stored events, not a second append.
        if (priorStream > ackedBefore) for (const e of replay) expect(log.get(e.id)).toMatchObject({ position: e.position, hash: e.hash });
        else for (const e of replay) expect(log.has(e.id)).toBe(false);
      }

      // ---- every acknowledged event is there, identical; nothing else is ----
      const events = await allEvents(url, officer);
      const byId = new Map(events.map((e) => [e.id, e]));
      let acked = 0;
      for (const c of clients)
        for (const subjectId of c.subjects) {
          const expected = c.acks.get(subjectId)!.flatMap((a) => a.events);
          acked += expected.length;
          for (const e of expected) expect(byId.get(e.id), `event ${e.id} of ${subjectId}`).toMatchObject({ position: e.position, hash: e.hash, type: e.type });
          // The subject's stream is exactly its acknowledged calls, each whole, in order.
          expect(events.filter((e) => e.subjectId === subjectId).map((e) => e.id)).toEqual(expected.map((e) => e.id));
        }
      expect(events.length).toBe(catalogEvents + acked);
      expect(await integrity(url, officer)).toMatchObject({ ok: true, eventCount: events.length, firstInvalidPosition: null });
      expect(await readyz(url)).toBe(200);
      totalAcked = acked;

      // ---- the projections the crash left equal those rebuilt from the log ----
      const subjects = clients.flatMap((c) => c.subjects);
      const before = await consentAnswers(url, officer, subjects);
      await stopGracefully(server);
      const rebuilt = runCli(buildDir, env, ["rebuild", env.dbPath]);
      expect(rebuilt.status, rebuilt.stderr).toBe(0);
      expect(rebuilt.stdout).toMatch(new RegExp(`rebuilt projections from ${events.length} events`));
      server = await startService(buildDir, env);
      expect(await consentAnswers(server.url, officer, subjects)).toEqual(before);
      for (const o of inFlightOutcome.values()) outcomes[o]++;
    }
    expect(totalAcked).toBeGreaterThan(0);
    // The kills hit a server that was busy writing, not an idle one.
    expect(outcomes.committed + outcomes.lost).toBeGreaterThan(0);
  }, 120_000);
});
