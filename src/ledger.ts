// The application service: load -> decide -> append -> project -> publish. A command is checked in
// application/commands.ts; the storage runs the one command flow (application/handle-command.ts) in
// its write transaction (lock, load, decide, seal, append, project); each commit is published to the
// listeners, which keep this ledger's catalogue and head current. Reads and time travel live in
// application/queries.ts, data requests and evidence beside it; this class is their one face.
import { type AsOf, Catalog, type Policy, type PolicyVersion, toPolicyVersion } from "./domain/catalog.js";
import { type CommandBounds, CLOCK_STREAM } from "./domain/command.js";
import { DEFAULT_MAX_OPEN_REQUESTS, type NoticeShownCommand, type OpenDataRequestCommand, type PublishCommand, type RecordConsentCommand } from "./domain/decide.js";
import type { Actor, DataRequestKind, LedgerEvent, Personal } from "./domain/events.js";
import type { TransferCommand } from "./domain/transfer.js";
import type { Decision } from "./domain/permission.js";
import type { DataRequestState, DataRequestStatus, SubjectState } from "./domain/subject.js";
import type { Instant } from "./domain/time.js";
import { WriteQuota, type WriteQuotaPort } from "./domain/write-quota.js";
import type { ChainHead, IntegrityReport, ReadFilter, ReadModelReport, StoragePort, SubjectSnapshot } from "./storage/storage-port.js";
import { Commands, type RecordConsentResult, type SubjectCommandResult } from "./application/commands.js";
import { DataRequests } from "./application/data-requests.js";
import { DocumentTexts } from "./application/document-texts.js";
import { EvidenceReads } from "./application/evidence-reads.js";
import { type PolicyStandingView, Queries } from "./application/queries.js";

export type { RecordConsentResult, SubjectCommandResult } from "./application/commands.js";
export type { PolicyStandingView } from "./application/queries.js";

export interface LedgerOptions {
  clock?: () => number;
  dataRequestDueDays?: number;
  /** Data requests one subject may have open at once; default 5. */
  maxOpenDataRequests?: number;
  /** Allow new subject ids shaped like an email address or phone number; default false. */
  allowIdentifyingSubjectIds?: boolean;
  /** No back-dated occurredAt before this instant; default none. */
  occurredAtFloor?: Instant | null;
  /** Due days per request kind (DATA_REQUEST_DUE_DAYS_<KIND>); a kind left out uses dataRequestDueDays. */
  dataRequestDueDaysByKind?: Partial<Record<DataRequestKind, number>>;
  /** DEFAULT_POLICY_ID: what a call without policyId is about, once published; default none (the one base policy). */
  defaultPolicyId?: string | null;
  /** DATA_REQUEST_MAX_EXTENSION_DAYS; default 60. */
  maxExtensionDays?: number;
  /** ADEQUATE_COUNTRIES; default the EEA states and GB. */
  adequateCountries?: readonly string[];
  /** Commands one subject's record may take per minute (erasure excepted); 0 or absent: no quota. */
  maxWritesPerSubjectPerMinute?: number;
  /** Where the write quota is counted (the service's, with WORKERS > 1); this ledger's own, of maxWritesPerSubjectPerMinute, when left out. */
  writeQuota?: WriteQuotaPort;
}

export class Ledger {
  private readonly clock: () => number;
  /** The operator's bounds every command is decided with. */
  private readonly bounds: CommandBounds;
  private readonly catalogNow: Catalog;
  private lastPosition: number;
  private readonly commands: Commands;
  private readonly queries: Queries;
  private readonly requests: DataRequests;
  private readonly evidence: EvidenceReads;

  private constructor(
    /** The storage port this ledger runs on. */
    readonly storage: StoragePort,
    catalog: Catalog,
    head: ChainHead | null,
    opts: LedgerOptions,
  ) {
    this.clock = opts.clock ?? Date.now;
    this.bounds = {
      maxOpenDataRequests: opts.maxOpenDataRequests ?? DEFAULT_MAX_OPEN_REQUESTS,
      allowIdentifyingSubjectIds: opts.allowIdentifyingSubjectIds ?? false,
      occurredAtFloor: opts.occurredAtFloor ?? null,
      defaultPolicyId: opts.defaultPolicyId ?? null,
      ...(opts.maxExtensionDays !== undefined ? { maxExtensionDays: opts.maxExtensionDays } : {}),
      ...(opts.adequateCountries ? { adequateCountries: opts.adequateCountries } : {}),
    };
    this.catalogNow = catalog;
    this.lastPosition = head?.position ?? 0;
    const clock = this.clock;
    const current = () => this.catalogNow;
    this.requests = new DataRequests(storage, clock);
    this.commands = new Commands({
      storage,
      clock,
      bounds: this.bounds,
      dueDays: opts.dataRequestDueDays ?? 14,
      dueDaysByKind: opts.dataRequestDueDaysByKind ?? {},
      writeQuota: opts.writeQuota ?? new WriteQuota(opts.maxWritesPerSubjectPerMinute ?? 0, clock),
      catalog: current,
      dataRequest: (id) => this.requests.get(id),
    });
    this.queries = new Queries({ storage, clock, catalog: current, resolvePolicyId: (id, c) => this.resolvePolicyId(id, c) });
    this.evidence = new EvidenceReads(storage);
    this.storage.onCommit((events) => this.afterCommit(events));
  }

