// Which purposes' status or permission each consent-affecting event changed, from the domain rules.
import { PAGE_WEIGHT, nextTurn } from "../turns.js";
import { type AsOf, Catalog } from "../domain/catalog.js";
import { CONSENT_AFFECTING, type LedgerEvent } from "../domain/events.js";
import { type Decision, type SubjectView, decideAll, decidePermission, viewOf } from "../domain/permission.js";
import { consentKey } from "../domain/subject.js";
import type { Ledger } from "../ledger.js";

/** Subjects of a policy read per page when a version comes into effect. */
const SUBJECT_PAGE = 500;

/** One (subject, policy, purpose) whose status or `permitted` an event changed. */
export interface ConsentChangeFact {
  event: LedgerEvent;
  /** The change's place among those the event caused, in (subjectId, policyId, purposeId) order. */
  index: number;
  subjectId: string;
  previous: Decision | null;
  current: Decision;
}

/** The policy a version-effect event brought into effect, if `e` is one: a publication already in effect, or a PolicyVersionEffective. */
export function versionEffectOf(e: LedgerEvent): { policyId: string; version: number } | null {
  if (e.type === "PolicyVersionEffective") return { policyId: e.data.policyId, version: e.data.version };
  if (e.type === "PolicyVersionPublished" && e.data.effectiveAt <= e.recordedAt) return { policyId: e.data.policyId, version: e.data.number };
  return null;
}

/** Whether an event can change a subject's decisions (and so is read when replaying changes). */
export const isConsentAffecting = (e: LedgerEvent): boolean => (e.subjectId !== null && CONSENT_AFFECTING.has(e.type)) || versionEffectOf(e) !== null;

/** Every decision of a subject under a catalogue as of an instant, keyed by (policy, purpose). */
function decisions(catalog: Catalog, view: SubjectView, asOf: AsOf): Map<string, Decision> {
  const out = new Map<string, Decision>();
  for (const policy of catalog.policies())
    for (const d of decideAll(catalog, view, policy.id, asOf)) {
      const k = consentKey(d.policyId, d.purposeId);
      if (!out.has(k)) out.set(k, d);
    }
  return out;
}

const differs = (before: Map<string, Decision>, after: Map<string, Decision>, only?: string) =>
  [...after]
    .filter(([k, d]) => {
      if (only !== undefined && k !== only) return false;
      const p = before.get(k);
      return !p || p.status !== d.status || p.permitted !== d.permitted;
    })
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

/**
 * Adds to `after` the purposes `before` had that the new catalogue no longer lists (a version that
 * drops a purpose): their decision now is NOT_IN_APPLICABLE_POLICY, a change subscribers must hear of.
 */
export function withDropped(catalog: Catalog, view: SubjectView, asOf: AsOf, before: Map<string, Decision>, after: Map<string, Decision>): Map<string, Decision> {
  for (const [k, d] of before) {
    if (after.has(k)) continue;
    try {
      after.set(k, decidePermission(catalog, view, d.policyId, d.purposeId, asOf));
    } catch {
      // No published version of that policy defines the purpose any more: nothing to report for it.
    }
  }
  return after;
}

/**
 * A subject's changes from one of its own events. Decisions are taken as the ledger knew them when
 * the event was recorded (its own instant, not the reader's clock), so replaying the log later
 * yields the very same changes and cursors as the live feed did. A ConsentExpired compares the
 * instant before the expiry with the expiry itself, for its one purpose.
 */
async function subjectEventChanges(ledger: Ledger, e: LedgerEvent, subjectId: string): Promise<[string, Decision | null, Decision][]> {
  const knownAt = e.recordedAt;
  const catalog = ledger.catalogAt(knownAt);
  if (e.type === "ConsentExpired") {
    const view = viewOf(await ledger.viewThrough(subjectId, e.position));
    const before = decisions(catalog, view, { at: e.occurredAt - 1, knownAt });
    const after = decisions(catalog, view, { at: e.occurredAt, knownAt });
    return differs(before, after, consentKey(e.data.policyId, e.data.purposeId)).map(([k, d]) => [k, before.get(k) ?? null, d]);
  }
  const asOf: AsOf = { at: knownAt, knownAt };
  const [viewBefore, viewAfter] = await Promise.all([ledger.viewThrough(subjectId, e.position - 1), ledger.viewThrough(subjectId, e.position)]);
  const before = decisions(catalog, viewOf(viewBefore), asOf);
  const after = decisions(catalog, viewOf(viewAfter), asOf);
  return differs(before, after).map(([k, d]) => [k, before.get(k) ?? null, d]);
}

type SubjectChanges = { subjectId: string; changes: [string, Decision | null, Decision][] };

/** Subjects whose views are read and diffed between two turns of the event loop. */
const SUBJECTS_PER_STEP = 16;
/**
 * Version-effect results kept per ledger, so that replays of the same event share one computation:
 * as many as hold at most REMEMBERED_CHANGES changes in all (at most MAX_REMEMBERED_EFFECTS events,
 * the most recent always). Kept by what they hold rather than by count: a policy's life brings many
 * versions into effect, most of which change few decisions, and a replay from the start walks them
 * all in order; a count smaller than the versions made each replay evict what the next one needed,
 * so every replay computed every version's effect again.
 */
