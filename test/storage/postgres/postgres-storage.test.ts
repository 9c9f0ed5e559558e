// Commands and read models on PostgreSQL: what a replica decides, stores and answers, checked
// against the domain's own fold of the log.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { commandProgram } from "../../../src/application/handle-command.js";
import type { PublishCommand, RecordConsentCommand } from "../../../src/domain/decide.js";
import type { Actor } from "../../../src/domain/events.js";
import { foldSubject } from "../../../src/domain/subject.js";
import { PostgresStorage } from "../../../src/storage/postgres/postgres-storage.js";
import { P, day } from "../../domain/fixtures.js";
import { freshDatabase } from "../../support/postgres.js";

const OFFICER: Actor = { kind: "OFFICER", id: "officer" };
const subject = (id: string): Actor => ({ kind: "SUBJECT", id });

const base = (n: number): PublishCommand => ({
  policyId: "base",
  title: `base v${n}`,
  overrides: null,
  effectiveAt: day(n === 1 ? 0 : 10),
  requiresConsent: n === 1,
  documentUrl: null,
  digest: String(n).repeat(64).slice(0, 64),
  changeSummary: null,
  purposes: n === 1 ? Object.values(P) : [P.service, P.notices, P.analytics, P.location],
});

const cmd = (over: Partial<RecordConsentCommand>): RecordConsentCommand => ({
  policyId: "base",
  policyVersion: 1,
  acceptPolicy: false,
  grant: [],
  withdraw: [],
  occurredAt: day(1),
  evidence: null,
  expectedVersion: null,
  ...over,
});

describe("PostgresStorage", () => {
  let a: PostgresStorage;
  let b: PostgresStorage;
  let now = day(1);
  const clock = () => now;

  beforeAll(async () => {
    const url = await freshDatabase();
    a = await PostgresStorage.open({ url, clock, commands: commandProgram });
    b = await PostgresStorage.open({ url, clock, commands: commandProgram });
    now = day(-1);
    await a.execute({ command: { kind: "publishPolicyVersion", input: base(1) }, actor: OFFICER, now });
    now = day(9);
    // Published through the other replica: the first one decides against it at once.
    await b.execute({ command: { kind: "publishPolicyVersion", input: base(2) }, actor: OFFICER, now });
    now = day(1);
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  const record = (s: PostgresStorage, id: string, c: RecordConsentCommand, idem: { key: string; requestHash: string } | null = null) =>
    s.execute({ command: { kind: "recordConsent", subjectId: id, input: c }, actor: subject(id), now, idempotency: idem });

  it("decides against publications made through another replica", async () => {
    // A choice under version 2 is dated after its publication (an earlier one is refused as back-dated).
    now = day(10);
    const r = await record(a, "alice", cmd({ policyVersion: 2, grant: ["location"], occurredAt: day(10) })).finally(() => (now = day(1)));
    expect(r.events.map((e) => e.type)).toEqual(["ConsentGranted"]);
    expect(r.subject?.consents.size).toBe(1);
  });

  it("keeps the read models equal to the fold of the subject's events, now and as of any instant", async () => {
    await record(a, "bob", cmd({ acceptPolicy: true, grant: ["ads", "location"], evidence: { channel: "web", ipAddress: "192.0.2.1" } }));
    now = day(3);
    await record(b, "bob", cmd({ withdraw: ["ads"], occurredAt: day(2) }));
    // Back-dated: valid before the withdrawal, known after it.
    await record(a, "bob", cmd({ grant: ["ads"], occurredAt: day(1) + 1 }));
    const events = await b.readStream("subject:bob");
    const fold = foldSubject("bob", events);
    const projected = await b.subject("bob");
    expect(projected).toEqual(fold);
    for (const [at, knownAt] of [
      [day(1), day(1)],
      [day(2), day(2)],
      [day(1) + 1, day(3)],
      [day(5), day(1)],
    ] as const) {
      const folded = foldSubject("bob", events, { at, knownAt });
      const view = await a.viewAt("bob", { at, knownAt });
      expect(view.status).toBe(folded.status);
      expect(view.consents).toEqual(folded.consents);
      expect(view.acceptances).toEqual(folded.acceptances);
    }
    const through = await a.viewThrough("bob", events[1]!.position);
    expect(through.consents).toEqual(foldSubject("bob", events.slice(0, 2)).consents);
  });

  it("refuses a stale expectedVersion from either replica", async () => {
    const s = await a.subject("bob");
    await expect(record(b, "bob", cmd({ grant: ["ads"], expectedVersion: s.version - 1 }))).rejects.toMatchObject({ code: "VERSION_CONFLICT" });
    const ok = await record(b, "bob", cmd({ withdraw: ["ads"], expectedVersion: s.version }));
    expect(ok.subject?.version).toBe(s.version + 1);
  });

  it("answers a replayed idempotency key on another replica with the first answer", async () => {
    const idem = { key: "carol-1", requestHash: "h" };
    const first = await record(a, "carol", cmd({ acceptPolicy: true, grant: ["ads"] }), idem);
    await record(a, "carol", cmd({ withdraw: ["ads"] }));
    const again = await record(b, "carol", cmd({ acceptPolicy: true, grant: ["ads"] }), idem);
    expect(again.replayed).toBe(true);
    expect(again.events).toEqual(first.events);
    expect(again.subject).toEqual(first.subject);
  });

  it("seals evidence under the subject's key and destroys the key with the erasure", async () => {
    const [accepted] = (await b.readStream("subject:bob")).filter((e) => e.type === "PolicyAccepted");
    expect(JSON.stringify(accepted!.data)).not.toContain("192.0.2.1");
    expect(await a.evidenceKey("bob")).toHaveLength(32);
    await b.execute({ command: { kind: "eraseSubject", subjectId: "bob", reason: "asked" }, actor: OFFICER, now });
    expect(await a.evidenceKey("bob")).toBeNull();
    expect((await a.subject("bob")).status).toBe("ERASED");
    const { rows } = await a.store.pool.query("SELECT count(*)::int AS n FROM idempotency WHERE stream_id = 'subject:bob'");
    expect(rows[0].n).toBe(0);
  });

  it("rebuilds read models equal to those kept inline, and the chain still verifies", async () => {
    const dump = async () => {
      const out: Record<string, unknown[]> = {};
      for (const t of ["subjects", "consents", "standings", "data_requests", "consent_history", "acceptance_history", "status_history"])
        out[t] = (await a.store.pool.query(`SELECT * FROM ${t} ORDER BY 1, 2, 3`)).rows;
      return out;
    };
    const before = await dump();
    const n = await b.rebuild();
    expect(n).toBe((await a.head())!.position);
    expect(await dump()).toEqual(before);
    expect((await a.verify()).ok).toBe(true);
  });
});
