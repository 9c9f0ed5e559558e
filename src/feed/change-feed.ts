// The live feed behind the subscriptions, transport-neutral: ledger events and consent-change facts,
// each commit read and diffed once, then fanned out; the transports shape what they send.
import type { Logger } from "pino";
import { LedgerError } from "../domain/errors.js";
import { CONSENT_AFFECTING, type LedgerEvent } from "../domain/events.js";
import type { Ledger } from "../ledger.js";
import { type ConsentChangeFact, consentChangesOf, isConsentAffecting } from "./consent-changes.js";
import { type Slots, localSlots } from "../limits/slots.js";
import type { FeedCursor } from "./feed-cursor.js";
import { type FeedItem, FeedSubscription, type FeedSubscriptionOptions } from "./feed-subscription.js";

export interface ChangeFeedOptions {
  /** Live messages a subscriber may have waiting before it is ended as too slow. */
  maxQueue?: number;
  /** Events read per replay step. */
  pageSize?: number;
  /** Replay pages one caller may have being read at once; the caller's other replays wait their turn. */
  maxReplaysPerCaller?: number;
  /** Where replay slots are counted; this feed's own when left out. */
  slots?: Slots;
  logger?: Logger;
}

export interface LedgerEventsFilter {
  types: readonly string[] | null;
}

export interface ConsentChangesFilter {
  /** null: every subject. */
  subjectId: string | null;
  policyId: string | null;
  purposeIds: readonly string[] | null;
}

// Publications and versions coming into effect change the decisions of every subject of the policy.
export const CONSENT_TYPES: readonly string[] = [...CONSENT_AFFECTING, "PolicyVersionPublished", "PolicyVersionEffective"];

export class ChangeFeed {
  private readonly eventSubs = new Set<FeedSubscription<LedgerEvent>>();
  /** Consent subscribers that follow every subject, and those that follow one (indexed, so fan-out skips the rest). */
  private readonly changeSubsAll = new Set<FeedSubscription<ConsentChangeFact>>();
  private readonly changeSubsBySubject = new Map<string, Set<FeedSubscription<ConsentChangeFact>>>();
  private changeSubCount = 0;
  private readonly maxQueue: number;
  private readonly pageSize: number;
  private readonly replaySlots: ReplaySlots;
  private readonly unlisten: () => void;
  private closed = false;
  /** Commits are diffed in order, one after another. */
  private publishing: Promise<void> = Promise.resolve();
  /** The last log position whose items have been offered to the subscribers. */
  private offeredTo: number;

  constructor(
    private readonly ledger: Ledger,
    private readonly opts: ChangeFeedOptions = {},
  ) {
    this.maxQueue = opts.maxQueue ?? 1_000;
    this.pageSize = opts.pageSize ?? 200;
    this.replaySlots = new ReplaySlots(opts.maxReplaysPerCaller ?? 2, opts.slots ?? localSlots());
    this.offeredTo = ledger.headPosition;
    this.unlisten = ledger.onCommit((events) => {
      this.publishing = this.publishing.then(() => this.publish(events));
    });
  }

  /** How many subscriptions are open (for metrics and tests). */
  get size(): number {
    return this.eventSubs.size + this.changeSubCount;
  }

  /** The global event feed, optionally by type, from `after` (or from now on); `caller` shares its replay slots. */
  ledgerEvents(filter: LedgerEventsFilter, after: FeedCursor | null, caller?: string): AsyncIterableIterator<LedgerEvent> {
    this.requireOpen();
    const types = filter.types && filter.types.length > 0 ? new Set(filter.types) : null;
    const sub: FeedSubscription<LedgerEvent> = this.subscriber(after, caller, {
      matches: (item) => !types || types.has(item.value.type),
      replay: async (cursor) => {
        const events = await this.ledger.events(cursor.position, this.pageSize, types ? { types: [...types] } : undefined);
        return {
          items: events.map(eventItem),
          scannedTo: events.at(-1)?.position ?? cursor.position,
          caughtUp: events.length < this.pageSize,
        };
      },
      onEnd: () => this.eventSubs.delete(sub),
    });
    this.eventSubs.add(sub);
    return sub;
  }