export const REMEMBERED_CHANGES = 50_000;
export const MAX_REMEMBERED_EFFECTS = 256;
interface RememberedEffect {
  computing: Promise<SubjectChanges[]>;
  /** The changes it holds once computed (0 while computing). */
  changes: number;
}
const remembered = new WeakMap<Ledger, Map<number, RememberedEffect>>();

/** Drops the least recently used effects until the rest fit (the most recent always stays). */
function forgetBeyondBudget(byPosition: Map<number, RememberedEffect>): void {
  let total = 0;
  for (const r of byPosition.values()) total += r.changes;
  for (const [position, r] of byPosition) {
    if (byPosition.size <= 1 || (byPosition.size <= MAX_REMEMBERED_EFFECTS && total <= REMEMBERED_CHANGES)) return;
    byPosition.delete(position);
    total -= r.changes;
  }
}

/**
 * The changes a version coming into effect made, for every subject with a standing in its policy:
 * the catalogue without that version against the catalogue with it, at the event's instant.
 * Computed for all such subjects whatever the filter, so that indexes (and cursors) are the same
 * for every subscriber. The result depends on the log up to the event alone, so it is computed
 * once per event and shared by the live feed and every replay (see REMEMBERED_CHANGES).
 */
function versionEffectChanges(ledger: Ledger, e: LedgerEvent, effect: { policyId: string; version: number }): Promise<SubjectChanges[]> {
  let byPosition = remembered.get(ledger);
  if (!byPosition) remembered.set(ledger, (byPosition = new Map()));
  const known = byPosition.get(e.position);
  if (known) {
    // Most recently used last.
    byPosition.delete(e.position);
    byPosition.set(e.position, known);
    return known.computing;
  }
  const entry: RememberedEffect = { computing: computeVersionEffect(ledger, e, effect), changes: 0 };
  byPosition.set(e.position, entry);
  const positions = byPosition;
  entry.computing.then(
    (subjects) => {
      entry.changes = subjects.reduce((n, s) => n + s.changes.length, 0);
      if (positions.get(e.position) === entry) forgetBeyondBudget(positions);
    },
    () => {
      if (positions.get(e.position) === entry) positions.delete(e.position);
    },
  );
  forgetBeyondBudget(byPosition);
  return entry.computing;
}

/**
 * Reads only the subjects who had accepted the policy by the event (an index lookup: none at all for
 * the shipped catalogue's first publication), a few at a time, yielding to the event loop between
 * steps, so other requests are served while a version comes into effect for many subjects.
 */
async function computeVersionEffect(ledger: Ledger, e: LedgerEvent, effect: { policyId: string; version: number }): Promise<SubjectChanges[]> {
  const knownAt = e.recordedAt;
  const after = ledger.catalogAt(knownAt);
  const before = Catalog.of(
    after
      .policies()
      .flatMap((p) => p.versions)
      .filter((v) => !(v.policyId === effect.policyId && v.number === effect.version))
      .sort((a, b) => a.publishedAt - b.publishedAt || a.number - b.number),
  );
  const asOf: AsOf = { at: knownAt, knownAt };
  const out: SubjectChanges[] = [];
  // The policy's subjects are read in pages by id; each step's views are read together.
  for (let afterId = ""; ; ) {
    const page = await ledger.subjectsOfPolicy(effect.policyId, afterId, SUBJECT_PAGE, e.position);
    for (let from = 0; from < page.length; from += SUBJECTS_PER_STEP) {
      await nextTurn(PAGE_WEIGHT);
      const ids = page.slice(from, from + SUBJECTS_PER_STEP);
      const views = await Promise.all(ids.map((id) => ledger.viewThrough(id, e.position)));
      for (const [i, subjectId] of ids.entries()) {
        const view = viewOf(views[i]!);
        // Only subjects who had accepted the policy by then stand under its versions.
        if (view.acceptedVersion(effect.policyId) === 0) continue;
        const b = decisions(before, view, asOf);
        const a = withDropped(after, view, asOf, b, decisions(after, view, asOf));
        const changes = differs(b, a).map(([k, d]): [string, Decision | null, Decision] => [k, b.get(k) ?? null, d]);
        if (changes.length > 0) out.push({ subjectId, changes });
      }
    }
    if (page.length < SUBJECT_PAGE) return out;
    afterId = page.at(-1)!;
  }
}

/**
 * The consent changes `events` (in log order, already committed) caused. The state just before and
 * just after each event comes from the bitemporal read models bounded by log position, so the cost
 * does not grow with the subject's history, and is exact even when one commit holds several events
 * of the same subject. `wanted` skips subjects nobody follows.
 */
export async function consentChangesOf(ledger: Ledger, events: readonly LedgerEvent[], wanted?: (subjectId: string) => boolean): Promise<ConsentChangeFact[]> {
  const out: ConsentChangeFact[] = [];
  for (const e of events) {
    const effect = versionEffectOf(e);
    if (effect) {
      let index = 0;
      for (const { subjectId, changes } of await versionEffectChanges(ledger, e, effect))
        for (const [, previous, current] of changes) {
          if (!wanted || wanted(subjectId)) out.push({ event: e, index, subjectId, previous, current });
          index++;
        }
      continue;
    }
    if (!isConsentAffecting(e) || (wanted && !wanted(e.subjectId!))) continue;
    const subjectId = e.subjectId!;
    (await subjectEventChanges(ledger, e, subjectId)).forEach(([, previous, current], index) => out.push({ event: e, index, subjectId, previous, current }));
  }
  return out;
}
