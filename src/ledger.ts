// The application service: load -> decide -> append -> project -> publish, all through the storage port.
import { randomUUID } from "node:crypto";
import { type AsOf, Catalog, type Policy, type PolicyVersion, type Standing, reconsentThreshold, standingOf, toPolicyVersion } from "./domain/catalog.js";
import { type CommandBounds, type LedgerCommand, type SubjectCommand, CLOCK_STREAM, announcementStream } from "./domain/command.js";
import { DEFAULT_MAX_OPEN_REQUESTS, type NoticeShownCommand, type OpenDataRequestCommand, type PublishCommand, type RecordConsentCommand, DOCUMENT_TEXT_LENGTH, checkId, checkText } from "./domain/decide.js";
import { LedgerError } from "./domain/errors.js";
import type { Actor, DataRequestKind, LedgerEvent, Personal } from "./domain/events.js";
import { type TransferCommand, checkTransfer } from "./domain/transfer.js";
import { subjectStream } from "./domain/events.js";
import { type Decision, type SubjectView, decideAll, decidePermission, viewOf } from "./domain/permission.js";
import { type DataRequestState, type DataRequestStatus, type SubjectState, foldSubject } from "./domain/subject.js";
import type { Instant } from "./domain/time.js";
import { openEventData, openWith } from "./evidence/seal.js";
import { requestHash, sha256Hex } from "./log/canonical.js";
import { WriteQuota } from "./domain/write-quota.js";
import type { ChainHead, CommandOutcome, DataRequestPage, IntegrityReport, ReadFilter, ReadModelReport, StoragePort, SubjectSnapshot } from "./storage/storage-port.js";

/** The officers' queue read without paging arguments: one page this long. */
const MAX_QUEUE_PAGE = 1_000;

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
}

export interface RecordConsentResult {
  subject: SubjectState;
  events: LedgerEvent[];
  /** True when an idempotency key replayed an earlier call. */
  replayed: boolean;
}

export interface SubjectCommandResult {
  subject: SubjectState;
  events: LedgerEvent[];
}

export interface PolicyStandingView extends Standing {
  policy: Policy;
  acceptedAt: Instant | null;
}

export class Ledger {
  private readonly clock: () => number;
  private readonly dueDays: number;
  /** The operator's bounds every command is decided with. */
  private readonly bounds: CommandBounds;
  private readonly dueDaysByKind: Partial<Record<DataRequestKind, number>>;
  private readonly catalogNow: Catalog;
  private lastPosition: number;
  private readonly writeQuota: WriteQuota;

