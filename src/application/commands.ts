// The ledger's writes: each call checks what it can before the transaction (the subject id, the
// write quota, a publication's text), then hands the command to the storage, which runs the one
// command flow (handle-command.ts) inside its write transaction.
import { randomUUID } from "node:crypto";
import { type Catalog, type PolicyVersion, toPolicyVersion } from "../domain/catalog.js";
import type { CommandBounds, LedgerCommand, SubjectCommand } from "../domain/command.js";
import { DOCUMENT_TEXT_LENGTH, type NoticeShownCommand, type OpenDataRequestCommand, type PublishCommand, type RecordConsentCommand, checkId, checkText } from "../domain/decide.js";
import { LedgerError } from "../domain/errors.js";
import type { Actor, DataRequestKind, LedgerEvent } from "../domain/events.js";
import type { DataRequestState, SubjectState } from "../domain/subject.js";
import type { Instant } from "../domain/time.js";
import { type TransferCommand, checkTransfer } from "../domain/transfer.js";
import { type WriteQuotaPort, quotaOf } from "../domain/write-quota.js";
import { requestHash, sha256Hex } from "../log/canonical.js";
import type { CommandOutcome, CommandRequest, IdempotencyKey, StoragePort } from "../storage/storage-port.js";

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

export interface CommandSettings {
  storage: StoragePort;
  clock: () => number;
  /** The operator's bounds every command is decided with. */
  bounds: CommandBounds;
  dueDays: number;
  dueDaysByKind: Partial<Record<DataRequestKind, number>>;
  writeQuota: WriteQuotaPort;
  /** The catalogue as this ledger knows it (for checks made before the transaction). */
  catalog: () => Catalog;
  /** A data request by id (NOT_FOUND otherwise): the subject a request command is about. */
  dataRequest: (requestId: string) => Promise<DataRequestState>;
}

export class Commands {
  constructor(private readonly s: CommandSettings) {}

  /** These commands, with the events each appends (or replays) also handed to `note`. */
  recording(note: (events: readonly LedgerEvent[]) => void): Commands {
    const storage: StoragePort = Object.create(this.s.storage, {
      execute: {
        value: async (request: CommandRequest) => {
          const outcome = await this.s.storage.execute(request);
          note(outcome.events);
          return outcome;
        },
      },
    });
    return new Commands({ ...this.s, storage });
  }

  /** Runs a subject command: the subject id is checked here, once, before the quota and the transaction. */
  private run(command: SubjectCommand, actor: Actor): Promise<CommandOutcome & { subject: SubjectState }> {
    checkId("subjectId", command.subjectId);
    return this.runChecked(command, actor, this.s.clock(), null);
  }

  /** Runs a subject command whose subject id has been checked. */
  private async runChecked(command: SubjectCommand, actor: Actor, now: Instant, idempotency: IdempotencyKey | null): Promise<CommandOutcome & { subject: SubjectState }> {
    // Counted in this process, the command goes on in this same turn; counted by the primary (WORKERS > 1), once it answers
    // (on SQLite the primary counts it as the write arrives, and this take counts nothing).
    const quota = quotaOf(command)!;
    const counted = this.s.writeQuota.take(quota.subjectId, quota.always);
    if (counted) await counted;
    const outcome = await this.s.storage.execute({ command, actor, now, idempotency, bounds: this.s.bounds });
    return outcome as CommandOutcome & { subject: SubjectState };
  }

  /** Runs a command that spans several streams (transfers, merges, due changes) or a policy's stream in one write transaction. */
  private execute(command: LedgerCommand, actor: Actor, now = this.s.clock()): Promise<CommandOutcome> {
    return this.s.storage.execute({ command, actor, now, bounds: this.s.bounds });
  }

  async recordConsent(subjectId: string, cmd: Omit<RecordConsentCommand, "occurredAt"> & { occurredAt: Instant | null }, actor: Actor, idempotencyKey?: string | null): Promise<RecordConsentResult> {
    checkId("subjectId", subjectId);
    if (idempotencyKey != null && (idempotencyKey.length === 0 || idempotencyKey.length > 200))
      throw new LedgerError("BAD_USER_INPUT", "idempotencyKey must be 1–200 characters");
    const idem = idempotencyKey != null ? { key: idempotencyKey, requestHash: requestHash({ cmd, actor }) } : null;
    const now = this.s.clock();
    const { subject, events, replayed } = await this.runChecked({ kind: "recordConsent", subjectId, input: { ...cmd, occurredAt: cmd.occurredAt ?? now } }, actor, now, idem);
    return { subject, events, replayed };
  }

  async publishPolicyVersion(cmd: PublishCommand, actor: Actor): Promise<PolicyVersion> {
    checkDocumentText(cmd);
    const { events } = await this.s.storage.execute({ command: { kind: "publishPolicyVersion", input: cmd }, actor, now: this.s.clock() });
    return toPolicyVersion(events[0]!);
  }

