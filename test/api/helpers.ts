// Shared pieces of the API tests: fresh ids, the recordConsent mutation, counting the log over HTTP.
import { randomUUID } from "node:crypto";
import { Writable } from "node:stream";
import { type Logger, pino } from "pino";
import { expect } from "vitest";
import { recordConsentMutation } from "../support/common.js";
import type { GqlResult, TestServer } from "../support/harness.js";

/** A subject id no other test uses. */
export const freshId = (prefix = "s"): string => `${prefix}-${randomUUID().slice(0, 12)}`;


export const BASE_POLICY = "clavis-privacy";

export const RECORD_CONSENT = recordConsentMutation("subject { id status version } events { id position type hash prevHash subjectId occurredAt recordedAt data } receipt");

export interface RecordedEvent {
  id: string;
  position: string;
  type: string;
  hash: string;
  prevHash: string;
  subjectId: string | null;
  occurredAt: string;
  recordedAt: string;
  data: Record<string, unknown>;
}

export interface RecordPayload {
  recordConsent: { subject: { id: string; status: string; version: number }; events: RecordedEvent[]; receipt: string };
}

export const recordConsent = (srv: TestServer, token: string, input: Record<string, unknown>): Promise<GqlResult<RecordPayload>> =>
  srv.gql<RecordPayload>(RECORD_CONSENT, { input }, token);

/** Asserts that the call succeeded and returns its data. */
export function ok<T>(r: GqlResult<T>): T {
  expect(r.errors, JSON.stringify(r.errors)).toBeUndefined();
  expect(r.status).toBe(200);
  return r.data as T;
}

/** How many events the whole log holds, read through the `events` feed page by page (ledger:read). */
export async function countEvents(srv: TestServer, ledgerToken: string): Promise<number> {
  let after: string | null = null;
  let n = 0;
  for (;;) {
    const r: GqlResult<{ events: { edges: { cursor: string }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } }> = await srv.gql(
      `query Count($after: String) { events(first: 100, after: $after) { edges { cursor } pageInfo { hasNextPage endCursor } } }`,
      { after },
      ledgerToken,
    );
    const page = ok(r).events;
    n += page.edges.length;
    if (!page.pageInfo.hasNextPage) return n;
    after = page.pageInfo.endCursor;
  }
}

/** A subject that has accepted version 1 of the base policy (and granted `grant`), recorded by itself. */
export async function onboard(srv: TestServer, subjectId: string, grant: string[] = []): Promise<RecordPayload["recordConsent"]> {
  const token = await srv.token(subjectId, "consent:self");
  return ok(await recordConsent(srv, token, { policyVersion: 1, acceptPolicy: true, grant })).recordConsent;
}

/** A pino logger writing into memory, to read what the service logged. */
export function memoryLogger(): { logger: Logger; lines: () => Record<string, unknown>[]; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk.toString("utf8"));
      done();
    },
  });
  const logger = pino({ level: "info" }, stream);
  const text = () => chunks.join("");
  const lines = () =>
    text()
      .split("\n")
      .filter((l) => l.trim() !== "")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { logger, lines, text };
}

/** An instant `ms` from now, as RFC 3339. */
export const iso = (msFromNow: number): string => new Date(Date.now() + msFromNow).toISOString();
