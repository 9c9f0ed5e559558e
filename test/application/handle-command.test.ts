// The one command flow, driven by an in-memory transaction: the steps it yields and the answers it
// gets are all it knows of storage, so replay, erasure and all-or-none transfers hold here as on
// SQLite and PostgreSQL (the conformance suite runs the same flow on both).
import { describe, expect, it } from "vitest";
import { handleCommand } from "../../src/application/handle-command.js";
import { Catalog, type Recipient } from "../../src/domain/catalog.js";
import type { LedgerCommand } from "../../src/domain/command.js";
import type { PublishCommand, RecordConsentCommand } from "../../src/domain/decide.js";
import { type Actor, type LedgerEvent, policyStream, subjectStream } from "../../src/domain/events.js";
import { foldSubject } from "../../src/domain/subject.js";
import { newEvidenceKey, openWith } from "../../src/evidence/seal.js";
import { type AsyncStepRunner, type Step, type SyncStepRunner, drive, driveSync } from "../../src/storage/command-steps.js";
import type { CommandOutcome, CommandRequest, IdempotencyKey } from "../../src/storage/storage-port.js";
import { P, day, purpose, version } from "../domain/fixtures.js";

const NOW = day(1);
const OFFICER: Actor = { kind: "OFFICER", id: "officer" };
const subject = (id: string): Actor => ({ kind: "SUBJECT", id });
const mailer: Recipient = { id: "mailer", name: "Mailer Inc.", kind: "THIRD_PARTY", country: "DE", privacyPolicyUrl: null };

/** base v1 (consent required, "location" opt-in) and a policy naming the recipient "mailer". */
const catalog = () =>
  Catalog.of([
    version("base", 1, { requiresConsent: true, effectiveAt: day(0), publishedAt: day(-1), purposes: Object.values(P) }),
    version("other", 1, { requiresConsent: false, effectiveAt: day(0), publishedAt: day(-1), purposes: [{ ...purpose("x", "OPT_IN"), recipients: [mailer] }] }),
  ]);

/**
 * A store in memory whose transaction is a copy: a flow that returns commits it, a throw leaves the
 * store as it was. Every step a flow yields is recorded.
 */
class MemoryStore {
  events: LedgerEvent[] = [];
  keys = new Map<string, Uint8Array>();
  idempotency = new Map<string, { requestHash: string; events: LedgerEvent[] }>();
  steps: Step[] = [];

  constructor(
    /** The catalogue as committed; `transaction` as the transaction sees the log (they differ only when set so). */
    public committed = catalog(),
    public transaction = committed,
  ) {}

  /** A transaction's view: copies that become the store's on commit. */
  private runner(tx: { events: LedgerEvent[]; keys: Map<string, Uint8Array>; idempotency: MemoryStore["idempotency"] }): SyncStepRunner {
    const stream = (id: string) => tx.events.filter((e) => e.streamId === id);
    const idemKey = (s: string, k: IdempotencyKey) => `${s}\u0000${k.key}`;
    return {
      lock: ({ streams }) => streams.map((s) => stream(s).length),
      replay: ({ stream: s, idempotency }) => {
        const r = tx.idempotency.get(idemKey(s, idempotency));
        if (r && r.requestHash !== idempotency.requestHash) throw new Error("IDEMPOTENCY_CONFLICT");
        return r?.events ?? null;
      },
      history: ({ stream: s, through }) => stream(s).filter((e) => e.position <= through),
      state: ({ subjectId }) => foldSubject(subjectId, stream(subjectStream(subjectId))),
      catalog: ({ view }) => (view === "committed" ? this.committed : this.transaction),
      viewAt: ({ subjectId, asOf }) => foldSubject(subjectId, stream(subjectStream(subjectId)), asOf),
      dueEffects: () => [],
      dueExpiries: () => [],
      stillDue: () => true,
      evidenceKey: ({ subjectId }) => {
        let k = tx.keys.get(subjectId);
        if (!k) tx.keys.set(subjectId, (k = newEvidenceKey()));
        return k;
      },
      append: ({ stream: s, expectedVersion, events }) => {
        const version = stream(s).length;
        if (expectedVersion !== null && expectedVersion !== version) throw new Error("VERSION_CONFLICT");
        const out = events.map((e, i) => {
          const position = tx.events.length + 1 + i;
          return { ...e, id: `e${position}`, position, streamId: s, streamVersion: version + 1 + i, schemaVersion: 1, recordedAt: NOW, prevHash: "", hash: String(position) } as LedgerEvent;
        });
        tx.events.push(...out);
        return out;
      },
      erase: ({ subjectId, stream: s }) => {
        tx.keys.delete(subjectId);
        for (const k of [...tx.idempotency.keys()]) if (k.startsWith(`${s}\u0000`)) tx.idempotency.delete(k);
      },
      remember: ({ stream: s, idempotency, events }) => {
        tx.idempotency.set(idemKey(s, idempotency), { requestHash: idempotency.requestHash, events: [...events] });
      },
    };
  }

