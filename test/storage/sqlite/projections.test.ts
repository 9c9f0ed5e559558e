// The read models stay equal to the fold of the log, and a rebuild reproduces them exactly.
import Database from "better-sqlite3";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decideAll } from "../../../src/domain/permission.js";
import type { AsOf } from "../../../src/domain/catalog.js";
import type { LedgerEvent } from "../../../src/domain/events.js";
import { foldSubject, type SubjectState } from "../../../src/domain/subject.js";
import { viewOf } from "../../../src/domain/permission.js";
import { DAY_MS } from "../../../src/domain/time.js";
import { migrate } from "../../../src/storage/sqlite/schema.js";
import { SqliteProjections, type SubjectRows } from "../../../src/storage/sqlite/projections.js";
import { START, SUBJECTS, TestClock, commandBatches, ledgerWithCatalog, run, subjectActor, OFFICER, sqlite } from "../../support/ledger-commands.js";
import { projectionRows, tableRows } from "../../support/sqlite-tables.js";

const sorted = <V>(m: ReadonlyMap<string, V>) => [...m.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
/** The fold a read about `id` answers with: its own, or that of the subject it was merged into (as of the same instants). */
function answeringFold(history: (id: string) => LedgerEvent[], id: string, asOf?: AsOf): SubjectState {
  let folded = foldSubject(id, history(id), asOf);
  for (let hops = 0; folded.status === "MERGED" && folded.mergedInto !== null && hops < 16; hops++) folded = foldSubject(folded.mergedInto, history(folded.mergedInto), asOf);
  return folded;
}

const plain = (s: SubjectState) => ({
  id: s.id,
  status: s.status,
  version: s.version,
  acceptances: sorted(s.acceptances),
  consents: sorted(s.consents),
  dataRequests: sorted(s.dataRequests),
});

describe("projections", () => {
  it("equal the fold of each subject's history after any sequence of commands", async () => {
    let refusedSomewhere = 0;
    let acceptedSomewhere = 0;
    await fc.assert(
      fc.asyncProperty(commandBatches, async (batches) => {
        const { ledger, clock } = await ledgerWithCatalog(new TestClock());
        const { accepted, refused } = await run(ledger, clock, batches);
        acceptedSomewhere += accepted;
        refusedSomewhere += refused;
        const asOf = ledger.asOf();
        for (const id of SUBJECTS) {
          const history = sqlite(ledger).store.readStream(`subject:${id}`);
          expect(plain(sqlite(ledger).projections.subject(id))).toEqual(plain(foldSubject(id, history)));
          // Reads "now" come from the read models; they must decide as the fold of the history as of now does.
          const streamOf = (s: string) => sqlite(ledger).store.readStream(`subject:${s}`);
          expect((await ledger.consents(id, null, asOf))).toEqual(decideAll(ledger.catalog, viewOf(answeringFold(streamOf, id, asOf)), "clavis-privacy", asOf));
        }
        await ledger.close();
      }),
      { numRuns: 50 },
    );
    // The generator exercises both paths; a generator that only produced refusals would prove nothing.
    expect(acceptedSomewhere).toBeGreaterThan(50);
    expect(refusedSomewhere).toBeGreaterThan(0);
  });

  it("decide, as of any valid and transaction time, as the fold of the history as of then does", async () => {
    // Valid times reach back past the catalogue (back-dated choices), transaction times start with it,
    // so every generated pair is compared: none falls before there was anything to decide.
    const validTime = fc.integer({ min: START - 400 * DAY_MS, max: START + 40 * DAY_MS });
    const knownTime = fc.integer({ min: START, max: START + 40 * DAY_MS });
    let compared = 0;
    let generated = 0;
    await fc.assert(
      fc.asyncProperty(commandBatches, fc.array(fc.tuple(validTime, knownTime), { minLength: 1, maxLength: 6 }), async (batches, instants) => {
        const { ledger, clock } = await ledgerWithCatalog(new TestClock());
        await run(ledger, clock, batches);
        for (const [at, known] of instants) {
          generated++;
          const asOf = { at, knownAt: Math.min(known, clock.t) };
          const catalog = ledger.catalogAt(asOf.knownAt);
          expect(catalog.policies().length).toBeGreaterThan(0);
          compared++;
          for (const id of SUBJECTS) {
            const folded = answeringFold((s) => sqlite(ledger).store.readStream(`subject:${s}`), id, asOf);
            expect((await ledger.consents(id, null, asOf))).toEqual(decideAll(catalog, viewOf(folded), "clavis-privacy", asOf));
            const view = await ledger.view(id, asOf);
            expect(view.status).toBe(folded.status);
            expect(view.acceptances.get("clavis-privacy")).toEqual(folded.acceptances.get("clavis-privacy"));
          }
        }
        await ledger.close();
      }),
      { numRuns: 50 },
    );
    expect(compared).toBe(generated);
  });

  it("as of a past instant, of two choices with the same valid time the later in the log wins", async () => {
    const { ledger, clock } = await ledgerWithCatalog();
    const base = { policyId: null, policyVersion: 1, withdraw: [] as string[], grant: [] as string[], evidence: null, expectedVersion: null };
    await ledger.recordConsent("alice", { ...base, acceptPolicy: true, occurredAt: null }, subjectActor("alice"));
    clock.advance(DAY_MS);
    const t = clock.t - 60_000;
    await ledger.recordConsent("alice", { ...base, acceptPolicy: false, grant: ["location"], occurredAt: t }, { kind: "SERVICE", id: "import" });
    await ledger.recordConsent("alice", { ...base, acceptPolicy: false, withdraw: ["location"], occurredAt: t }, { kind: "SERVICE", id: "import" });
    clock.advance(DAY_MS);
    const asOf = { at: t + 1, knownAt: clock.t - 1 }; // a past instant: read from the bitemporal history
    const location = (await ledger.consents("alice", null, asOf)).find((d) => d.purposeId === "location");
    expect(location).toMatchObject({ status: "WITHDRAWN", permitted: false });
    const folded = foldSubject("alice", sqlite(ledger).store.readStream("subject:alice"), asOf);
    expect(folded.consents.get("clavis-privacy\u0000location")).toMatchObject({ granted: false });
    // Now, and just after the second event in the log, the same.
    expect(await ledger.permission("alice", "location", null)).toMatchObject({ permitted: false, reason: "WITHDRAWN" });
    const through = await ledger.viewThrough("alice", (await ledger.head())!.position);
    expect(through.consents.get("clavis-privacy\u0000location")).toMatchObject({ granted: false });
    await ledger.close();
  });

  it("are the same after a rebuild from the log", async () => {
    await fc.assert(
      fc.asyncProperty(commandBatches, async (batches) => {
        const { ledger, clock } = await ledgerWithCatalog(new TestClock());
        await run(ledger, clock, batches);
        const before = projectionRows(ledger);
        expect((await ledger.rebuild())).toBe(sqlite(ledger).store.eventCount());
        expect(projectionRows(ledger)).toEqual(before);
        await ledger.close();
      }),
      { numRuns: 50 },
    );
  });

  it("are the same after a stepwise rebuild (the read-model check's), whatever the step size", async () => {
    await fc.assert(
      fc.asyncProperty(commandBatches, fc.integer({ min: 1, max: 4 }), async (batches, chunk) => {
        const { ledger, clock } = await ledgerWithCatalog(new TestClock());
        await run(ledger, clock, batches);
        const scratch = new Database(":memory:");
        migrate(scratch);
        const projections = new SqliteProjections(scratch);
        const subjects: SubjectRows = new Map();
        for (const e of sqlite(ledger).store.readAll(0, Number.MAX_SAFE_INTEGER)) projections.apply(e, subjects);
        const history = (t: string) => scratch.prepare(`SELECT COUNT(*) FROM ${t}`).pluck().get() as number;
        const rowsRead = subjects.size + history("consent_history") + history("acceptance_history");
        let steps = 0;
        for (const _ of projections.finishRebuildSteps(subjects, chunk)) steps++;
        expect(tableRows(scratch)).toEqual(projectionRows(ledger));
        // Bounded steps: no step reads or writes more than `chunk` rows.
        expect(steps).toBeGreaterThanOrEqual(Math.ceil(rowsRead / chunk));
        scratch.close();
        await ledger.close();
      }),
      { numRuns: 50 },
    );
  });

  it("keep a later withdrawal over a back-dated grant that arrives after it", async () => {
    const { ledger, clock } = await ledgerWithCatalog();
    const base = { policyId: null, policyVersion: 1, withdraw: [] as string[], grant: [] as string[], evidence: null, expectedVersion: null };
    await ledger.recordConsent("alice", { ...base, acceptPolicy: true, occurredAt: null }, subjectActor("alice"));
    await ledger.recordConsent("alice", { ...base, acceptPolicy: false, withdraw: ["location"], occurredAt: null }, subjectActor("alice"));
    clock.advance(DAY_MS);
    await ledger.recordConsent("alice", { ...base, acceptPolicy: false, grant: ["location"], occurredAt: clock.t - 2 * DAY_MS }, { kind: "SERVICE", id: "import" });
    expect(sqlite(ledger).projections.subject("alice").consents.get("clavis-privacy\u0000location")).toMatchObject({ granted: false });
    expect((await ledger.permission("alice", "location", null))).toMatchObject({ permitted: false, reason: "WITHDRAWN" });
    await ledger.close();
  });

  it("list subjects whose acceptance is below the re-consent threshold, active or suspended only", async () => {
    const { ledger } = await ledgerWithCatalog();
    const accept = (id: string) =>
      ledger.recordConsent(id, { policyId: null, policyVersion: 1, acceptPolicy: true, grant: [], withdraw: [], occurredAt: null, evidence: null, expectedVersion: null }, subjectActor(id));
    await accept("alice");
    await ledger.openDataRequest("bob", { kind: "DISCLOSURE", note: null }, subjectActor("bob"));
    await ledger.suspendProcessing("carol", null, OFFICER);
    await ledger.leaveService("dave", subjectActor("dave"));
    expect((await ledger.reconsentPending("clavis-privacy", "", 10))).toEqual(["bob", "carol"]);
    expect((await ledger.reconsentPending("clavis-privacy", "bob", 10))).toEqual(["carol"]);
    expect((await ledger.reconsentPending("clavis-privacy", "", 1))).toEqual(["bob"]);
    await ledger.close();
  });

  it("tell overdue data requests from those still in time", async () => {
    const { ledger, clock } = await ledgerWithCatalog();
    const r = await ledger.openDataRequest("alice", { kind: "DISCLOSURE", note: null }, subjectActor("alice"));
    expect(r.dueAt).toBe(clock.t + 14 * DAY_MS);
    expect((await ledger.dataRequests(null, true))).toEqual([]);
    clock.advance(15 * DAY_MS);
    expect((await ledger.dataRequests(null, true)).map((x) => x.id)).toEqual([r.id]);
    expect((await ledger.dataRequests("OPEN", null)).map((x) => x.id)).toEqual([r.id]);
    await ledger.closeDataRequest(r.id, false, "no", OFFICER);
    expect((await ledger.dataRequests(null, true))).toEqual([]);
    expect((await ledger.dataRequests("REJECTED", null)).map((x) => x.id)).toEqual([r.id]);
    await ledger.close();
  });
});
