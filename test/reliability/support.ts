// Shared pieces of the reliability suite: an HTTP GraphQL client with a deadline, and reading the log's state back.
import { SCOPES } from "../../src/auth/scopes.js";
import { type GqlResult, postGraphql, recordConsentMutation } from "../support/common.js";

export const ALL_SCOPES = SCOPES.join(" ");

/** A GraphQL answer over HTTP. */
export type Answer<T> = GqlResult<T>;

/** A request that takes longer than this is a hang as far as these tests are concerned. */
export const REQUEST_TIMEOUT_MS = 10_000;

/** POSTs one GraphQL request to `url`; rejects when no answer comes within the deadline. */
export const post = <T = Record<string, unknown>>(
  url: string,
  query: string,
  variables: Record<string, unknown> | undefined,
  token: string | null,
  timeoutMs = REQUEST_TIMEOUT_MS,
): Promise<Answer<T>> => postGraphql<T>(url, query, variables, token, timeoutMs);

export const RECORD = recordConsentMutation("subject { id version } events { id position hash type } receipt");

export interface RecordAnswer {
  recordConsent: { subject: { id: string; version: number }; events: { id: string; position: string; hash: string; type: string }[]; receipt: string };
}

export const INTEGRITY = `{ ledgerIntegrity { ok eventCount headPosition headHash firstInvalidPosition } }`;

export interface Integrity {
  ok: boolean;
  eventCount: number;
  headPosition: string | null;
  headHash: string | null;
  firstInvalidPosition: string | null;
}

export async function integrity(url: string, token: string): Promise<Integrity> {
  const r = await post<{ ledgerIntegrity: Integrity }>(url, INTEGRITY, undefined, token);
  if (!r.data) throw new Error(`ledgerIntegrity failed: ${JSON.stringify(r.errors)}`);
  return r.data.ledgerIntegrity;
}

export interface FeedEvent {
  id: string;
  position: string;
  hash: string;
  type: string;
  subjectId: string | null;
}

/** The whole log through the `events` feed, page by page (ledger:read). */
export async function allEvents(url: string, token: string): Promise<FeedEvent[]> {
  const out: FeedEvent[] = [];
  let after: string | null = null;
  for (;;) {
    const r: Answer<{ events: { edges: { node: FeedEvent }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } }> = await post(
      url,
      `query Feed($after: String) { events(first: 75, after: $after) { edges { node { id position hash type subjectId } } pageInfo { hasNextPage endCursor } } }`,
      { after },
      token,
    );
    if (!r.data) throw new Error(`events failed: ${JSON.stringify(r.errors)}`);
    out.push(...r.data.events.edges.map((e) => e.node));
    if (!r.data.events.pageInfo.hasNextPage) return out;
    after = r.data.events.pageInfo.endCursor;
  }
}

export const CONSENTS = `query Consents($id: ID!) {
  subject(id: $id) { id status version consents { policyId purpose { id } status permitted reason since expiresAt policyVersion eventId } }
}`;

/** Each subject's `subject { consents }` answer, as comparable JSON. */
export async function consentAnswers(url: string, token: string, subjectIds: Iterable<string>): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const id of subjectIds) {
    const r = await post(url, CONSENTS, { id }, token);
    if (!r.data) throw new Error(`subject(${id}) failed: ${JSON.stringify(r.errors)}`);
    out.set(id, JSON.stringify(r.data));
  }
  return out;
}

export async function readyz(url: string): Promise<number> {
  const res = await fetch(new URL("/readyz", url), { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  await res.arrayBuffer();
  return res.status;
}

