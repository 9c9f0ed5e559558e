// The ledger's reads and time travel: a subject now or as of (at, knownAt), the catalogue as it was
// known, consents, standings and permission checks, all from the read models through the port.
import { type AsOf, Catalog, type Policy, type Standing, reconsentThreshold, standingOf } from "../domain/catalog.js";
import { announcementStream } from "../domain/command.js";
import { checkId } from "../domain/decide.js";
import { LedgerError } from "../domain/errors.js";
import { type LedgerEvent, subjectStream } from "../domain/events.js";
import { type Decision, type SubjectView, decideAll, decidePermission, viewOf } from "../domain/permission.js";
import { type SubjectState, foldSubject } from "../domain/subject.js";
import type { Instant } from "../domain/time.js";
import type { StoragePort, SubjectSnapshot } from "../storage/storage-port.js";

export interface PolicyStandingView extends Standing {
  policy: Policy;
  acceptedAt: Instant | null;
}

export interface QuerySettings {
  storage: StoragePort;
  clock: () => number;
  /** The catalogue as this ledger knows it now. */
  catalog: () => Catalog;
  /** The policy `policyId` names in `catalog`, or the default one (UNKNOWN_POLICY otherwise). */
  resolvePolicyId: (policyId: string | null, catalog: Catalog) => string;
}

/** How many merges a read follows from a merged subject to the one that answers for it. */
const MAX_MERGE_HOPS = 16;

export class Queries {
  constructor(private readonly s: QuerySettings) {}

  /** The instants of a read; both default to now, and knownAt never lies past now. */
  asOf(at?: Instant | null, knownAt?: Instant | null): AsOf {
    const now = this.s.clock();
    const asOf = { at: at ?? now, knownAt: Math.min(knownAt ?? now, now) };
    return asOf.at >= now && asOf.knownAt >= now ? { ...asOf, present: true } : asOf;
  }

  /**
   * The subject's whole state now, from the read models; past instants are read through `view`.
   * A choice dated a few minutes ahead is in the read models already but not yet in force, so
   * then (rarely) the state is the fold of the stream as of now.
   */
  async subject(subjectId: string): Promise<SubjectState> {
    const now = this.s.clock();
    const s = await this.s.storage.subject(subjectId);
    if (!hasFutureFacts(s, now)) return s;
    return foldSubject(subjectId, await this.s.storage.readStream(subjectStream(subjectId)), { at: now, knownAt: now });
  }

  /** The catalog as it was known at `knownAt`. */
  catalogAt(knownAt: Instant): Catalog {
    const c = this.s.catalog();
    const versions = c.policies().flatMap((p) => p.versions.filter((v) => v.publishedAt <= knownAt));
    return versions.length === c.policies().reduce((n, p) => n + p.versions.length, 0) ? c : Catalog.of(versions.sort((a, b) => a.publishedAt - b.publishedAt || a.number - b.number));
  }

  /**
   * What the permission rule needs of a subject as of an instant: "now" reads the current read
   * models, a past instant the bitemporal ones; neither replays the history.
   */
  async view(subjectId: string, asOf: AsOf): Promise<SubjectSnapshot> {
    const now = this.s.clock();
    // "Now" is decided when the instants are taken: a clock tick before the read starts must not turn a present read into a past one.
    const present = asOf.present === true || (asOf.at >= now && asOf.knownAt >= now);
    const read = (id: string) => (present ? this.s.storage.currentView(id, asOf.at) : this.s.storage.viewAt(id, asOf));
    // A subject merged into another answers for that one (a chain of merges is followed a few hops).
    let view = await read(subjectId);
    for (let hops = 0; view.status === "MERGED" && view.mergedInto !== null && hops < MAX_MERGE_HOPS; hops++) view = await read(view.mergedInto);
    return view;
  }

  async consents(subjectId: string, policyId: string | null, asOf: AsOf): Promise<Decision[]> {
    if (policyId !== null) this.s.catalog().resolvePolicyId(policyId); // UNKNOWN_POLICY only for a policy never published
    const catalog = this.catalogAt(asOf.knownAt);
    // As known before the policy was published, there was nothing to consent to: no states, not an error.
    if (catalog.policies().length === 0 || (policyId !== null && !catalog.get(policyId))) return [];
    const pid = this.s.resolvePolicyId(policyId, catalog);
    return decideAll(catalog, viewOf(await this.view(subjectId, asOf)), pid, asOf);
  }

  async standings(subjectId: string, asOf: AsOf): Promise<PolicyStandingView[]> {
    const view = await this.view(subjectId, asOf);
    return this.catalogAt(asOf.knownAt)
      .policies()
      .map((policy) => {
        const a = view.acceptances.get(policy.id);
        return { policy, acceptedAt: a?.acceptedAt ?? null, ...standingOf(policy, a?.version ?? 0, asOf) };
      });
  }

  /** A batch of checks; each subject is read once. A merged subject answers for the one it was merged into. */
  async permissions(checks: readonly { subjectId: string; purposeId: string; policyId: string | null; recipientId?: string | null }[], at?: Instant | null): Promise<Decision[]> {
    const asOf = this.asOf(at);
    const catalog = this.catalogAt(asOf.knownAt);
    // Unknown policies are refused before any read.
    const policyIds = checks.map((c) => this.s.resolvePolicyId(c.policyId, catalog));
    const views = new Map<string, Promise<SubjectView>>();
    for (const c of checks) if (!views.has(c.subjectId)) views.set(c.subjectId, this.view(c.subjectId, asOf).then(viewOf));
    const out: Decision[] = [];
    for (const [i, c] of checks.entries()) out.push(decidePermission(catalog, await views.get(c.subjectId)!, policyIds[i]!, c.purposeId, asOf, c.recipientId));
    return out;
  }

  /** A policy's announcements, oldest first. */
  async announcements(policyId: string): Promise<{ version: number; method: string; at: Instant }[]> {
    const events = await this.s.storage.readStream(announcementStream(policyId));
    return events.flatMap((e) => (e.type === "PolicyAnnounced" ? [{ version: e.data.version, method: e.data.method, at: e.data.at }] : []));
  }

  /** A subject's transfer records with occurredAt in [from, to], oldest first; kept through erasure. */
  thirdPartyTransfers(subjectId: string, from: Instant | null, to: Instant | null): Promise<LedgerEvent[]> {
    checkId("subjectId", subjectId);
    return this.s.storage.transfers(subjectId, from ?? 0, to ?? Number.MAX_SAFE_INTEGER);
  }

  reconsentPending(policyId: string, after: string, first: number): Promise<string[]> {
    const policy = this.s.catalog().get(policyId);
    if (!policy) throw new LedgerError("UNKNOWN_POLICY", `policy ${policyId} is not published`);
    return this.s.storage.pendingReconsent(policyId, reconsentThreshold(policy, this.asOf()), after, first);
  }
}

/** A fact that occurs after `at` but is already in the read models (a grant dated minutes ahead). */
function hasFutureFacts(s: SubjectState, at: Instant): boolean {
  for (const c of s.consents.values()) if (c.occurredAt > at) return true;
  for (const a of s.acceptances.values()) if (a.acceptedAt > at) return true;
  return s.returnedAt !== null && s.returnedAt > at;
}