  /** Consent changes of one subject or all, optionally of one policy and some purposes, from `after`; `caller` shares its replay slots. */
  consentChanges(filter: ConsentChangesFilter, after: FeedCursor | null, caller?: string): AsyncIterableIterator<ConsentChangeFact> {
    this.requireOpen();
    const purposes = filter.purposeIds && filter.purposeIds.length > 0 ? new Set(filter.purposeIds) : null;
    const sub: FeedSubscription<ConsentChangeFact> = this.subscriber(after, caller, {
      matches: ({ value: c }) =>
        (filter.subjectId === null || c.subjectId === filter.subjectId) &&
        (filter.policyId === null || c.current.policyId === filter.policyId) &&
        (!purposes || purposes.has(c.current.purposeId)),
      replay: async (cursor) => {
        // A cursor inside an event (some of its changes seen) re-reads that event; the rest are skipped.
        const from = Number.isFinite(cursor.index) ? cursor.position - 1 : cursor.position;
        let events = await this.ledger.events(from, this.pageSize, {
          types: CONSENT_TYPES,
          ...(filter.subjectId !== null ? { subjectId: filter.subjectId } : {}),
        });
        const caughtUp = events.length < this.pageSize;
        let scannedTo = events.at(-1)?.position ?? cursor.position;
        const wanted = filter.subjectId === null ? undefined : (id: string) => id === filter.subjectId;
        if (filter.subjectId !== null) {
          // The subject's stream holds its own events; versions coming into effect live elsewhere in the log.
          const upTo = caughtUp ? this.ledger.headPosition : scannedTo;
          const effects = await Promise.all((await this.ledger.effectPositions(from, upTo)).map(async (p) => (await this.ledger.events(p - 1, 1))[0]!));
          if (effects.length > 0) {
            events = [...events, ...effects].sort((a, b) => a.position - b.position);
            scannedTo = Math.max(scannedTo, effects.at(-1)!.position);
          }
        }
        return {
          items: (await consentChangesOf(this.ledger, events, wanted)).map(changeItem),
          scannedTo,
          caughtUp,
        };
      },
      onEnd: () => {
        this.changeSubCount--;
        if (filter.subjectId === null) this.changeSubsAll.delete(sub);
        else {
          const set = this.changeSubsBySubject.get(filter.subjectId);
          set?.delete(sub);
          if (set?.size === 0) this.changeSubsBySubject.delete(filter.subjectId);
        }
      },
    });
    this.changeSubCount++;
    if (filter.subjectId === null) this.changeSubsAll.add(sub);
    else {
      let set = this.changeSubsBySubject.get(filter.subjectId);
      if (!set) this.changeSubsBySubject.set(filter.subjectId, (set = new Set()));
      set.add(sub);
    }
    return sub;
  }

  /** Ends every subscription cleanly (clients resume with their cursors) and stops listening. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.unlisten();
    for (const s of this.all()) s.end();
  }

  private all(): { end(): void; fail(e: Error): void }[] {
    const subs: { end(): void; fail(e: Error): void }[] = [...this.eventSubs, ...this.changeSubsAll];
    for (const set of this.changeSubsBySubject.values()) subs.push(...set);
    return subs;
  }

  /** A subscriber from `after` with this feed's queue limit; its replay pages are read in `caller`'s slots. */
  private subscriber<T>(after: FeedCursor | null, caller: string | undefined, how: Pick<FeedSubscriptionOptions<T>, "matches" | "replay" | "onEnd">): FeedSubscription<T> {
    return new FeedSubscription<T>({ ...how, after, head: () => this.offeredTo, maxQueue: this.maxQueue, replay: this.replaySlots.limit(caller, how.replay) });
  }

  private requireOpen(): void {
    if (this.closed) throw new LedgerError("STORE_UNAVAILABLE", "the server is shutting down; subscribe again with your last cursor");
  }

  /** One commit: diffed once, whatever the number of subscribers. */
  private async publish(events: readonly LedgerEvent[]): Promise<void> {
    try {
      if (this.eventSubs.size > 0) {
        const items = events.map(eventItem);
        for (const s of [...this.eventSubs]) s.offer(items);
      }
      if (this.changeSubCount > 0 && events.some(isConsentAffecting)) {
        const wanted = this.changeSubsAll.size > 0 ? undefined : (id: string) => this.changeSubsBySubject.has(id);
        const items = (await consentChangesOf(this.ledger, events, wanted)).map(changeItem);
        if (items.length > 0) {
          for (const s of [...this.changeSubsAll]) s.offer(items);
          const bySubject = new Map<string, FeedItem<ConsentChangeFact>[]>();
          for (const item of items) {
            const list = bySubject.get(item.value.subjectId);
            if (list) list.push(item);
            else bySubject.set(item.value.subjectId, [item]);
          }
          for (const [subjectId, list] of bySubject) for (const s of [...(this.changeSubsBySubject.get(subjectId) ?? [])]) s.offer(list);
        }
      }
    } catch (e) {
      // A failed diff must not stop the feed; the subscribers resume from their cursors instead.
      this.opts.logger?.error({ err: e }, "change feed failed to publish a commit");
      const error = new LedgerError("STORE_UNAVAILABLE", "the live feed failed; subscribe again with your last cursor");
      for (const s of this.all()) s.fail(error);
    } finally {
      const last = events.at(-1);
      if (last && last.position > this.offeredTo) this.offeredTo = last.position;
    }
  }
}

/**
 * Per-caller slots for replay pages: one caller's many subscriptions from an old cursor are read a
 * few pages at a time, while other callers' replays and the live feed go on.
 */
/**
 * Replay pages one caller may have read at once: the rest wait for a slot. The slots are the
 * service's (src/limits/shared-limits.ts), so with WORKERS > 1 a caller's replays on every worker share them.
 */
class ReplaySlots {
  constructor(
    private readonly max: number,
    private readonly slots: Slots,
  ) {}

  limit<A, R>(caller: string | undefined, read: (arg: A) => Promise<R>): (arg: A) => Promise<R> {
    if (caller === undefined) return read;
    return async (arg: A) => {
      await this.slots.wait("replay", caller, this.max);
      try {
        return await read(arg);
      } finally {
        this.slots.give("replay", caller);
      }
    };
  }
}

const eventItem = (e: LedgerEvent): FeedItem<LedgerEvent> => ({ position: e.position, index: 0, value: e });

const changeItem = (f: ConsentChangeFact): FeedItem<ConsentChangeFact> => ({ position: f.event.position, index: f.index, value: f });
