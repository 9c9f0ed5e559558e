// Fills a Ledger with realistic consent traffic through its own write path (recordConsent, group commit).
import { publishCatalogDir } from "../src/catalog-dir.js";
import type { Evidence } from "../src/domain/events.js";
import type { Ledger } from "../src/ledger.js";
import { type BenchOptions, openSqliteLedger, pool } from "./util.js";

export const EVIDENCE: Evidence = {
  channel: "web",
  ipAddress: "203.0.113.7",
  userAgent: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36",
};

/** Events one subject's five calls append: accept + 3 grants, then withdraw, grant, withdraw, grant. */
export const EVENTS_PER_SUBJECT = 8;
const CALLS_PER_SUBJECT = 5;

/** The j-th recordConsent of a subject, as the populate loop sends it. */
export function consentCall(j: number, occurredAt: number | null = null) {
  return {
    policyId: null,
    policyVersion: 1,
    acceptPolicy: j === 0,
    grant: j === 0 ? ["location", "access-analytics", "traffic-analysis"] : j % 2 === 0 ? ["location"] : [],
    withdraw: j !== 0 && j % 2 === 1 ? ["location"] : [],
    occurredAt,
    evidence: EVIDENCE,
    expectedVersion: null,
  };
}

export async function openLedger(path: string): Promise<Ledger> {
  const ledger = await openSqliteLedger(path);
  await publishCatalogDir(ledger, "data/policies");
  return ledger;
}

/**
 * Appends about `events` events: subjects of EVENTS_PER_SUBJECT events each, `concurrency` calls in
 * flight so they share group commits. Returns the number of events appended.
 */
export async function populate(ledger: Ledger, events: number, concurrency = 512, onProgress?: (appended: number) => void): Promise<number> {
  const subjects = Math.max(1, Math.ceil(events / EVENTS_PER_SUBJECT));
  let appended = 0;
  // Calls run subject-major within a window so a subject's calls stay in order across commits.
  const window = Math.max(concurrency, 1024);
  for (let base = 0; base < subjects; base += window) {
    const n = Math.min(window, subjects - base);
    for (let j = 0; j < CALLS_PER_SUBJECT; j++) {
      await pool(n, concurrency, async (i) => {
        const r = await ledger.recordConsent(`subject-${base + i}`, consentCall(j), { kind: "SUBJECT", id: `subject-${base + i}` });
        appended += r.events.length;
      });
    }
    onProgress?.(appended);
  }
  return appended;
}

/** A ledger at `path` populated for the benches that read a whole log (rebuild, integrity): 100,000 events, 4,000 quick. */
export async function populatedLedger(path: string, o: BenchOptions): Promise<Ledger> {
  const ledger = await openLedger(path);
  await populate(ledger, o.quick ? 4_000 : 100_000);
  return ledger;
}
