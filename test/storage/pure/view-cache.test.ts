// The in-memory view of subjects on its own: least recently used out first, within its byte bound,
// a drop forgets the subject, a value read before a drop is not kept, and a view is served only for
// the instants it holds for.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { SubjectSnapshot, SubjectState } from "../../../src/domain/subject.js";
import { ViewCache, snapshotBytes } from "../../../src/storage/view-cache.js";

const snapshot = (purposes = 0): SubjectSnapshot => ({
  status: "ACTIVE",
  suspendedPurposes: new Set(),
  returnedAt: null,
  mergedInto: null,
  acceptances: new Map([["p", { version: 1, acceptedAt: 0, position: 1 }]]),
  consents: new Map(
    Array.from({ length: purposes }, (_, i) => [
      `p\u0000purpose-${i}`,
      { policyId: "p", purposeId: `purpose-${i}`, granted: true, occurredAt: 0, expiresAt: null, version: 1, eventId: `event-${i}`, position: i + 1 },
    ]),
  ),
});

const state = (id: string): SubjectState => ({ ...snapshot(1), id, version: 1, dataRequests: new Map() });

const view = (purposes = 0, from = 0, until = Number.POSITIVE_INFINITY) => ({ view: snapshot(purposes), from, until });

describe("ViewCache", () => {
  it("serves a view only for instants in [from, until)", () => {
    const c = new ViewCache(1 << 20);
    const v = view(1, 100, 200);
    c.putView("a", v, c.epoch);
    expect(c.view("a", 99)).toBeUndefined();
    expect(c.view("a", 100)).toBe(v.view);
    expect(c.view("a", 199)).toBe(v.view);
    expect(c.view("a", 200)).toBeUndefined();
    expect(c.stats(0)).toMatchObject({ hits: 2, misses: 2, entries: 1 });
  });

  it("evicts the least recently used subject first, and keeps within its bound", () => {
    const c = new ViewCache(1 << 20);
    c.putView("probe", view(4), c.epoch);
    const one = c.stats(0).bytes;
    const bounded = new ViewCache(one * 3);
    for (const id of ["a", "b", "c"]) bounded.putView(id, view(4), bounded.epoch);
    expect(bounded.stats(0).entries).toBe(3);
    // "a" used last: "b" is now the least recently used and goes first.
    expect(bounded.view("a", 0)).toBeDefined();
    bounded.putView("d", view(4), bounded.epoch);
    expect(bounded.view("b", 0)).toBeUndefined();
    expect(bounded.view("a", 0)).toBeDefined();
    expect(bounded.view("c", 0)).toBeDefined();
    expect(bounded.view("d", 0)).toBeDefined();
    expect(bounded.stats(0)).toMatchObject({ entries: 3, evictions: 1 });
    expect(bounded.stats(0).bytes).toBeLessThanOrEqual(one * 3);
  });

  it("does not keep an entry larger than the whole bound", () => {
    const c = new ViewCache(200);
    c.putView("big", view(50), c.epoch);
    expect(c.stats(0)).toMatchObject({ entries: 0, bytes: 0 });
    expect(c.view("big", 0)).toBeUndefined();
  });

  it("a drop forgets the subject, and a value read before any drop is refused", () => {
    const c = new ViewCache(1 << 20);
    c.putView("a", view(1), c.epoch);
    c.putState("a", state("a"), c.epoch);
    const before = c.epoch;
    c.drop("a");
    expect(c.view("a", 0)).toBeUndefined();
    expect(c.state("a")).toBeUndefined();
    // Read before the drop, stored after it: it may predate the commit that caused the drop.
    c.putView("a", view(1), before);
    c.putState("b", state("b"), before);
    expect(c.stats(0)).toMatchObject({ entries: 0, bytes: 0 });
    c.putView("a", view(1), c.epoch);
    c.clear();
    expect(c.stats(0)).toMatchObject({ entries: 0, bytes: 0 });
  });

  it("counts a bigger snapshot as more bytes", () => {
    expect(snapshotBytes(snapshot(10))).toBeGreaterThan(snapshotBytes(snapshot(1)));
  });

  it("behaves as a model LRU and never holds more than its bound (property)", () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant("put" as const), id: fc.integer({ min: 0, max: 7 }), size: fc.integer({ min: 0, max: 6 }) }),
      fc.record({ kind: fc.constant("get" as const), id: fc.integer({ min: 0, max: 7 }) }),
      fc.record({ kind: fc.constant("drop" as const), id: fc.integer({ min: 0, max: 7 }) }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 6_000 }), fc.array(op, { maxLength: 80 }), (maxBytes, ops) => {
        const c = new ViewCache(maxBytes);
        // The model: ids in use order with their bytes.
        const model = new Map<string, number>();
        const sizeOf = (n: number) => {
          const probe = new ViewCache(1 << 30);
          probe.putView("x", view(n), 0);
          return probe.stats(0).bytes;
        };
        for (const o of ops) {
          const id = `s${o.id}`;
          if (o.kind === "put") {
            c.putView(id, view(o.size), c.epoch);
            model.delete(id);
            model.set(id, sizeOf(o.size) - 2 * "x".length + 2 * id.length);
            let total = [...model.values()].reduce((a, b) => a + b, 0);
            for (const k of model.keys()) {
              if (total <= maxBytes) break;
              total -= model.get(k)!;
              model.delete(k);
            }
          } else if (o.kind === "get") {
            const held = c.view(id, 0) !== undefined;
            expect(held).toBe(model.has(id));
            if (held) {
              const b = model.get(id)!;
              model.delete(id);
              model.set(id, b);
            }
          } else {
            c.drop(id);
            model.delete(id);
          }
          const s = c.stats(0);
          expect(s.bytes).toBeLessThanOrEqual(maxBytes);
          expect(s.bytes).toBe([...model.values()].reduce((a, b) => a + b, 0));
          expect(s.entries).toBe(model.size);
        }
      }),
    );
  });
});
