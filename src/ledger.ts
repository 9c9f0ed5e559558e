// The application service: load -> decide -> append -> project -> publish, one group commit per call.
import { randomUUID } from "node:crypto";
import { type AsOf, Catalog, type Policy, type PolicyVersion, type Standing, standingOf, reconsentThreshold } from "./domain/catalog.js";
import {
  type OpenDataRequestCommand,
  type PublishCommand,
  type RecordConsentCommand,
  decideCloseDataRequest,
  decideErase,
  decideLeave,
  decideOpenDataRequest,
  decidePublish,
  decideRecordConsent,
  decideResume,
  decideSuspend,
  decideVerifyIdentity,
  checkId,
} from "./domain/decide.js";
import { LedgerError } from "./domain/errors.js";
import { type Actor, type DomainEvent, type LedgerEvent, type Personal, policyStream, subjectStream } from "./domain/events.js";
import { type Decision, type SubjectView, decideAll, decidePermission } from "./domain/permission.js";
import { type DataRequestState, type DataRequestStatus, type SubjectState, consentKey, foldSubject } from "./domain/subject.js";
import type { Instant } from "./domain/time.js";
import { KeyVault } from "./storage/sqlite/key-vault.js";
import { type ProjectedView, SqliteProjections } from "./storage/sqlite/projections.js";
import { rebuildProjections } from "./storage/sqlite/rebuild.js";
import type { IntegrityReport, NewEvent, ReadFilter, WriteTx } from "./storage/event-store.js";
import { SqliteEventStore, requestHash } from "./storage/sqlite/sqlite-event-store.js";

export interface LedgerOptions {
  /** `:memory:` or a file path. */
  databasePath: string;
  clock?: () => number;
  dataRequestDueDays?: number;
  /** Open the database read-only (offline tools: export, verify); no migrations, no writes. */
  readonly?: boolean;
}

export interface RecordConsentResult {
  subject: SubjectState;
  events: LedgerEvent[];
  /** True when an idempotency key replayed an earlier call. */
  replayed: boolean;
}

export interface PolicyStandingView extends Standing {
  policy: Policy;
  acceptedAt: Instant | null;
}

/** Seals every `{ plain }` member of an event's data with the subject's key. */
function sealed(e: DomainEvent, seal: (value: unknown) => Personal<unknown>): DomainEvent {
  const data: Record<string, unknown> = { ...(e.data as Record<string, unknown>) };
  for (const [k, v] of Object.entries(data)) if (v && typeof v === "object" && "plain" in v) data[k] = seal((v as { plain: unknown }).plain);
  return { ...e, data } as DomainEvent;
}

export class Ledger {
  readonly store: SqliteEventStore;
  readonly projections: SqliteProjections;
  readonly vault: KeyVault;
  private readonly clock: () => number;
  private readonly dueDays: number;
  private catalogNow: Catalog;

  constructor(opts: LedgerOptions) {
    this.clock = opts.clock ?? Date.now;
    this.dueDays = opts.dataRequestDueDays ?? 14;
    this.store = new SqliteEventStore({ path: opts.databasePath, clock: this.clock, ...(opts.readonly ? { readonly: true } : {}) });
    this.projections = new SqliteProjections(this.store.db);
    this.vault = new KeyVault(this.store.db);
    this.store.addApplier((e) => this.projections.apply(e));
    this.catalogNow = this.loadCatalog();
    this.store.onCommit((events) => this.afterCommit(events));
  }

  /** The catalogue as the log holds it (inside a write transaction: including its uncommitted publications). */
  private loadCatalog(): Catalog {
    return Catalog.of(this.store.publications().map(toPolicyVersion));
  }

  get catalog(): Catalog {
    return this.catalogNow;
  }

  now(): Instant {
    return this.clock();
  }

  private afterCommit(events: readonly LedgerEvent[]): void {
    let erased = false;
    for (const e of events) {
      if (e.type === "PolicyVersionPublished") this.catalogNow.add(toPolicyVersion(e));
      if (e.type === "SubjectErased") erased = true;
    }
    // The destroyed key's old page images may still sit in the WAL: fold them into the file.
    if (erased) this.store.scrubWal();
  }

