// The pieces every kind of test shares: waiting for a condition, temporary folders, and a GraphQL client over HTTP.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "vitest";
import { LedgerError } from "../../src/domain/errors.js";

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Resolves once `cond` holds, looking again every `intervalMs`; rejects naming `what` after
 * `timeoutMs`. For states nothing announces (a checkpoint published on the log's interval, another
 * process's view); where an event exists (a message, a log line, an exit), wait on that instead.
 * The deadline is generous: it only bounds a test that would otherwise hang.
 */
export async function eventually(what: string, cond: () => boolean | Promise<boolean>, opts: { timeoutMs?: number; intervalMs?: number } = {}): Promise<void> {
  const timeoutMs = opts.timeoutMs ?? 20_000;
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(opts.intervalMs ?? 20);
  }
}

/** A new empty folder under the system's temp folder, its name starting with `prefix`. */
export const makeTempDir = (prefix = "ledger-test-"): string => mkdtempSync(join(tmpdir(), prefix));

/** A temporary folder for file-backed databases, removed by `cleanup`. */
export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = makeTempDir();
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface GqlError {
  message: string;
  extensions?: { code?: string; [k: string]: unknown };
}

export interface GqlResult<T> {
  status: number;
  data: T | null | undefined;
  errors: GqlError[] | undefined;
  /** The first error's code, for terse assertions. */
  code: string | undefined;
}

/** POSTs one GraphQL request to `url`; with `timeoutMs`, rejects when no answer comes in time. */
export async function postGraphql<T = Record<string, unknown>>(
  url: string,
  query: string,
  variables: Record<string, unknown> | undefined,
  token: string | null | undefined,
  timeoutMs?: number,
): Promise<GqlResult<T>> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
    ...(timeoutMs !== undefined ? { signal: AbortSignal.timeout(timeoutMs) } : {}),
  });
  const text = await res.text();
  let body: { data?: T | null; errors?: GqlError[] };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    throw new Error(`HTTP ${res.status} with a body that is not JSON: ${text.slice(0, 200)}`);
  }
  return { status: res.status, data: body.data, errors: body.errors, code: body.errors?.[0]?.extensions?.code };
}

/** The recordConsent mutation (variable `$input`), selecting `fields` from its payload. */
export const recordConsentMutation = (fields: string): string =>
  `mutation Record($input: RecordConsentInput!) { recordConsent(input: $input) { ${fields} } }`;

/** The LedgerError a synchronous rule throws; fails the test when it throws something else or nothing. */
export function refusal(fn: () => unknown): LedgerError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(LedgerError);
    return e as LedgerError;
  }
  throw new Error("expected a refusal, got none");
}
