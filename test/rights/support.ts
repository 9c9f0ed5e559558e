// Shared pieces of the rights tests: GraphQL documents, a scoped-token cache, and byte searches in database files.
import { existsSync, readFileSync } from "node:fs";
import type { TestServer } from "../support/harness.js";
import { recordConsentMutation } from "../support/common.js";

export const SUBJECT_FIELDS = "id status version";

export const RECORD = recordConsentMutation(`subject { ${SUBJECT_FIELDS} } events { id type position }`);
export const PERMISSION = `query($s: ID!, $p: ID!) { permission(subjectId: $s, purposeId: $p) { permitted reason status } }`;
export const SUSPEND = `mutation($s: ID!, $r: String) { suspendProcessing(subjectId: $s, reason: $r) { ${SUBJECT_FIELDS} } }`;
export const RESUME = `mutation($s: ID!) { resumeProcessing(subjectId: $s) { ${SUBJECT_FIELDS} } }`;
export const LEAVE = `mutation($s: ID) { leaveService(subjectId: $s) { ${SUBJECT_FIELDS} } }`;
export const ERASE = `mutation($s: ID!, $r: String) { eraseSubject(subjectId: $s, reason: $r) { ${SUBJECT_FIELDS} } }`;
export const HISTORY = `query($s: ID!) { subject(id: $s) { status history(first: 50) { edges { node { type actor { kind id } data } } } } }`;
export const EXPORT = `query($s: ID!) { subjectExport(subjectId: $s) }`;
export const DATA_REQUEST_FIELDS = "id subjectId kind status openedAt dueAt closedAt note";
export const OPEN_REQUEST = `mutation($input: OpenDataRequestInput!) { openDataRequest(input: $input) { ${DATA_REQUEST_FIELDS} } }`;
export const VERIFY_REQUEST = `mutation($id: ID!, $m: String!) { verifyDataRequestIdentity(id: $id, method: $m) { ${DATA_REQUEST_FIELDS} } }`;
export const CLOSE_REQUEST = `mutation($id: ID!, $f: Boolean!, $n: String) { closeDataRequest(id: $id, fulfilled: $f, note: $n) { ${DATA_REQUEST_FIELDS} } }`;
export const REQUEST_QUEUE = `query($st: DataRequestStatus, $o: Boolean) { dataRequests(status: $st, overdue: $o) { ${DATA_REQUEST_FIELDS} } }`;

/** Tokens by (sub, scope), issued once per server. */
export function tokens(srv: TestServer) {
  const cache = new Map<string, Promise<string>>();
  return (sub: string, scope: string): Promise<string> => {
    const key = `${sub} ${scope}`;
    let t = cache.get(key);
    if (!t) cache.set(key, (t = srv.token(sub, scope)));
    return t;
  };
}

/** The database file and its WAL, as bytes: what someone who copies the data folder gets. */
export function databaseBytes(path: string): Buffer {
  const parts = [path, `${path}-wal`].filter((p) => existsSync(p)).map((p) => readFileSync(p));
  return Buffer.concat(parts);
}

/** Whether `needle` (a string in UTF-8, or raw bytes) appears anywhere in `haystack`. */
export const contains = (haystack: Buffer, needle: string | Buffer): boolean => haystack.includes(typeof needle === "string" ? Buffer.from(needle, "utf8") : needle);