  private appendFor(tx: WriteTx, state: SubjectState, actor: Actor, events: DomainEvent[]): LedgerEvent[] {
    if (events.length === 0) return [];
    const subjectId = state.id;
    // An erased subject's key is gone for good: sealing would mint a new one, so personal values are dropped.
    // One call's events share its evidence: seal each value once, not once per event.
    const sealedOnce = new Map<unknown, Personal<unknown>>();
    const seal = (v: unknown): Personal<unknown> => {
      if (state.status === "ERASED") return { erased: true };
      let p = sealedOnce.get(v);
      if (!p) sealedOnce.set(v, (p = this.vault.seal(subjectId, v)));
      return p;
    };
    const expectedVersion = state.version;
    const out: NewEvent[] = events.map((e) => ({ ...sealed(e, seal), actor, subjectId }));
    return tx.append(subjectStream(subjectId), expectedVersion, out);
  }

  /** Runs a subject command: read the subject's state in the write transaction, decide, append. */
  private subjectCommand(subjectId: string, actor: Actor, decide: (s: SubjectState, now: Instant) => DomainEvent[], after?: (s: SubjectState, tx: WriteTx) => void) {
    checkId("subjectId", subjectId);
    return this.store.transact((tx) => {
      const state = this.projections.subject(subjectId);
      const events = this.appendFor(tx, state, actor, decide(state, this.clock()));
      after?.(state, tx);
      return { events, subject: this.projections.subject(subjectId) };
    });
  }

  async recordConsent(subjectId: string, cmd: Omit<RecordConsentCommand, "occurredAt"> & { occurredAt: Instant | null }, actor: Actor, idempotencyKey?: string | null): Promise<RecordConsentResult> {
    checkId("subjectId", subjectId);
    if (idempotencyKey != null && (idempotencyKey.length === 0 || idempotencyKey.length > 200))
      throw new LedgerError("BAD_USER_INPUT", "idempotencyKey must be 1–200 characters");
    const idem = idempotencyKey != null ? { key: idempotencyKey, requestHash: requestHash({ cmd, actor }) } : null;
    return this.store.transact((tx) => {
      const stream = subjectStream(subjectId);
      if (idem) {
        const replayed = tx.replay(stream, idem);
        if (replayed) {
          // The first call's payload: the subject as that call left it, not as later calls changed it.
          const upTo = replayed.at(-1)!.position;
          const history = this.store.readStream(stream).filter((e) => e.position <= upTo);
          return { subject: foldSubject(subjectId, history), events: replayed, replayed: true };
        }
      }
      const now = this.clock();
      const state = this.projections.subject(subjectId);
      const decided = decideRecordConsent({ ...cmd, occurredAt: cmd.occurredAt ?? now }, state, this.catalogNow, now);
      const events = this.appendFor(tx, state, actor, decided);
      if (idem) tx.remember(stream, idem, events);
      return { subject: this.projections.subject(subjectId), events, replayed: false };
    });
  }

  async publishPolicyVersion(cmd: PublishCommand, actor: Actor): Promise<PolicyVersion> {
    const [event] = await this.store.transact((tx) => {
      const stream = policyStream(cmd.policyId);
      // catalogNow learns of publications only after their commit; another publication of this
      // policy earlier in the same group commit makes it stale, so decide against the log as it stands.
      const stale = tx.streamVersion(stream) !== (this.catalogNow.get(cmd.policyId)?.versions.length ?? 0);
      const catalog = stale ? this.loadCatalog() : this.catalogNow;
      const e = decidePublish(cmd, catalog, this.clock());
      return tx.append(stream, tx.streamVersion(stream), [{ ...e, actor, subjectId: null }]);
    });
    return toPolicyVersion(event!);
  }

  suspendProcessing(subjectId: string, reason: string | null, actor: Actor) {
    return this.subjectCommand(subjectId, actor, (s, now) => decideSuspend(s, reason, now));
  }

  resumeProcessing(subjectId: string, actor: Actor) {
    return this.subjectCommand(subjectId, actor, (s, now) => decideResume(s, now));
  }

