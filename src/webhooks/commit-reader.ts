// The webhooks' one reader of the log. It follows the ledger's commits in order and computes each
// commit's consent changes once (only for the events some followed policy can concern), matching
// each change once against the webhooks that follow the shared stream; and it reads a webhook's
// backlog from its cursor in pages, with the same policy filter.
import type { Logger } from "pino";
import type { LedgerEvent } from "../domain/events.js";
import { CONSENT_TYPES } from "../feed/change-feed.js";
import { type ConsentChangeFact, consentChangesOf, isConsentAffecting } from "../feed/consent-changes.js";
import type { FeedCursor } from "../feed/feed-cursor.js";
import type { Ledger } from "../ledger.js";
import type { FeedRead } from "./delivery-settings.js";

/** The policies webhooks follow (null: every policy), as a set or the keys of a map. */
type FollowedPolicies = { has(id: string | null): boolean; keys(): Iterable<string | null> };

/** A page of one webhook's backlog: its changes, how far the log was read, and whether that was the head. */
export interface BacklogPage {
  items: ConsentChangeFact[];
  scannedTo: number;
  caughtUp: boolean;
}

/** A webhook as the shared stream sees it. */
export interface StreamFollower {
  readonly row: { readonly policyId: string | null };
  /** Whether the shared stream has something to give it. */
  readonly following: boolean;
  /** Whether a change is one it asked for (its policy filter applied here). */
  wants(f: ConsentChangeFact): boolean;
  offer(f: ConsentChangeFact): void;
  /** The stream lost a commit: it reads from the log again. */
  detach(): void;
}

export class CommitReader {
  /** The last log position whose changes the shared stream has offered. */
  offeredTo = 0;
  /** Commits are read in order, one after another. */
  private publishing: Promise<void> = Promise.resolve();
  private unlisten: (() => void) | null = null;

  constructor(
    private readonly ledger: Ledger,
    private readonly pageSize: number,
    private readonly onRead: ((read: FeedRead) => void) | undefined,
    private readonly log: Logger | undefined,
  ) {}

  /** Follows the ledger's commits from its head, offering each commit's changes to `followers()`. */
  follow(followers: () => Iterable<StreamFollower>): void {
    this.offeredTo = this.ledger.headPosition;
    this.unlisten = this.ledger.onCommit((events) => {
      this.publishing = this.publishing.then(() => this.publish(events, followers));
    });
  }

  stop(): void {
    this.unlisten?.();
    this.unlisten = null;
  }

  /**
   * Whether an event can change a decision a webhook following `policyId` (null: every policy) is
   * sent: events of no one policy (a subject leaving, processing suspended) concern all; an event of
   * a policy concerns the webhooks of that policy and of the policies that override it or that it
   * overrides.
   */
  private concerns(e: LedgerEvent, policyIds: FollowedPolicies): boolean {
    if (policyIds.has(null)) return true;
    const p = (e.data as { policyId?: unknown }).policyId;
    if (typeof p !== "string" || policyIds.has(p)) return true;
    const catalog = this.ledger.catalog;
    const above = catalog.chain(p);
    for (const id of policyIds.keys()) if (id !== null && (above.some((x) => x.id === id) || catalog.chain(id).some((x) => x.id === p))) return true;
    return false;
  }

  /** The consent changes of the events some of `policyIds` may hear of (each event's changes whole, so indexes are those of the log). */
  private changesOf(events: readonly LedgerEvent[], policyIds: FollowedPolicies): Promise<ConsentChangeFact[]> {
    const read = events.filter((e) => isConsentAffecting(e) && this.concerns(e, policyIds));
    return read.length === 0 ? Promise.resolve([]) : consentChangesOf(this.ledger, read);
  }

  /** A page of one webhook's backlog after `cursor` (its policy filter applied; its purposes by the caller). */
  async readBacklog(policyId: string | null, cursor: FeedCursor): Promise<BacklogPage> {
    this.onRead?.("page");
    // A cursor inside an event (some of its changes delivered) reads that event again; the rest are skipped.
    const from = Number.isFinite(cursor.index) ? cursor.position - 1 : cursor.position;
    const events = await this.ledger.events(from, this.pageSize, { types: CONSENT_TYPES });
    const items = await this.changesOf(events, new Set([policyId]));
    return { items, scannedTo: events.at(-1)?.position ?? cursor.position, caughtUp: events.length < this.pageSize };
  }

  /** One commit, read once for every webhook following the stream, each change matched once. */
  private async publish(events: readonly LedgerEvent[], followers: () => Iterable<StreamFollower>): Promise<void> {
    const last = events.at(-1)?.position ?? 0;
    try {
      const lanes = [...followers()].filter((l) => l.following);
      if (lanes.length === 0) return;
      const byPolicy = new Map<string | null, StreamFollower[]>();
      for (const l of lanes) {
        const list = byPolicy.get(l.row.policyId);
        if (list) list.push(l);
        else byPolicy.set(l.row.policyId, [l]);
      }
      if (!events.some((e) => isConsentAffecting(e) && this.concerns(e, byPolicy))) return;
      this.onRead?.("commit");
      const changes = await this.changesOf(events, byPolicy);
      const all = byPolicy.get(null) ?? [];
      for (const f of changes) {
        for (const l of all) if (l.wants(f)) l.offer(f);
        for (const l of byPolicy.get(f.current.policyId) ?? []) if (l.wants(f)) l.offer(f);
      }
    } catch (e) {
      // A commit whose changes could not be read: every webhook reads it from the log instead.
      this.log?.warn({ err: e }, "reading a commit's consent changes for webhooks failed; each webhook reads it from its cursor");
      for (const l of followers()) l.detach();
    } finally {
      if (last > this.offeredTo) this.offeredTo = last;
    }
  }
}