  /** Runs a command synchronously, as the SQLite writer does, recording the steps. */
  run(request: CommandRequest): CommandOutcome {
    const tx = { events: [...this.events], keys: new Map(this.keys), idempotency: new Map(this.idempotency) };
    const runner = this.runner(tx);
    const recording = Object.fromEntries(
      Object.entries(runner).map(([kind, f]) => [kind, (s: Step) => (this.steps.push(s), (f as (s: Step) => unknown)(s))]),
    ) as SyncStepRunner;
    this.steps = [];
    const outcome = driveSync(handleCommand(request), recording);
    Object.assign(this, tx);
    return outcome;
  }

  /** Runs a command with await on every step, as the PostgreSQL adapter does. */
  async runAsync(request: CommandRequest): Promise<CommandOutcome> {
    const tx = { events: [...this.events], keys: new Map(this.keys), idempotency: new Map(this.idempotency) };
    const runner = this.runner(tx);
    const awaited = Object.fromEntries(Object.entries(runner).map(([kind, f]) => [kind, async (s: Step) => (f as (s: Step) => unknown)(s)])) as AsyncStepRunner;
    const outcome = await drive(handleCommand(request), awaited);
    Object.assign(this, tx);
    return outcome;
  }
}

const consent = (over: Partial<RecordConsentCommand> = {}): RecordConsentCommand => ({
  policyId: "base",
  policyVersion: 1,
  acceptPolicy: true,
  grant: ["location"],
  withdraw: [],
  occurredAt: NOW,
  evidence: { ipAddress: "192.0.2.1" },
  expectedVersion: null,
  ...over,
});

const request = (command: LedgerCommand, actor: Actor = OFFICER, idempotency: IdempotencyKey | null = null): CommandRequest => ({ command, actor, now: NOW, idempotency });
const record = (id: string, over: Partial<RecordConsentCommand> = {}, idempotency: IdempotencyKey | null = null) =>
  request({ kind: "recordConsent", subjectId: id, input: consent(over) }, subject(id), idempotency);
const kinds = (steps: readonly Step[]) => steps.map((s) => s.kind);