  leaveService(subjectId: string, actor: Actor) {
    return this.subjectCommand(subjectId, actor, (s, now) => decideLeave(s, now));
  }

  /** Erasure by crypto-shredding: the SubjectErased event and the key's destruction commit together. */
  eraseSubject(subjectId: string, reason: string | null, actor: Actor) {
    return this.subjectCommand(
      subjectId,
      actor,
      (s, now) => decideErase(s, reason, now),
      (_, tx) => this.destroyEvidence(tx, subjectId),
    );
  }

  /** Crypto-shredding, inside the erasing transaction: the evidence key and the idempotency digests go. */
  private destroyEvidence(tx: WriteTx, subjectId: string): void {
    this.vault.destroy(subjectId);
    tx.forget(subjectStream(subjectId));
  }

  async openDataRequest(subjectId: string, cmd: Omit<OpenDataRequestCommand, "requestId" | "dueDays">, actor: Actor): Promise<DataRequestState> {
    const requestId = randomUUID();
    await this.subjectCommand(subjectId, actor, (s, now) => decideOpenDataRequest({ ...cmd, requestId, dueDays: this.dueDays }, s, now));
    return this.projections.dataRequest(requestId)!;
  }

  /** The subject a data request belongs to; NOT_FOUND for an unknown id. */
  dataRequest(requestId: string): DataRequestState {
    const r = this.projections.dataRequest(requestId);
    if (!r) throw new LedgerError("NOT_FOUND", "no such data request");
    return r;
  }

  async verifyDataRequestIdentity(requestId: string, method: string, actor: Actor): Promise<DataRequestState> {
    const { subjectId } = this.dataRequest(requestId);
    await this.subjectCommand(subjectId, actor, (s, now) => decideVerifyIdentity(s, requestId, method, now));
    return this.dataRequest(requestId);
  }

  async closeDataRequest(requestId: string, fulfilled: boolean, note: string | null, actor: Actor): Promise<DataRequestState> {
    const { subjectId } = this.dataRequest(requestId);
    await this.subjectCommand(
      subjectId,
      actor,
      (s, now) => decideCloseDataRequest(s, requestId, fulfilled, note, now),
      (s, tx) => {
        if (fulfilled && s.dataRequests.get(requestId)?.kind === "DELETION") this.destroyEvidence(tx, subjectId);
      },
    );
    return this.dataRequest(requestId);
  }

  // ---- reads ----

  /** The instants of a read; both default to now, and knownAt never lies past now. */
  asOf(at?: Instant | null, knownAt?: Instant | null): AsOf {
    const now = this.clock();
    return { at: at ?? now, knownAt: Math.min(knownAt ?? now, now) };
  }

  /**
   * The subject's whole state now, from the projections; past instants are read through `view`.
   * A choice dated a few minutes ahead is in the projections already but not yet in force, so
   * then (rarely) the state is the fold of the stream as of now.
   */
  subject(subjectId: string): SubjectState {
    const now = this.clock();
    const s = this.projections.subject(subjectId);
    if (!hasFutureFacts(s, now)) return s;
    return foldSubject(subjectId, this.store.readStream(subjectStream(subjectId)), { at: now, knownAt: now });
  }

  /** The catalog as it was known at `knownAt`. */
  catalogAt(knownAt: Instant): Catalog {
    const c = this.catalogNow;
    const versions = c.policies().flatMap((p) => p.versions.filter((v) => v.publishedAt <= knownAt));
    return versions.length === c.policies().reduce((n, p) => n + p.versions.length, 0) ? c : Catalog.of(versions.sort((a, b) => a.publishedAt - b.publishedAt || a.number - b.number));
  }

  /**
   * What the permission rule needs of a subject as of an instant: "now" reads the current
   * projections, a past instant the bitemporal ones; neither replays the history.
   */
  view(subjectId: string, asOf: AsOf): ProjectedView {
    const now = this.clock();
    return asOf.at >= now && asOf.knownAt >= now ? this.projections.currentView(subjectId, asOf.at) : this.projections.viewAt(subjectId, asOf);
  }

