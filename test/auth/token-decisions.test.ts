// The verified-token memory: one lookup by the token's own text, bounded by entries and by characters,
// never serving a decision past its instant; and the visitor side, which keeps its own.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Caller } from "../../src/auth/scopes.js";
import { TokenDecisions } from "../../src/auth/token-decisions.js";
import type { TokenVerifier } from "../../src/auth/token-verifier.js";
import { VisitorSessions, withVisitorSessions } from "../../src/auth/visitor-sessions.js";
import { LedgerError } from "../../src/domain/errors.js";

const caller = (subject: string): Caller => Object.freeze({ subject, scopes: new Set(["consent:read"]), expiresAt: null });

describe("TokenDecisions", () => {
  it("serves a decision until its instant, not at it, and forgets it then", () => {
    const d = new TokenDecisions(10);
    const a = caller("a");
    d.set("tok-a", a, 1_000);
    expect(d.get("tok-a", 999)).toBe(a);
    expect(d.get("tok-a", 1_000)).toBeUndefined();
    expect(d.size).toBe(0);
    expect(d.heldChars).toBe(0);
  });

  it("evicts the least recently used past its entries", () => {
    const d = new TokenDecisions(2);
    d.set("a", caller("a"), 10);
    d.set("b", caller("b"), 10);
    expect(d.get("a", 0)?.subject).toBe("a"); // a is now the most recent
    d.set("c", caller("c"), 10);
    expect(d.get("b", 0)).toBeUndefined();
    expect(d.get("a", 0)?.subject).toBe("a");
    expect(d.get("c", 0)?.subject).toBe("c");
  });

  it("evicts the oldest past its characters, and keeps no token longer than the whole budget", () => {
    const d = new TokenDecisions(100, 10);
    d.set("aaaa", caller("a"), 10);
    d.set("bbbb", caller("b"), 10);
    d.set("cccc", caller("c"), 10);
    expect(d.get("aaaa", 0)).toBeUndefined();
    expect(d.heldChars).toBe(8);
    d.set("x".repeat(11), caller("x"), 10);
    expect(d.get("x".repeat(11), 0)).toBeUndefined();
    expect(d.heldChars).toBe(8);
  });

  it("keeps nothing with no entries allowed", () => {
    const d = new TokenDecisions(0);
    d.set("a", caller("a"), 10);
    expect(d.get("a", 0)).toBeUndefined();
  });

  it("stays within both bounds and counts its characters exactly, whatever is set, read and lapsed", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 1, max: 40 }),
        fc.array(fc.tuple(fc.constantFrom("set", "get"), fc.string({ minLength: 1, maxLength: 12 }), fc.integer({ min: 0, max: 20 })), { maxLength: 80 }),
        (entries, chars, ops) => {
          const d = new TokenDecisions(entries, chars);
          const model = new Map<string, number>();
          let now = 0;
          for (const [op, token, t] of ops) {
            now += 1;
            if (op === "set") {
              d.set(token, caller(token), now + t);
              if (token.length <= chars) model.set(token, now + t);
            } else {
              const got = d.get(token, now);
              // Never a decision past its instant, nor one never made.
              if (got !== undefined) {
                expect(got.subject).toBe(token);
                expect(model.get(token)!).toBeGreaterThan(now);
              }
            }
            expect(d.size).toBeLessThanOrEqual(entries);
            expect(d.heldChars).toBeLessThanOrEqual(chars);
          }
        },
      ),
    );
  });
});

describe("visitor tokens", () => {
  it("are remembered until their exp and answered without reading the token again", async () => {
    const clock = { t: Date.parse("2026-03-01T00:00:00.000Z") };
    const sessions = await VisitorSessions.load(mkdtempSync(join(tmpdir(), "decisions-")), { ttlSeconds: 60, now: () => clock.t });
    let baseCalls = 0;
    const base: TokenVerifier = {
      readiness: async () => null,
      remembered: () => undefined,
      verify: async () => {
        baseCalls++;
        throw new LedgerError("UNAUTHENTICATED", "invalid or expired token");
      },
    };
    const verifier = withVisitorSessions(base, sessions);
    const { token, subjectId } = await sessions.issue();
    expect(verifier.remembered?.(token)).toBeUndefined();
    const first = await verifier.verify(token);
    expect(first.subject).toBe(subjectId);
    expect(verifier.remembered?.(token)).toBe(first);
    expect(await verifier.verify(token)).toBe(first);
    clock.t += 60_000 - 1;
    expect(await verifier.verify(token)).toBe(first);
    clock.t += 1; // exp reached: refused, as jose refuses it
    expect(verifier.remembered?.(token)).toBeUndefined();
    await expect(verifier.verify(token)).rejects.toMatchObject({ code: "UNAUTHENTICATED", message: "token expired" });
    expect(baseCalls).toBe(0);
  });

  it("are refused when visitor sessions are off, even after one was verified with them on", async () => {
    const sessions = await VisitorSessions.load(mkdtempSync(join(tmpdir(), "decisions-")), { ttlSeconds: 60 });
    const base: TokenVerifier = { readiness: async () => null, verify: async () => caller("nobody") };
    const { token } = await sessions.issue();
    await withVisitorSessions(base, sessions).verify(token);
    await expect(withVisitorSessions(base, null).verify(token)).rejects.toMatchObject({ code: "UNAUTHENTICATED" });
  });
});