  /** A ledger over `storage`: reads the catalogue's publications (not the log) and the chain's head. */
  static async open(storage: StoragePort, opts: LedgerOptions = {}): Promise<Ledger> {
    // Listening before reading: a publication that commits after the read's snapshot and is delivered
    // before the ledger listens (another replica's, at a start together) would otherwise be missed for good.
    const early: LedgerEvent[] = [];
    const off = storage.onCommit((events) => early.push(...events));
    let publications: LedgerEvent[];
    let head: ChainHead | null;
    try {
      [publications, head] = await Promise.all([storage.publications(), storage.head()]);
    } finally {
      off();
    }
    const read = new Set(publications.map((e) => e.position));
    const ledger = new Ledger(storage, Catalog.of(publications.map(toPolicyVersion)), head, opts);
    ledger.afterCommit(early.filter((e) => !read.has(e.position)));
    return ledger;
  }

  get catalog(): Catalog {
    return this.catalogNow;
  }

  /** The policy `policyId` names, or the default policy when it is left out (UNKNOWN_POLICY, BAD_USER_INPUT otherwise). */
  resolvePolicyId(policyId: string | null | undefined, catalog: Catalog = this.catalogNow): string {
    return catalog.resolvePolicyId(policyId, this.bounds.defaultPolicyId ?? null);
  }

  /** The policy a call without policyId is about, if there is one. */
  defaultPolicy(): Policy | undefined {
    return this.catalogNow.defaultPolicy(this.bounds.defaultPolicyId ?? null);
  }

  private readonly texts = new DocumentTexts();

  /** Adds texts the ledger may serve for versions published without theirs; each is kept only under its own digest. */
  addDocumentTexts(texts: ReadonlyMap<string, string>): void {
    this.texts.add(texts);
  }

  /** The text a version's digest stands for, if the ledger holds it. */
  documentText(policyId: string, version: number): { text: string; digest: string } | null {
    return this.texts.of(this.catalogNow, policyId, version);
  }

  now(): Instant {
    return this.clock();
  }

  /** The log position of the last commit this ledger has announced (its listeners have seen everything up to it). */
  get headPosition(): number {
    return this.lastPosition;
  }

  private afterCommit(events: readonly LedgerEvent[]): void {
    for (const e of events) if (e.type === "PolicyVersionPublished") this.catalogNow.add(toPolicyVersion(e));
    const last = events.at(-1);
    if (last && last.position > this.lastPosition) this.lastPosition = last.position;
  }

  /** Called after each durable commit with the events it made visible, in log order. */
  onCommit(listener: (events: readonly LedgerEvent[]) => void): () => void {
    return this.storage.onCommit(listener);
  }

  // ---- commands (application/commands.ts) ----

  /**
   * This ledger, with the events each command appends (or replays) also handed to `note`: a
   * request's own view, so its answer can name the position its last event took.
   */
  recording(note: (events: readonly LedgerEvent[]) => void): Ledger {
    return Object.create(this, { commands: { value: this.commands.recording(note) } }) as Ledger;
  }

  recordConsent(subjectId: string, cmd: Omit<RecordConsentCommand, "occurredAt"> & { occurredAt: Instant | null }, actor: Actor, idempotencyKey?: string | null): Promise<RecordConsentResult> {
    return this.commands.recordConsent(subjectId, cmd, actor, idempotencyKey);
  }

  publishPolicyVersion(cmd: PublishCommand, actor: Actor): Promise<PolicyVersion> {
    return this.commands.publishPolicyVersion(cmd, actor);
  }

  /**
   * Publishes a shipped catalogue version unless the policy already has one with its text (decided
   * in the publishing transaction: replicas starting together publish it once); null when it had.
   */
  publishCatalogVersion(cmd: PublishCommand, actor: Actor): Promise<PolicyVersion | null> {
    return this.commands.publishCatalogVersion(cmd, actor);
  }

  suspendProcessing(subjectId: string, reason: string | null, actor: Actor): Promise<SubjectCommandResult> {
    return this.commands.suspendProcessing(subjectId, reason, actor);
  }