  private constructor(
    /** The storage port this ledger runs on. */
    readonly storage: StoragePort,
    catalog: Catalog,
    head: ChainHead | null,
    opts: LedgerOptions,
  ) {
    this.clock = opts.clock ?? Date.now;
    this.dueDays = opts.dataRequestDueDays ?? 14;
    this.bounds = {
      maxOpenDataRequests: opts.maxOpenDataRequests ?? DEFAULT_MAX_OPEN_REQUESTS,
      allowIdentifyingSubjectIds: opts.allowIdentifyingSubjectIds ?? false,
      occurredAtFloor: opts.occurredAtFloor ?? null,
      defaultPolicyId: opts.defaultPolicyId ?? null,
      ...(opts.maxExtensionDays !== undefined ? { maxExtensionDays: opts.maxExtensionDays } : {}),
      ...(opts.adequateCountries ? { adequateCountries: opts.adequateCountries } : {}),
    };
    this.dueDaysByKind = opts.dataRequestDueDaysByKind ?? {};
    this.writeQuota = new WriteQuota(opts.maxWritesPerSubjectPerMinute ?? 0, this.clock);
    this.catalogNow = catalog;
    this.lastPosition = head?.position ?? 0;
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

  /** Texts by digest for versions whose publication did not carry one (the shipped catalogue's files). */
  private readonly knownTexts = new Map<string, string>();

  /** Adds texts the ledger may serve for versions published without theirs; each is kept only under its own digest. */
  addDocumentTexts(texts: ReadonlyMap<string, string>): void {
    for (const [digest, text] of texts) if (sha256Hex(Buffer.from(text, "utf8")) === digest) this.knownTexts.set(digest, text);
  }

  /** The text a version's digest stands for, if the ledger holds it. */
  documentText(policyId: string, version: number): { text: string; digest: string } | null {
    const v = this.catalogNow.version(policyId, version);
    const text = v ? (v.documentText ?? this.knownTexts.get(v.digest)) : undefined;
    return v && text !== undefined ? { text, digest: v.digest } : null;
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

  /** Runs a subject command through the storage, which decides it inside its write transaction. */
  private async run(command: SubjectCommand, actor: Actor, now = this.clock(), idempotency: { key: string; requestHash: string } | null = null): Promise<CommandOutcome & { subject: SubjectState }> {
    checkId("subjectId", command.subjectId);
    // Erasure is a right that must always be exercisable, however busy the record, and the record of
    // who read a subject's data must not fail the read it records: both count, neither is refused.
    this.writeQuota.take(command.subjectId, command.kind === "eraseSubject" || command.kind === "recordPersonalDataAccessed");
    const outcome = await this.storage.execute({ command, actor, now, idempotency, bounds: this.bounds });
    return outcome as CommandOutcome & { subject: SubjectState };
  }

  async recordConsent(subjectId: string, cmd: Omit<RecordConsentCommand, "occurredAt"> & { occurredAt: Instant | null }, actor: Actor, idempotencyKey?: string | null): Promise<RecordConsentResult> {
    checkId("subjectId", subjectId);
    if (idempotencyKey != null && (idempotencyKey.length === 0 || idempotencyKey.length > 200))
      throw new LedgerError("BAD_USER_INPUT", "idempotencyKey must be 1–200 characters");
    const idem = idempotencyKey != null ? { key: idempotencyKey, requestHash: requestHash({ cmd, actor }) } : null;
    const now = this.clock();
    const { subject, events, replayed } = await this.run({ kind: "recordConsent", subjectId, input: { ...cmd, occurredAt: cmd.occurredAt ?? now } }, actor, now, idem);
    return { subject, events, replayed };
  }

  async publishPolicyVersion(cmd: PublishCommand, actor: Actor): Promise<PolicyVersion> {
    checkDocumentText(cmd);
    const { events } = await this.storage.execute({ command: { kind: "publishPolicyVersion", input: cmd }, actor, now: this.clock() });
    return toPolicyVersion(events[0]!);
  }

  /**
   * Publishes a shipped catalogue version unless the policy already has one with its text (decided
   * in the publishing transaction: replicas starting together publish it once); null when it had.
   */
  async publishCatalogVersion(cmd: PublishCommand, actor: Actor): Promise<PolicyVersion | null> {
    const { events } = await this.storage.execute({ command: { kind: "publishPolicyVersion", input: cmd, unlessPublished: true }, actor, now: this.clock() });
    return events.length === 0 ? null : toPolicyVersion(events[0]!);
  }

  async suspendProcessing(subjectId: string, reason: string | null, actor: Actor): Promise<SubjectCommandResult> {
    return this.run({ kind: "suspendProcessing", subjectId, reason }, actor);
  }

  async resumeProcessing(subjectId: string, actor: Actor): Promise<SubjectCommandResult> {
    return this.run({ kind: "resumeProcessing", subjectId }, actor);
  }

  async leaveService(subjectId: string, actor: Actor): Promise<SubjectCommandResult> {
    return this.run({ kind: "leaveService", subjectId }, actor);
  }

  /** Erasure by crypto-shredding: the SubjectErased event and the key's destruction commit together. */
  async eraseSubject(subjectId: string, reason: string | null, actor: Actor): Promise<SubjectCommandResult> {
    return this.run({ kind: "eraseSubject", subjectId, reason }, actor);
  }

  async openDataRequest(subjectId: string, cmd: Omit<OpenDataRequestCommand, "requestId" | "dueDays">, actor: Actor): Promise<DataRequestState> {
    const requestId = randomUUID();
    const dueDays = this.dueDaysByKind[cmd.kind] ?? this.dueDays;
    const { subject } = await this.run({ kind: "openDataRequest", subjectId, input: { ...cmd, requestId, dueDays } }, actor);
    return subject.dataRequests.get(requestId)!;
  }

  /** Moves a request's due date later, with the reason recorded. */
  async extendDataRequest(requestId: string, days: number, reason: string, actor: Actor): Promise<DataRequestState> {
    const { subjectId } = await this.dataRequest(requestId);
    // The cap on the total is decided with the stream locked, against the days the request's state holds.
    const { subject } = await this.run({ kind: "extendDataRequest", subjectId, requestId, days, reason }, actor);
    return subject.dataRequests.get(requestId)!;
  }

  /** Runs a command that spans several streams (transfers, merges, due changes) in one write transaction. */
  private execute(command: LedgerCommand, actor: Actor, now = this.clock()): Promise<CommandOutcome> {
    return this.storage.execute({ command, actor, now, bounds: this.bounds });
  }

  /**
   * Records one transfer per subject, all or none: a provision on the basis of consent is checked
   * against each subject's permission for the purpose and counterparty at occurredAt.
   */
  async recordThirdPartyTransfer(cmd: Omit<TransferCommand, "occurredAt"> & { occurredAt: Instant | null }, actor: Actor): Promise<LedgerEvent[]> {
    const now = this.clock();
    const input: TransferCommand = { ...cmd, occurredAt: cmd.occurredAt ?? now };
    // Shape and counterparty refused before the transaction; the adapter checks again against the log.
    checkTransfer(input, this.catalogNow, now);
    const transferIds = input.subjectIds.map(() => randomUUID());
    const { events } = await this.execute({ kind: "recordThirdPartyTransfer", input, transferIds }, actor, now);
    return events;
  }

  /** Records that a policy version was shown to the subject (changes no consent). */
  async recordNoticeShown(subjectId: string, input: NoticeShownCommand, actor: Actor): Promise<LedgerEvent> {
    const { events } = await this.run({ kind: "recordNoticeShown", subjectId, input }, actor);
    return events[0]!;
  }

  /** Notes that `actor` read the subject's personal evidence (`read` says what); nothing for a subject the ledger does not hold. */
  async recordPersonalDataAccessed(subjectId: string, read: string, reason: string | null, actor: Actor): Promise<void> {
    await this.run({ kind: "recordPersonalDataAccessed", subjectId, read, reason }, actor);
  }

  /** Records that a version's change was announced (method, instant); answers the version. */
  async recordPolicyAnnouncement(policyId: string, version: number, method: string, at: Instant | null, actor: Actor): Promise<PolicyVersion> {
    await this.execute({ kind: "recordPolicyAnnouncement", policyId, version, method, at }, actor);
    return this.catalogNow.version(policyId, version)!;
  }

  /** A policy's announcements, oldest first. */
  async announcements(policyId: string): Promise<{ version: number; method: string; at: Instant }[]> {
    const events = await this.storage.readStream(announcementStream(policyId));
    return events.flatMap((e) => (e.type === "PolicyAnnounced" ? [{ version: e.data.version, method: e.data.method, at: e.data.at }] : []));
  }

  /** A subject's transfer records with occurredAt in [from, to], oldest first; kept through erasure. */
  async thirdPartyTransfers(subjectId: string, from: Instant | null, to: Instant | null): Promise<LedgerEvent[]> {
    checkId("subjectId", subjectId);
    return this.storage.transfers(subjectId, from ?? 0, to ?? Number.MAX_SAFE_INTEGER);
  }

  /**
   * Merges `from` (e.g. an anonymous device id) into `into`: `into` receives `from`'s choices and
   * acceptances with their own valid times, so per purpose the later choice wins; `from` becomes
   * MERGED and its reads answer for `into`. Both streams keep their history.
   */
  async mergeSubjects(from: string, into: string, actor: Actor): Promise<SubjectState> {
    checkId("from", from);
    checkId("into", into);
    const { subject } = await this.execute({ kind: "mergeSubjects", from, into }, actor);
    return subject!;
  }

  /** The next instant a time-driven change falls due, if any (the scheduler sleeps until then). */
  nextDue(): Promise<Instant | null> {
    return this.storage.nextDue();
  }

  /**
   * Appends the time-driven changes due by now: a ConsentExpired for each grant past its expiry and
   * a PolicyVersionEffective for each version come into effect. Decided inside the write
   * transaction against the read models, so two timers or a restart never append one twice.
   * Resolves to the number of events appended.
   */
  async recordDueChanges(limit = 200): Promise<number> {
    const { events } = await this.execute({ kind: "recordDueChanges", limit }, { kind: "SYSTEM", id: "clock" });
    return events.length;
  }

  /** A data request by id; NOT_FOUND for an unknown id. */
  async dataRequest(requestId: string): Promise<DataRequestState> {
    const r = await this.storage.dataRequest(requestId);
    if (!r) throw new LedgerError("NOT_FOUND", "no such data request");
    return r;
  }

  async verifyDataRequestIdentity(requestId: string, method: string, actor: Actor): Promise<DataRequestState> {
    const { subjectId } = await this.dataRequest(requestId);
    const { subject } = await this.run({ kind: "verifyDataRequestIdentity", subjectId, requestId, method }, actor);
    return subject.dataRequests.get(requestId)!;
  }

  /** Closing a request; fulfilling a DELETION request erases the subject (and shreds its evidence) in the same commit. */
  async closeDataRequest(requestId: string, fulfilled: boolean, note: string | null, actor: Actor): Promise<DataRequestState> {
    const { subjectId } = await this.dataRequest(requestId);
    const { subject } = await this.run({ kind: "closeDataRequest", subjectId, requestId, fulfilled, note }, actor);
    return subject.dataRequests.get(requestId)!;
  }

  // ---- reads ----

  /** The instants of a read; both default to now, and knownAt never lies past now. */
  asOf(at?: Instant | null, knownAt?: Instant | null): AsOf {
    const now = this.clock();
    const asOf = { at: at ?? now, knownAt: Math.min(knownAt ?? now, now) };
    return asOf.at >= now && asOf.knownAt >= now ? { ...asOf, present: true } : asOf;
  }

  /**
   * The subject's whole state now, from the read models; past instants are read through `view`.
   * A choice dated a few minutes ahead is in the read models already but not yet in force, so
   * then (rarely) the state is the fold of the stream as of now.
   */
  async subject(subjectId: string): Promise<SubjectState> {
    const now = this.clock();
    const s = await this.storage.subject(subjectId);
    if (!hasFutureFacts(s, now)) return s;
    return foldSubject(subjectId, await this.storage.readStream(subjectStream(subjectId)), { at: now, knownAt: now });
  }

  /** The catalog as it was known at `knownAt`. */
  catalogAt(knownAt: Instant): Catalog {
    const c = this.catalogNow;
    const versions = c.policies().flatMap((p) => p.versions.filter((v) => v.publishedAt <= knownAt));
    return versions.length === c.policies().reduce((n, p) => n + p.versions.length, 0) ? c : Catalog.of(versions.sort((a, b) => a.publishedAt - b.publishedAt || a.number - b.number));
  }

  /**
   * What the permission rule needs of a subject as of an instant: "now" reads the current read
   * models, a past instant the bitemporal ones; neither replays the history.
   */
  async view(subjectId: string, asOf: AsOf): Promise<SubjectSnapshot> {
    const now = this.clock();
    // "Now" is decided when the instants are taken: a clock tick before the read starts must not turn a present read into a past one.
    const present = asOf.present === true || (asOf.at >= now && asOf.knownAt >= now);
    const read = (id: string) => (present ? this.storage.currentView(id, asOf.at) : this.storage.viewAt(id, asOf));
    // A subject merged into another answers for that one (a chain of merges is followed a few hops).
    let view = await read(subjectId);
    for (let hops = 0; view.status === "MERGED" && view.mergedInto !== null && hops < 16; hops++) view = await read(view.mergedInto);
    return view;
  }

  /** The subject as its events up to and including log position `position` leave it. */
  viewThrough(subjectId: string, position: number): Promise<SubjectSnapshot> {
    return this.storage.viewThrough(subjectId, position);
  }

  async consents(subjectId: string, policyId: string | null, asOf: AsOf): Promise<Decision[]> {
    if (policyId !== null) this.catalogNow.resolvePolicyId(policyId); // UNKNOWN_POLICY only for a policy never published
    const catalog = this.catalogAt(asOf.knownAt);
    // As known before the policy was published, there was nothing to consent to: no states, not an error.
    if (catalog.policies().length === 0 || (policyId !== null && !catalog.get(policyId))) return [];
    const pid = this.resolvePolicyId(policyId, catalog);
    return decideAll(catalog, viewOf(await this.view(subjectId, asOf)), pid, asOf);
  }

  async standings(subjectId: string, asOf: AsOf): Promise<PolicyStandingView[]> {
    const view = await this.view(subjectId, asOf);
    return this.catalogAt(asOf.knownAt)
      .policies()
      .map((policy) => {
        const a = view.acceptances.get(policy.id);
        return { policy, acceptedAt: a?.acceptedAt ?? null, ...standingOf(policy, a?.version ?? 0, asOf) };
      });
  }

  async permission(subjectId: string, purposeId: string, policyId: string | null, at?: Instant | null, recipientId?: string | null): Promise<Decision> {
    return (await this.permissions([{ subjectId, purposeId, policyId, recipientId: recipientId ?? null }], at))[0]!;
  }

  /** A batch of checks; each subject is read once. A merged subject answers for the one it was merged into. */
  async permissions(checks: readonly { subjectId: string; purposeId: string; policyId: string | null; recipientId?: string | null }[], at?: Instant | null): Promise<Decision[]> {
    const asOf = this.asOf(at);
    const catalog = this.catalogAt(asOf.knownAt);
    // Unknown policies are refused before any read.
    const policyIds = checks.map((c) => this.resolvePolicyId(c.policyId, catalog));
    const views = new Map<string, Promise<SubjectView>>();
    for (const c of checks) if (!views.has(c.subjectId)) views.set(c.subjectId, this.view(c.subjectId, asOf).then(viewOf));
    const out: Decision[] = [];
    for (const [i, c] of checks.entries()) out.push(decidePermission(catalog, await views.get(c.subjectId)!, policyIds[i]!, c.purposeId, asOf, c.recipientId));
    return out;
  }

  history(subjectId: string, after: number, first: number, types?: readonly string[]): Promise<LedgerEvent[]> {
    return this.storage.readAll(after, first, { subjectId, ...(types ? { types } : {}) });
  }

  events(after: number, first: number, filter?: ReadFilter): Promise<LedgerEvent[]> {
    return this.storage.readAll(after, first, filter);
  }

  /** Event data with sealed members opened while the subject's key exists, `{ erased: true }` after. */
  async reveal(e: LedgerEvent): Promise<Record<string, unknown>> {
    return (await this.revealAll([e]))[0]!;
  }

  /** reveal for many events, each subject's key read once. */
  async revealAll(events: readonly LedgerEvent[]): Promise<Record<string, unknown>[]> {
    const keys = new Map<string, Promise<Uint8Array | null>>();
    const keyOf = (subjectId: string) => {
      let k = keys.get(subjectId);
      if (!k) keys.set(subjectId, (k = this.storage.evidenceKey(subjectId)));
      return k;
    };
    return Promise.all(
      events.map(async (e) => {
        const data = e.data as Record<string, unknown>;
        if (e.subjectId === null || !hasPersonal(data)) return { ...data };
        return openEventData(data, await keyOf(e.subjectId), e.subjectId);
      }),
    );
  }

  /** How a request's requester was identified: the sealed method while the key exists, else its non-personal label. */
  async identityCheck(r: DataRequestState): Promise<string | null> {
    if (r.identityLabel === null && r.status !== "IDENTITY_VERIFIED" && r.status !== "FULFILLED") return null;
    const verified = await this.storage.readAll(0, Number.MAX_SAFE_INTEGER, { subjectId: r.subjectId, types: ["DataRequestIdentityVerified"] });
    const e = verified.find((x) => x.type === "DataRequestIdentityVerified" && x.data.requestId === r.id);
    if (!e || e.type !== "DataRequestIdentityVerified") return r.identityLabel;
    const method = await this.openPersonal(r.subjectId, e.data.method);
    return typeof method === "string" ? method : (e.data.label ?? r.identityLabel);
  }

  async openPersonal<T>(subjectId: string, p: Personal<T> | null): Promise<T | { erased: true } | null> {
    return openWith(p && "sealed" in p ? await this.storage.evidenceKey(subjectId) : null, subjectId, p);
  }

  reconsentPending(policyId: string, after: string, first: number): Promise<string[]> {
    const policy = this.catalogNow.get(policyId);
    if (!policy) throw new LedgerError("UNKNOWN_POLICY", `policy ${policyId} is not published`);
    return this.storage.pendingReconsent(policyId, reconsentThreshold(policy, this.asOf()), after, first);
  }

  /** Subjects with a standing in the policy, in id order after `after`; with `through`, those who had accepted it by that position. */
  subjectsOfPolicy(policyId: string, after: string, limit: number, through?: number): Promise<string[]> {
    return this.storage.subjectsOfPolicy(policyId, after, limit, through);
  }

  /** Log positions in (after, upTo] at which a policy version came into effect. */
  effectPositions(after: number, upTo: number): Promise<number[]> {
    return this.storage.effectPositions(after, upTo);
  }

  /**
   * The officers' queue by due date (then id): a page of `first` requests after the request `after`
   * (its id; BAD_USER_INPUT for an unknown one).
   */
  async dataRequests(status: DataRequestStatus | null, overdue: boolean | null, page: { first: number; after: string | null } = { first: MAX_QUEUE_PAGE, after: null }): Promise<DataRequestState[]> {
    let from: DataRequestPage["from"] = null;
    if (page.after !== null) {
      const r = await this.storage.dataRequest(page.after);
      if (!r) throw new LedgerError("BAD_USER_INPUT", "after names no data request", { field: "after" });
      from = { dueAt: r.dueAt, id: r.id };
    }
    return this.storage.dataRequests(status, overdue, this.clock(), { first: page.first, from });
  }

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

/** A publication's text is the one its digest stands for (BAD_USER_INPUT otherwise). */
function checkDocumentText(cmd: PublishCommand): void {
  if (cmd.documentText == null) return;
  checkText("documentText", cmd.documentText, DOCUMENT_TEXT_LENGTH);
  if (sha256Hex(Buffer.from(cmd.documentText, "utf8")) !== cmd.digest)
    throw new LedgerError("BAD_USER_INPUT", "documentText's SHA-256 is not documentDigest", { field: "documentText" });
}

/** A fact that occurs after `at` but is already in the read models (a grant dated minutes ahead). */
function hasFutureFacts(s: SubjectState, at: Instant): boolean {
  for (const c of s.consents.values()) if (c.occurredAt > at) return true;
  for (const a of s.acceptances.values()) if (a.acceptedAt > at) return true;
  return s.returnedAt !== null && s.returnedAt > at;
}

const hasPersonal = (data: Record<string, unknown>): boolean =>
  Object.values(data).some((v) => v !== null && typeof v === "object" && ("sealed" in v || "erased" in v));

export { CLOCK_STREAM };
