// Every error class in src/ carries a stable `code`, as jose's errors do; a code a client may see is one
// of the contract's, and every other code is masked to INTERNAL_SERVER_ERROR at the edge.
import { readFileSync, readdirSync } from "node:fs";
import { join, relative } from "node:path";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { type ErrorCode, LedgerError } from "../src/domain/errors.js";
import { formatError } from "../src/graphql/errors.js";

/** The codes the contract lets a client see in extensions.code (the compiler checks the list is whole). */
const CONTRACT_CODES = [
  "BAD_USER_INPUT",
  "UNAUTHENTICATED",
  "FORBIDDEN",
  "NOT_FOUND",
  "UNKNOWN_POLICY",
  "UNKNOWN_POLICY_VERSION",
  "UNKNOWN_PURPOSE",
  "REQUIRED_PURPOSE",
  "POLICY_NOT_ACCEPTED",
  "SUBJECT_INACTIVE",
  "VERSION_CONFLICT",
  "IDEMPOTENCY_CONFLICT",
  "IDENTITY_NOT_VERIFIED",
  "INVALID_STATE",
  "NOT_YET_LOGGED",
  "TRANSFER_NOT_PERMITTED",
  "POLICY_VERSION_SUPERSEDED",
  "CONSENT_REQUIRED_CHANGE",
  "STORE_UNAVAILABLE",
  "STALE_READ",
  "SLOW_SUBSCRIBER",
  "TOO_MANY_SUBSCRIPTIONS",
  "TOO_MANY_OPEN_REQUESTS",
  "TOO_MANY_REQUESTS",
  "RESPONSE_TOO_LARGE",
  "INTERNAL_SERVER_ERROR",
] as const satisfies readonly ErrorCode[];
const whole: [Exclude<ErrorCode, (typeof CONTRACT_CODES)[number]>] extends [never] ? true : false = true;

/** Classes whose code is the first argument of each instance (LedgerError: a contract code; the pages' ApiError: the server's). */
const CODE_PER_INSTANCE = new Set(["LedgerError", "ApiError"]);

const SRC = join(import.meta.dirname, "..", "src");
const ERROR_CLASS = /(export\s+)?class\s+(\w+)\s+extends\s+(\w*Error)\b[^{]*\{([\s\S]*?)\n\}/g;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const path = join(dir, d.name);
    if (d.isDirectory()) return d.name === "gql" ? [] : sources(path);
    return d.name.endsWith(".ts") && !d.name.endsWith(".d.ts") ? [path] : [];
  });
}

interface Found {
  file: string;
  name: string;
  exported: boolean;
  body: string;
}

const found: Found[] = sources(SRC).flatMap((file) =>
  [...readFileSync(file, "utf8").matchAll(ERROR_CLASS)].map((m) => ({ file, name: m[2]!, exported: m[1] !== undefined, body: m[4]! })),
);

const silent = pino({ level: "silent" });

describe("error codes", () => {
  it("finds the error classes of src/ (the scan is not empty)", () => {
    expect(whole).toBe(true);
    expect(found.length).toBeGreaterThanOrEqual(12);
    expect(found.map((f) => f.name)).toEqual(expect.arrayContaining(["LedgerError", "ConfigError", "ProofError", "KekMismatchError"]));
  });

  it.each(found.filter((f) => f.exported).map((f) => [`${relative(SRC, f.file)}: ${f.name}`, f] as const))("%s has a stable, non-empty code", async (_, f) => {
    const mod = (await import(f.file)) as Record<string, unknown>;
    const cls = mod[f.name] as (new (...args: unknown[]) => Error & { code?: unknown }) & { code?: unknown };
    expect(typeof cls).toBe("function");
    const instance = Reflect.construct(cls, ["PROBE_CODE", "a message"]) as Error & { code?: unknown };
    expect(instance).toBeInstanceOf(Error);
    if (CODE_PER_INSTANCE.has(f.name)) {
      expect(instance.code).toBe("PROBE_CODE");
      return;
    }
    expect(typeof cls.code).toBe("string");
    expect(cls.code).not.toBe("");
    expect(instance.code).toBe(cls.code);
    if (instance instanceof LedgerError) return expect(CONTRACT_CODES).toContain(instance.code);
    // What a client would see if the error escaped a resolver: a contract code the edge maps it to, or INTERNAL.
    const masked = formatError(silent, { message: instance.message }, instance).extensions?.["code"];
    expect(masked).toBe("INTERNAL_SERVER_ERROR");
    if (!(CONTRACT_CODES as readonly string[]).includes(cls.code as string)) expect(cls.code).toMatch(/^[A-Z][A-Z_]+$/);
  });

  it("error classes a module keeps to itself declare a code too", () => {
    const hidden = found.filter((f) => !f.exported);
    for (const f of hidden) expect(f.body, `${relative(SRC, f.file)}: ${f.name}`).toMatch(/readonly code\b/);
  });
});
