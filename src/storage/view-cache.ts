// A bounded, per-subject memory of what the permission reads need: least recently used first out,
// by an estimate of the bytes each entry holds. It knows nothing of freshness: the adapter that owns
// it drops a subject's entry when a commit touches the subject, and refuses to keep a value read
// before a drop (see `epoch`).
import type { SubjectSnapshot, SubjectState } from "../domain/subject.js";
import type { Instant } from "../domain/time.js";

/** The subject "now" as the permission rule sees it, and the instants it stays so for. */
export interface CachedView {
  view: SubjectSnapshot;
  /** The instant it was read at: it is the answer for instants in [from, until). */
  from: Instant;
  /** The first instant a fact already stored (dated ahead) changes it; Infinity when none. */
  until: Instant;
}

interface Entry {
  view: CachedView | null;
  state: SubjectState | null;
  bytes: number;
}

export interface ViewCacheStats {
  /** The bound, in bytes. */
  maxBytes: number;
  /** The estimated bytes of the entries held. */
  bytes: number;
  entries: number;
  hits: number;
  misses: number;
  /** Entries dropped because a commit touched their subject, or all at once when the view could not tell which. */
  invalidations: number;
  /** Entries dropped to stay within the bound. */
  evictions: number;
  /** Reads that went to the database without looking at memory, because memory could not answer then (PostgreSQL: the change feed behind or disconnected). */
  bypasses: number;
  /** The log position every commit up to which the view has taken into account. */
  position: number;
  /** Whether memory may answer reads now (always on SQLite; on PostgreSQL while the change feed is live and current). */
  serving: boolean;
}

/** Bytes an entry is counted for beyond its values: the map slot, the entry object, the key. */
const ENTRY_OVERHEAD = 160;

export class ViewCache {
  /** In use order: the first is the least recently used. */
  private readonly entries = new Map<string, Entry>();
  private bytes = 0;
  private counts = { hits: 0, misses: 0, invalidations: 0, evictions: 0, bypasses: 0 };
  private dropCount = 0;

  constructor(readonly maxBytes: number) {}

  /**
   * Increases with every drop. A reader notes it before reading the database and hands it to `put`:
   * a value read before a drop may be older than the commit that caused it and is not kept.
   */
  get epoch(): number {
    return this.dropCount;
  }

  /** The view held for the subject that answers for instant `at`, if any. */
  view(subjectId: string, at: Instant): SubjectSnapshot | undefined {
    const e = this.touch(subjectId);
    const v = e?.view;
    if (v && v.from <= at && at < v.until) {
      this.counts.hits++;
      return v.view;
    }
    this.counts.misses++;
    return undefined;
  }

  /** The subject's whole current state, if held. */
  state(subjectId: string): SubjectState | undefined {
    const s = this.touch(subjectId)?.state ?? undefined;
    if (s) this.counts.hits++;
    else this.counts.misses++;
    return s;
  }

  putView(subjectId: string, view: CachedView, epoch: number): void {
    this.put(subjectId, epoch, (e) => (e.view = view));
  }

  putState(subjectId: string, state: SubjectState, epoch: number): void {
    this.put(subjectId, epoch, (e) => (e.state = state));
  }

  /** Forgets the subject (a commit touched it). */
  drop(subjectId: string): void {
    this.dropCount++;
    const e = this.entries.get(subjectId);
    if (!e) return;
    this.entries.delete(subjectId);
    this.bytes -= e.bytes;
    this.counts.invalidations++;
  }

  /** Forgets everything (the view cannot tell which subjects changed). */
  clear(): void {
    this.dropCount++;
    this.counts.invalidations += this.entries.size;
    this.entries.clear();
    this.bytes = 0;
  }

  /** Counts a read that did not look at memory (memory could not answer then); nothing is held for it. */
  bypass(): undefined {
    this.counts.bypasses++;
    return undefined;
  }

  stats(position: number, serving = true): ViewCacheStats {
    return { maxBytes: this.maxBytes, bytes: this.bytes, entries: this.entries.size, ...this.counts, position, serving };
  }

  private touch(subjectId: string): Entry | undefined {
    const e = this.entries.get(subjectId);
    if (e) {
      // Most recently used last.
      this.entries.delete(subjectId);
      this.entries.set(subjectId, e);
    }
    return e;
  }

  private put(subjectId: string, epoch: number, set: (e: Entry) => void): void {
    if (epoch !== this.dropCount || this.maxBytes <= 0) return;
    const e = this.touch(subjectId) ?? { view: null, state: null, bytes: 0 };
    set(e);
    const bytes = ENTRY_OVERHEAD + stringBytes(subjectId) + (e.view ? snapshotBytes(e.view.view) : 0) + (e.state ? stateBytes(e.state) : 0);
    this.bytes += bytes - e.bytes;
    e.bytes = bytes;
    this.entries.set(subjectId, e);
    // Evict from the least recently used end; an entry larger than the whole bound is not kept either.
    for (const [id, old] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(id);
      this.bytes -= old.bytes;
      this.counts.evictions++;
    }
  }
}

/** An estimate of what V8 holds for a string: header plus up to two bytes a code unit. */
const stringBytes = (s: string | null): number => (s === null ? 0 : 24 + 2 * s.length);

/** An estimate of a snapshot's heap: its maps, their entries and their strings. */
export function snapshotBytes(s: SubjectSnapshot): number {
  let n = 120 + stringBytes(s.mergedInto);
  for (const p of s.suspendedPurposes) n += 40 + stringBytes(p);
  for (const k of s.acceptances.keys()) n += 120 + stringBytes(k);
  for (const [k, c] of s.consents) n += 200 + stringBytes(k) + stringBytes(c.policyId) + stringBytes(c.purposeId) + stringBytes(c.eventId);
  return n;
}

/** snapshotBytes plus the data requests and the subject's id. */
export function stateBytes(s: SubjectState): number {
  let n = snapshotBytes(s) + 60 + stringBytes(s.id);
  for (const [k, r] of s.dataRequests) n += 260 + stringBytes(k) + stringBytes(JSON.stringify(r));
  return n;
}
