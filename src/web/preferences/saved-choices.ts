// The saves in a person's history: the events one recordConsent call wrote, each save numbered like its receipt.

/** The members of a history event this grouping reads. */
export interface HistoryEvent {
  id: string;
  type: string;
  recordedAt: string;
  actor: { kind: string; id: string };
}

const CHOICE_TYPES = new Set(["PolicyAccepted", "ConsentGranted", "ConsentWithdrawn"]);

export interface SavedChoice<E extends HistoryEvent = HistoryEvent> {
  /** The receipt's number: the id of the call's first event (consentReceiptID in the signed receipt), the return's for a person coming back. */
  receiptId: string;
  recordedAt: string;
  events: E[];
}

/** The saves in a history: consecutive choice events recorded together by the same actor, newest first. */
export function savedChoices<E extends HistoryEvent>(events: readonly E[]): SavedChoice<E>[] {
  const saves: SavedChoice<E>[] = [];
  const together = (a: E | undefined, b: E) => a !== undefined && a.recordedAt === b.recordedAt && a.actor.id === b.actor.id && a.actor.kind === b.actor.kind;
  let current: SavedChoice<E> | null = null;
  let previous: E | undefined;
  for (const e of events) {
    const before = previous;
    previous = e;
    if (!CHOICE_TYPES.has(e.type)) {
      current = null;
      continue;
    }
    if (current && together(current.events.at(-1), e)) current.events.push(e);
    else {
      // A person coming back accepts in the same call that records the return: the receipt is numbered by the return.
      const returned = e.type === "PolicyAccepted" && before?.type === "SubjectReturned" && together(before, e);
      saves.push((current = { receiptId: returned ? before.id : e.id, recordedAt: e.recordedAt, events: [e] }));
    }
  }
  return saves.reverse();
}