  resumeProcessing(subjectId: string, actor: Actor): Promise<SubjectCommandResult> {
    return this.commands.resumeProcessing(subjectId, actor);
  }

  leaveService(subjectId: string, actor: Actor): Promise<SubjectCommandResult> {
    return this.commands.leaveService(subjectId, actor);
  }

  /** Erasure by crypto-shredding: the SubjectErased event and the key's destruction commit together. */
  eraseSubject(subjectId: string, reason: string | null, actor: Actor): Promise<SubjectCommandResult> {
    return this.commands.eraseSubject(subjectId, reason, actor);
  }

  openDataRequest(subjectId: string, cmd: Omit<OpenDataRequestCommand, "requestId" | "dueDays">, actor: Actor): Promise<DataRequestState> {
    return this.commands.openDataRequest(subjectId, cmd, actor);
  }

  /** Moves a request's due date later, with the reason recorded. */
  extendDataRequest(requestId: string, days: number, reason: string, actor: Actor): Promise<DataRequestState> {
    return this.commands.extendDataRequest(requestId, days, reason, actor);
  }

  /**
   * Records one transfer per subject, all or none: a provision on the basis of consent is checked
   * against each subject's permission for the purpose and counterparty at occurredAt.
   */
  recordThirdPartyTransfer(cmd: Omit<TransferCommand, "occurredAt"> & { occurredAt: Instant | null }, actor: Actor): Promise<LedgerEvent[]> {
    return this.commands.recordThirdPartyTransfer(cmd, actor);
  }

  /** Records that a policy version was shown to the subject (changes no consent). */
  recordNoticeShown(subjectId: string, input: NoticeShownCommand, actor: Actor): Promise<LedgerEvent> {
    return this.commands.recordNoticeShown(subjectId, input, actor);
  }

  /** Notes that `actor` read the subject's personal evidence (`read` says what); nothing for a subject the ledger does not hold. */
  recordPersonalDataAccessed(subjectId: string, read: string, reason: string | null, actor: Actor): Promise<void> {
    return this.commands.recordPersonalDataAccessed(subjectId, read, reason, actor);
  }

  /** Records that a version's change was announced (method, instant); answers the version. */
  recordPolicyAnnouncement(policyId: string, version: number, method: string, at: Instant | null, actor: Actor): Promise<PolicyVersion> {
    return this.commands.recordPolicyAnnouncement(policyId, version, method, at, actor);
  }

  /**
   * Merges `from` (e.g. an anonymous device id) into `into`: `into` receives `from`'s choices and
   * acceptances with their own valid times, so per purpose the later choice wins; `from` becomes
   * MERGED and its reads answer for `into`. Both streams keep their history.
   */
  mergeSubjects(from: string, into: string, actor: Actor): Promise<SubjectState> {
    return this.commands.mergeSubjects(from, into, actor);
  }

  /**
   * Appends the time-driven changes due by now: a ConsentExpired for each grant past its expiry and
   * a PolicyVersionEffective for each version come into effect. Decided inside the write
   * transaction against the read models, so two timers or a restart never append one twice.
   * Resolves to the number of events appended.
   */
  recordDueChanges(limit = 200): Promise<number> {
    return this.commands.recordDueChanges(limit);
  }

  verifyDataRequestIdentity(requestId: string, method: string, actor: Actor): Promise<DataRequestState> {
    return this.commands.verifyDataRequestIdentity(requestId, method, actor);
  }

  /** Closing a request; fulfilling a DELETION request erases the subject (and shreds its evidence) in the same commit. */
  closeDataRequest(requestId: string, fulfilled: boolean, note: string | null, actor: Actor): Promise<DataRequestState> {
    return this.commands.closeDataRequest(requestId, fulfilled, note, actor);
  }

  // ---- reads and time travel (application/queries.ts) ----

  /** The instants of a read; both default to now, and knownAt never lies past now. */
  asOf(at?: Instant | null, knownAt?: Instant | null): AsOf {
    return this.queries.asOf(at, knownAt);
  }

  /** The subject's whole state now (see Queries.subject). */
  subject(subjectId: string): Promise<SubjectState> {
    return this.queries.subject(subjectId);
  }

  /** The catalog as it was known at `knownAt`. */
  catalogAt(knownAt: Instant): Catalog {
    return this.queries.catalogAt(knownAt);
  }

  /** What the permission rule needs of a subject as of an instant, from the read models. */
  view(subjectId: string, asOf: AsOf): Promise<SubjectSnapshot> {
    return this.queries.view(subjectId, asOf);
  }

  /** The subject as its events up to and including log position `position` leave it. */
  viewThrough(subjectId: string, position: number): Promise<SubjectSnapshot> {
    return this.storage.viewThrough(subjectId, position);
  }