  consents(subjectId: string, policyId: string | null, asOf: AsOf): Decision[] {
    if (policyId !== null) this.catalogNow.resolvePolicyId(policyId); // UNKNOWN_POLICY only for a policy never published
    const catalog = this.catalogAt(asOf.knownAt);
    // As known before the policy was published, there was nothing to consent to: no states, not an error.
    if (catalog.policies().length === 0 || (policyId !== null && !catalog.get(policyId))) return [];
    const pid = catalog.resolvePolicyId(policyId);
    return decideAll(catalog, this.view(subjectId, asOf), pid, asOf);
  }

  standings(subjectId: string, asOf: AsOf): PolicyStandingView[] {
    const view = this.view(subjectId, asOf);
    return this.catalogAt(asOf.knownAt)
      .policies()
      .map((policy) => {
        const a = view.acceptance(policy.id);
        return { policy, acceptedAt: a?.acceptedAt ?? null, ...standingOf(policy, a?.version ?? 0, asOf) };
      });
  }

  permission(subjectId: string, purposeId: string, policyId: string | null, at?: Instant | null): Decision {
    return this.permissions([{ subjectId, purposeId, policyId }], at)[0]!;
  }

  /** A batch of checks; each subject is read once. */
  permissions(checks: readonly { subjectId: string; purposeId: string; policyId: string | null }[], at?: Instant | null): Decision[] {
    const asOf = this.asOf(at);
    const catalog = this.catalogAt(asOf.knownAt);
    const views = new Map<string, SubjectView>();
    return checks.map((c) => {
      let view = views.get(c.subjectId);
      if (!view) views.set(c.subjectId, (view = this.view(c.subjectId, asOf)));
      return decidePermission(catalog, view, catalog.resolvePolicyId(c.policyId), c.purposeId, asOf);
    });
  }

  history(subjectId: string, after: number, first: number, types?: readonly string[]): LedgerEvent[] {
    return this.store.readAll(after, first, { subjectId, ...(types ? { types } : {}) });
  }

  events(after: number, first: number, filter?: ReadFilter): LedgerEvent[] {
    return this.store.readAll(after, first, filter);
  }

  /** Event data with sealed members opened while the subject's key exists, `{ erased: true }` after. */
  reveal(e: LedgerEvent): Record<string, unknown> {
    const data = { ...(e.data as Record<string, unknown>) };
    if (e.subjectId === null) return data;
    for (const [k, v] of Object.entries(data))
      if (v && typeof v === "object" && ("sealed" in v || "erased" in v)) data[k] = this.vault.open(e.subjectId, v as Personal<unknown>);
    return data;
  }

  openPersonal<T>(subjectId: string, p: Personal<T> | null): T | { erased: true } | null {
    return this.vault.open(subjectId, p);
  }

  reconsentPending(policyId: string, after: string, first: number): string[] {
    const policy = this.catalogNow.get(policyId);
    if (!policy) throw new LedgerError("UNKNOWN_POLICY", `policy ${policyId} is not published`);
    return this.projections.pendingReconsent(policyId, reconsentThreshold(policy, this.asOf()), after, first);
  }

  dataRequests(status: DataRequestStatus | null, overdue: boolean | null): DataRequestState[] {
    return this.projections.dataRequests(status, overdue, this.clock());
  }

  integrity(): IntegrityReport {
    return this.store.verify();
  }

  /** Recomputes the read models from the log. */
  rebuild(): number {
    return rebuildProjections(this.store, this.projections);
  }

  close(): Promise<void> {
    return this.store.close();
  }
}

/** A fact that occurs after `at` but is already in the read models (a grant dated minutes ahead). */
function hasFutureFacts(s: SubjectState, at: Instant): boolean {
  for (const c of s.consents.values()) if (c.occurredAt > at) return true;
  for (const a of s.acceptances.values()) if (a.acceptedAt > at) return true;
  return false;
}

export function toPolicyVersion(e: LedgerEvent): PolicyVersion {
  if (e.type !== "PolicyVersionPublished") throw new Error(`not a publication: ${e.type}`);
  return { ...e.data, publishedAt: e.recordedAt };
}
