// The permission reads' view on PostgreSQL replicas (VIEW_CACHE_MAX_LAG_MS): each replica answers
// from memory while its change feed is live and current. A replica reads its own writes; a read
// carrying another replica's Ledger-Position sees that write; without the header a replica converges
// as its feed applies the log; with its feed cut or behind past the bound it reads the database; and
// the view stays within VIEW_CACHE_MB's bound.
import fc from "fast-check";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BASE_POLICY, RECORD_CONSENT, type RecordPayload, freshId, onboard } from "../../api/helpers.js";
import { consentKey } from "../../../src/domain/subject.js";
import { PostgresStorage } from "../../../src/storage/postgres/postgres-storage.js";
import type { ViewCacheStats } from "../../../src/storage/view-cache.js";
import { TestClock } from "../../support/clock.js";
import { eventually, makeTempDir } from "../../support/common.js";
import { type TestServer, startTestServer } from "../../support/harness.js";
import { sendWithHeaders as send } from "../../support/send-with-headers.js";

/** The real time, as a clock no test moves: a wait for a position never runs out on a loaded machine. */
class RealTimeClock extends TestClock {
  override readonly now = (): number => Date.now();
}

const PERMISSION = `query($s: ID!) { permission(subjectId: $s, purposeId: "location") { permitted } }`;
const ME = `{ me { version } }`;
const VIEW = { VIEW_CACHE_MAX_LAG_MS: "2000" };

const storageOf = (srv: TestServer) => srv.app.services.ledger.storage as PostgresStorage;
const statsOf = (srv: TestServer): ViewCacheStats => storageOf(srv).viewCache()!;
const urlOf = (srv: TestServer): string => (srv.config.database as { url: string }).url;