  consents(subjectId: string, policyId: string | null, asOf: AsOf): Promise<Decision[]> {
    return this.queries.consents(subjectId, policyId, asOf);
  }

  standings(subjectId: string, asOf: AsOf): Promise<PolicyStandingView[]> {
    return this.queries.standings(subjectId, asOf);
  }

  async permission(subjectId: string, purposeId: string, policyId: string | null, at?: Instant | null, recipientId?: string | null): Promise<Decision> {
    return (await this.permissions([{ subjectId, purposeId, policyId, recipientId: recipientId ?? null }], at))[0]!;
  }

  /** A batch of checks; each subject is read once. A merged subject answers for the one it was merged into. */
  permissions(checks: readonly { subjectId: string; purposeId: string; policyId: string | null; recipientId?: string | null }[], at?: Instant | null): Promise<Decision[]> {
    return this.queries.permissions(checks, at);
  }

  reconsentPending(policyId: string, after: string, first: number): Promise<string[]> {
    return this.queries.reconsentPending(policyId, after, first);
  }

  /** A policy's announcements, oldest first. */
  announcements(policyId: string): Promise<{ version: number; method: string; at: Instant }[]> {
    return this.queries.announcements(policyId);
  }

  /** A subject's transfer records with occurredAt in [from, to], oldest first; kept through erasure. */
  thirdPartyTransfers(subjectId: string, from: Instant | null, to: Instant | null): Promise<LedgerEvent[]> {
    return this.queries.thirdPartyTransfers(subjectId, from, to);
  }

  /** The next instant a time-driven change falls due, if any (the scheduler sleeps until then). */
  nextDue(): Promise<Instant | null> {
    return this.storage.nextDue();
  }

  history(subjectId: string, after: number, first: number, types?: readonly string[]): Promise<LedgerEvent[]> {
    return this.storage.readAll(after, first, { subjectId, ...(types ? { types } : {}) });
  }

  events(after: number, first: number, filter?: ReadFilter): Promise<LedgerEvent[]> {
    return this.storage.readAll(after, first, filter);
  }

  /** Subjects with a standing in the policy, in id order after `after`; with `through`, those who had accepted it by that position. */
  subjectsOfPolicy(policyId: string, after: string, limit: number, through?: number): Promise<string[]> {
    return this.storage.subjectsOfPolicy(policyId, after, limit, through);
  }

  /** Log positions in (after, upTo] at which a policy version came into effect. */
  effectPositions(after: number, upTo: number): Promise<number[]> {
    return this.storage.effectPositions(after, upTo);
  }

  // ---- data requests (application/data-requests.ts) ----

  /** A data request by id; NOT_FOUND for an unknown id. */
  dataRequest(requestId: string): Promise<DataRequestState> {
    return this.requests.get(requestId);
  }

  /** The officers' queue by due date (then id): a page of `first` requests after the request `after` (its id). */
  dataRequests(status: DataRequestStatus | null, overdue: boolean | null, page?: { first: number; after: string | null }): Promise<DataRequestState[]> {
    return this.requests.queue(status, overdue, page);
  }

  // ---- evidence (application/evidence-reads.ts) ----

  /** Event data with sealed members opened while the subject's key exists, `{ erased: true }` after. */
  async reveal(e: LedgerEvent): Promise<Record<string, unknown>> {
    return (await this.evidence.revealAll([e]))[0]!;
  }

  /** reveal for many events, each subject's key read once. */
  revealAll(events: readonly LedgerEvent[]): Promise<Record<string, unknown>[]> {
    return this.evidence.revealAll(events);
  }

  /** How a request's requester was identified: the sealed method while the key exists, else its non-personal label. */
  identityCheck(r: DataRequestState): Promise<string | null> {
    return this.evidence.identityCheck(r);
  }

  openPersonal<T>(subjectId: string, p: Personal<T> | null): Promise<T | { erased: true } | null> {
    return this.evidence.openPersonal(subjectId, p);
  }

  // ---- the log and maintenance ----

  head(): Promise<ChainHead | null> {
    return this.storage.head();
  }

  integrity(): Promise<IntegrityReport> {
    return this.storage.verify();
  }

  /** Every read table compared with a rebuild from the log (see StoragePort.checkReadModels). */
  readModelCheck(): Promise<ReadModelReport> {
    return this.storage.checkReadModels();
  }

  /** Recomputes the read models from the log. */
  rebuild(): Promise<number> {
    return this.storage.rebuild();
  }

  /** Whether a write could be stored now (readiness). */
  isWritable(): boolean {
    return this.storage.isWritable();
  }

  close(): Promise<void> {
    return this.storage.close();
  }
}

export { CLOCK_STREAM };