describe("the command flow over an in-memory transaction", () => {
  it("locks the subject's stream first, then reads, seals and appends in separate steps, and reads the subject back", () => {
    const store = new MemoryStore();
    const out = store.run(record("alice"));
    expect(kinds(store.steps)).toEqual(["lock", "state", "catalog", "evidenceKey", "append", "state"]);
    expect(store.steps[0]).toEqual({ kind: "lock", streams: [subjectStream("alice")] });
    expect(out.events.map((e) => e.type)).toEqual(["PolicyAccepted", "ConsentGranted"]);
    expect(out.subject?.consents.size).toBe(1);
    // The evidence is sealed once, under the subject's key, and opens with it.
    const sealed = out.events.map((e) => (e.data as { evidence?: unknown }).evidence).filter((v) => v != null);
    expect(JSON.stringify(out.events)).not.toContain("192.0.2.1");
    expect(new Set(sealed.map((v) => JSON.stringify(v))).size).toBe(1);
    expect(openWith(store.keys.get("alice")!, "alice", sealed[0] as never)).toEqual({ ipAddress: "192.0.2.1" });
  });

  it("answers the same events whether driven synchronously or with await", async () => {
    const a = new MemoryStore();
    const b = new MemoryStore();
    const strip = (o: CommandOutcome) => o.events.map(({ data: _data, ...rest }) => rest);
    expect(strip(await b.runAsync(record("alice")))).toEqual(strip(a.run(record("alice"))));
  });

  it("replays an idempotency key: the first call's events and subject, nothing appended, nothing decided", () => {
    const store = new MemoryStore();
    const key = { key: "k1", requestHash: "h1" };
    const first = store.run(record("alice", {}, key));
    expect(kinds(store.steps)).toContain("remember");
    store.run(record("alice", { acceptPolicy: false, grant: [], withdraw: ["location"] }));
    const again = store.run(record("alice", {}, key));
    expect(again.replayed).toBe(true);
    expect(again.events).toEqual(first.events);
    expect(again.subject).toEqual(first.subject);
    expect(kinds(store.steps)).toEqual(["lock", "replay", "history"]);
    expect(() => store.run(record("alice", {}, { key: "k1", requestHash: "other" }))).toThrow("IDEMPOTENCY_CONFLICT");
  });

  it("erasure destroys the subject's key and forgets its idempotency answers, in the erasing transaction, and remembers none", () => {
    const store = new MemoryStore();
    store.run(record("alice", {}, { key: "k1", requestHash: "h1" }));
    store.run(record("bob", {}, { key: "k1", requestHash: "h1" }));
    store.run(request({ kind: "eraseSubject", subjectId: "alice", reason: "asked" }));
    // The reason is personal: sealed under the key that the same transaction then destroys.
    expect(kinds(store.steps)).toEqual(["lock", "state", "catalog", "evidenceKey", "append", "erase", "state"]);
    expect(store.keys.has("alice")).toBe(false);
    expect([...store.idempotency.keys()].map((k) => k.split("\u0000")[0])).toEqual([subjectStream("bob")]);
    expect(store.keys.has("bob")).toBe(true);
  });

  it("records transfers all or none: every subject's stream locked first, in id order, and one refused subject appends nothing", () => {
    const store = new MemoryStore();
    store.run(record("bob"));
    store.run(request({ kind: "eraseSubject", subjectId: "bob", reason: null }));
    const before = store.events.length;
    const transfer = (subjectIds: string[]) =>
      request({
        kind: "recordThirdPartyTransfer",
        input: { subjectIds, direction: "PROVIDED", counterpartyId: "mailer", purposeId: null, dataCategories: ["profile"], basis: "LAW", occurredAt: NOW, note: null },
        transferIds: subjectIds.map((id) => `t-${id}`),
      });
    expect(() => store.run(transfer(["zed", "amy", "bob"]))).toThrow();
    expect(store.events).toHaveLength(before);
    expect(store.steps.slice(0, 2)).toEqual([{ kind: "catalog", view: "committed" }, { kind: "lock", streams: ["subject:amy", "subject:bob", "subject:zed"] }]);
    const ok = store.run(transfer(["zed", "amy"]));
    expect(ok.events.map((e) => [e.type, e.subjectId])).toEqual([
      ["ThirdPartyTransferRecorded", "zed"],
      ["ThirdPartyTransferRecorded", "amy"],
    ]);
  });

  it("decides a publication against the transaction's catalogue when the committed one is stale for that policy", () => {
    const stale = Catalog.of([]);
    const store = new MemoryStore(stale, catalog());
    // The policy's stream already holds its first publication, which the committed catalogue lacks.
    store.events.push({ type: "PolicyVersionPublished", id: "p1", position: 1, streamId: policyStream("base"), streamVersion: 1 } as LedgerEvent);
    const v2: PublishCommand = {
      policyId: "base",
      title: "base v2",
      overrides: null,
      effectiveAt: day(10),
      requiresConsent: false,
      documentUrl: null,
      digest: "2".repeat(64),
      changeSummary: null,
      purposes: [P.service, P.notices],
    };
    const out = store.run(request({ kind: "publishPolicyVersion", input: v2 }));
    expect(store.steps.filter((s) => s.kind === "catalog")).toEqual([
      { kind: "catalog", view: "committed" },
      { kind: "catalog", view: "transaction" },
    ]);
    expect(out.events[0]).toMatchObject({ type: "PolicyVersionPublished", streamVersion: 2 });
  });
});