  async publishCatalogVersion(cmd: PublishCommand, actor: Actor): Promise<PolicyVersion | null> {
    const { events } = await this.s.storage.execute({ command: { kind: "publishPolicyVersion", input: cmd, unlessPublished: true }, actor, now: this.s.clock() });
    return events.length === 0 ? null : toPolicyVersion(events[0]!);
  }

  suspendProcessing(subjectId: string, reason: string | null, actor: Actor): Promise<SubjectCommandResult> {
    return this.run({ kind: "suspendProcessing", subjectId, reason }, actor);
  }

  resumeProcessing(subjectId: string, actor: Actor): Promise<SubjectCommandResult> {
    return this.run({ kind: "resumeProcessing", subjectId }, actor);
  }

  leaveService(subjectId: string, actor: Actor): Promise<SubjectCommandResult> {
    return this.run({ kind: "leaveService", subjectId }, actor);
  }

  eraseSubject(subjectId: string, reason: string | null, actor: Actor): Promise<SubjectCommandResult> {
    return this.run({ kind: "eraseSubject", subjectId, reason }, actor);
  }

  async openDataRequest(subjectId: string, cmd: Omit<OpenDataRequestCommand, "requestId" | "dueDays">, actor: Actor): Promise<DataRequestState> {
    const requestId = randomUUID();
    const dueDays = this.s.dueDaysByKind[cmd.kind] ?? this.s.dueDays;
    const { subject } = await this.run({ kind: "openDataRequest", subjectId, input: { ...cmd, requestId, dueDays } }, actor);
    return subject.dataRequests.get(requestId)!;
  }

  async extendDataRequest(requestId: string, days: number, reason: string, actor: Actor): Promise<DataRequestState> {
    const { subjectId } = await this.s.dataRequest(requestId);
    // The cap on the total is decided with the stream locked, against the days the request's state holds.
    const { subject } = await this.run({ kind: "extendDataRequest", subjectId, requestId, days, reason }, actor);
    return subject.dataRequests.get(requestId)!;
  }

  async verifyDataRequestIdentity(requestId: string, method: string, actor: Actor): Promise<DataRequestState> {
    const { subjectId } = await this.s.dataRequest(requestId);
    const { subject } = await this.run({ kind: "verifyDataRequestIdentity", subjectId, requestId, method }, actor);
    return subject.dataRequests.get(requestId)!;
  }

  async closeDataRequest(requestId: string, fulfilled: boolean, note: string | null, actor: Actor): Promise<DataRequestState> {
    const { subjectId } = await this.s.dataRequest(requestId);
    const { subject } = await this.run({ kind: "closeDataRequest", subjectId, requestId, fulfilled, note }, actor);
    return subject.dataRequests.get(requestId)!;
  }

  async recordThirdPartyTransfer(cmd: Omit<TransferCommand, "occurredAt"> & { occurredAt: Instant | null }, actor: Actor): Promise<LedgerEvent[]> {
    const now = this.s.clock();
    const input: TransferCommand = { ...cmd, occurredAt: cmd.occurredAt ?? now };
    // Shape and counterparty refused before the transaction; the command flow checks again against the log.
    checkTransfer(input, this.s.catalog(), now);
    const transferIds = input.subjectIds.map(() => randomUUID());
    const { events } = await this.execute({ kind: "recordThirdPartyTransfer", input, transferIds }, actor, now);
    return events;
  }

  async recordNoticeShown(subjectId: string, input: NoticeShownCommand, actor: Actor): Promise<LedgerEvent> {
    const { events } = await this.run({ kind: "recordNoticeShown", subjectId, input }, actor);
    return events[0]!;
  }

  async recordPersonalDataAccessed(subjectId: string, read: string, reason: string | null, actor: Actor): Promise<void> {
    await this.run({ kind: "recordPersonalDataAccessed", subjectId, read, reason }, actor);
  }

  async recordPolicyAnnouncement(policyId: string, version: number, method: string, at: Instant | null, actor: Actor): Promise<PolicyVersion> {
    await this.execute({ kind: "recordPolicyAnnouncement", policyId, version, method, at }, actor);
    return this.s.catalog().version(policyId, version)!;
  }

  async mergeSubjects(from: string, into: string, actor: Actor): Promise<SubjectState> {
    checkId("from", from);
    checkId("into", into);
    const { subject } = await this.execute({ kind: "mergeSubjects", from, into }, actor);
    return subject!;
  }

  async recordDueChanges(limit = 200): Promise<number> {
    const { events } = await this.execute({ kind: "recordDueChanges", limit }, { kind: "SYSTEM", id: "clock" });
    return events.length;
  }
}

/** A publication's text is the one its digest stands for (BAD_USER_INPUT otherwise). */
function checkDocumentText(cmd: PublishCommand): void {
  if (cmd.documentText == null) return;
  checkText("documentText", cmd.documentText, DOCUMENT_TEXT_LENGTH);
  if (sha256Hex(Buffer.from(cmd.documentText, "utf8")) !== cmd.digest)
    throw new LedgerError("BAD_USER_INPUT", "documentText's SHA-256 is not documentDigest", { field: "documentText" });
}
