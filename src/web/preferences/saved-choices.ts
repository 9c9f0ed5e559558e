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
  /** The receipt's number: the id of the save's first event (consentReceiptID in the signed receipt). */
  receiptId: string;
  recordedAt: string;
  events: E[];
}

/** The saves in a history: consecutive choice events recorded together by the same actor, newest first. */
export function savedChoices<E extends HistoryEvent>(events: readonly E[]): SavedChoice<E>[] {
  const saves: SavedChoice<E>[] = [];
  let current: SavedChoice<E> | null = null;
  for (const e of events) {
    if (!CHOICE_TYPES.has(e.type)) {
      current = null;
      continue;
    }
    const last: E | undefined = current?.events.at(-1);
    if (current && last && last.recordedAt === e.recordedAt && last.actor.id === e.actor.id && last.actor.kind === e.actor.kind) current.events.push(e);
    else saves.push((current = { receiptId: e.id, recordedAt: e.recordedAt, events: [e] }));
  }
  return saves.reverse();
}