describe("the permission reads' view on PostgreSQL replicas", () => {
  let a: TestServer;
  let b: TestServer;
  let reader: string;
  let db: pg.Client;
  const dataDir = makeTempDir("ledger-replica-view-");

  const permitted = async (srv: TestServer, subjectId: string, position?: string): Promise<boolean> => {
    const r = await send<{ permission: { permitted: boolean } }>(srv, PERMISSION, { s: subjectId }, reader, position ? { "Ledger-Min-Position": position } : {});
    expect(r.status).toBe(200);
    return r.data!.permission.permitted;
  };

  beforeAll(async () => {
    // One data folder: the same database and the same dev signing keys, as replicas share a JWKS.
    a = await startTestServer({ dataDir, backend: "postgres", env: VIEW, clock: new RealTimeClock() });
    b = await startTestServer({ dataDir, backend: "postgres", env: VIEW, clock: new RealTimeClock() });
    reader = await b.token("svc", "consent:read");
    db = new pg.Client({ connectionString: urlOf(a) });
    await db.connect();
  }, 60_000);
  afterAll(async () => {
    await db?.end();
    await a?.close();
    await b?.close();
  });

  it("keeps a view on each replica, off by default", async () => {
    expect(statsOf(a).maxBytes).toBe(64 * 1_048_576);
    const plain = await startTestServer({ backend: "postgres" });
    try {
      expect(storageOf(plain).viewCache()).toBeNull();
    } finally {
      await plain.close();
    }
  });

  it("never answers from before a write: on the writing replica after its answer, on the other given its position (concurrent writers on both, property)", async () => {
    const owners = [
      { writer: a, other: b, subjectId: freshId() },
      { writer: b, other: a, subjectId: freshId() },
    ];
    for (const o of owners) await onboard(o.writer, o.subjectId, ["location"]);
    const selves = await Promise.all(owners.map((o) => o.writer.token(o.subjectId, "consent:self")));
    const hitsBefore = statsOf(a).hits + statsOf(b).hits;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.boolean(), { minLength: 1, maxLength: 5 }), fc.array(fc.boolean(), { minLength: 1, maxLength: 5 }), async (...runs) => {
        await Promise.all(
          owners.map(async ({ writer, other, subjectId }, i) => {
            const self = selves[i]!;
            for (const grant of runs[i]!) {
              // Both replicas hold the subject before the write, so an answer from before it would show.
              await permitted(writer, subjectId);
              await permitted(other, subjectId);
              const w = await send<RecordPayload>(writer, RECORD_CONSENT, { input: { policyVersion: 1, ...(grant ? { grant: ["location"] } : { withdraw: ["location"] }) } }, self);
              expect(w.status).toBe(200);
              const position = w.headers.get("ledger-position")!;
              const version = w.data!.recordConsent.subject.version;
              // The writing replica, after the answer, without the header: permission and me.
              expect(await permitted(writer, subjectId)).toBe(grant);
              const me = await send<{ me: { version: number } }>(writer, ME, {}, self);
              expect(me.data!.me.version).toBe(version);
              // The other replica, given the position: twice, the second from memory when the view holds it.
              expect(await permitted(other, subjectId, position)).toBe(grant);
              expect(await permitted(other, subjectId, position)).toBe(grant);
              const meThere = await send<{ me: { version: number } }>(other, ME, {}, self, { "Ledger-Min-Position": position });
              expect(meThere.data!.me.version).toBe(version);
            }
          }),
        );
      }),
      { numRuns: 8 },
    );
    // The reads were answered from memory, not only from the database.
    expect(statsOf(a).hits + statsOf(b).hits).toBeGreaterThan(hitsBefore);
  });

  it("converges without the header: once B's feed has applied A's write, B answers it, from memory", async () => {
    const subjectId = freshId();
    await onboard(a, subjectId, ["location"]);
    const self = await a.token(subjectId, "consent:self");
    // B holds the subject granted.
    await b.app.services.applied.reach(a.app.services.applied.current);
    expect(await permitted(b, subjectId)).toBe(true);
    const w = await send<RecordPayload>(a, RECORD_CONSENT, { input: { policyVersion: 1, withdraw: ["location"] } }, self);
    const position = Number(w.headers.get("ledger-position"));
    // An event, not a sleep: B's feed delivering A's commit (the view takes it in the same delivery).
    expect(await b.app.services.applied.reach(position)).toBe(true);
    expect(statsOf(b).position).toBeGreaterThanOrEqual(position);
    expect(await permitted(b, subjectId)).toBe(false);
    const hits = statsOf(b).hits;
    expect(await permitted(b, subjectId)).toBe(false);
    expect(statsOf(b).hits).toBe(hits + 1);
  });

  it("reads the database while B's feed is cut (its listening connection lost), and from memory again once it has caught up", async () => {
    const subjectId = freshId();
    const w = await onboard(a, subjectId, ["location"]);
    const position = w.events.at(-1)!.position;
    await eventually("B's view answers", () => statsOf(b).serving);
    expect(await permitted(b, subjectId, position)).toBe(true);
    const hits = statsOf(b).hits;
    expect(await permitted(b, subjectId)).toBe(true);
    expect(statsOf(b).hits).toBe(hits + 1);
    // A change behind the log, which no feed reports: only a read of the database sees it.
    await db.query("UPDATE consents SET granted = false WHERE subject_id = $1", [subjectId]);
    expect(await permitted(b, subjectId)).toBe(true);
    // The feed cannot read the log while this lock is held, so it cannot catch up after the cut.
    const lock = new pg.Client({ connectionString: urlOf(a) });
    await lock.connect();
    try {
      await lock.query("BEGIN");
      await lock.query("LOCK TABLE events IN ACCESS EXCLUSIVE MODE");
      await db.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'consent-ledger-listener'");
      await eventually("B notices its feed is cut", () => !statsOf(b).serving);
      const bypasses = statsOf(b).bypasses;
      expect(await permitted(b, subjectId)).toBe(false);
      expect(statsOf(b).bypasses).toBe(bypasses + 1);
      expect(statsOf(b).serving).toBe(false);
      const metrics = await (await fetch(new URL("/metrics", b.url))).text();
      expect(Number(/^view_cache_reads_total\{result="bypass"\} (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThan(0);
    } finally {
      await lock.query("ROLLBACK");
      await lock.end();
    }
    await eventually("B's feed catches up", () => statsOf(b).serving);
    expect(await permitted(b, subjectId)).toBe(false);
  });
});

describe("the view's bound on the feed's lag and on memory (PostgreSQL)", () => {
  let srv: TestServer;
  let db: pg.Client;
  const opened: PostgresStorage[] = [];
  /** The feed's clock in the storages opened here: moved by the tests only. */
  let feedNow = 0;

  beforeAll(async () => {
    srv = await startTestServer({ backend: "postgres", env: VIEW });
    db = new pg.Client({ connectionString: urlOf(srv) });
    await db.connect();
  }, 60_000);
  afterAll(async () => {
    for (const s of opened) await s.close();
    await db?.end();
    await srv?.close();
  });

  const open = async (viewCacheBytes: number, viewMaxLagMs: number) => {
    const s = await PostgresStorage.open({ url: urlOf(srv), viewCacheBytes, viewMaxLagMs, feedClock: () => feedNow });
    opened.push(s);
    return s;
  };

  it("reads the database once the feed has not found the log's end within the bound, and memory again once it has", async () => {
    const subjectId = freshId();
    await onboard(srv, subjectId, ["location"]);
    const s = await open(1_048_576, 1_000);
    await eventually("the view answers", () => s.viewCache()!.serving);
    const granted = async () => (await s.currentView(subjectId, Date.now())).consents.get(consentKey(BASE_POLICY, "location"))!.granted;
    expect(await granted()).toBe(true);
    const hits = s.viewCache()!.hits;
    await db.query("UPDATE consents SET granted = false WHERE subject_id = $1", [subjectId]);
    expect(await granted()).toBe(true);
    expect(s.viewCache()!.hits).toBe(hits + 1);
    const lock = new pg.Client({ connectionString: urlOf(srv) });
    await lock.connect();
    try {
      await lock.query("BEGIN");
      await lock.query("LOCK TABLE events IN ACCESS EXCLUSIVE MODE");
      // Every read of the log the feed begins from now on waits for the lock: the last that found the end began over 1,000 ms ago.
      feedNow += 1_001;
      expect(s.viewCache()!.serving).toBe(false);
      expect(await granted()).toBe(false);
      expect(s.viewCache()!.bypasses).toBeGreaterThan(0);
    } finally {
      await lock.query("ROLLBACK");
      await lock.end();
    }
    await eventually("the feed finds the log's end again", () => s.viewCache()!.serving);
    expect(await granted()).toBe(false);
  });

  it("holds no more than its bound, dropping the subjects read longest ago", async () => {
    const subjects = Array.from({ length: 4 }, () => freshId());
    for (const id of subjects) await onboard(srv, id, ["location"]);
    const bound = 12_000;
    const s = await open(bound, 60_000);
    await eventually("the view answers", () => s.viewCache()!.serving);
    for (let i = 0; i < 120; i++) {
      const id = i % 5 === 0 ? subjects[i % subjects.length]! : freshId();
      await s.currentView(id, Date.now());
      await s.subject(id);
      const st = s.viewCache()!;
      expect(st.bytes).toBeLessThanOrEqual(bound);
    }
    const st = s.viewCache()!;
    expect(st.evictions).toBeGreaterThan(0);
    expect(st.entries).toBeGreaterThan(0);
    expect(st.entries).toBeLessThan(120);
  });
});
