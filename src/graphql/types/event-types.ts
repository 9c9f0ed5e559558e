// The log as clients see it: events, actors and pages of events.
import type { LedgerEvent } from "../../domain/events.js";
import { ActorKindEnum } from "../enums.js";
import { connectionTypes } from "./connection.js";
import { id, int, nullable, object, objectType, oneOf, text, timestamp } from "./fields.js";

export const ActorType = objectType("Actor", "Who caused an event.", { kind: oneOf(ActorKindEnum), id: text() });
export type ActorType = InstanceType<typeof ActorType>;

export const LedgerEventType = objectType("LedgerEvent", "One immutable fact of the ledger, linked into the hash chain.", {
  id: id(),
  position: text("Global order; an opaque cursor."),
  type: text(),
  streamId: text(),
  streamVersion: int(),
  schemaVersion: int(),
  subjectId: nullable(id()),
  occurredAt: timestamp("When the person acted (valid time)."),
  recordedAt: timestamp("When the ledger stored it (transaction time)."),
  actor: object(ActorType),
  prevHash: text(),
  hash: text(),
  canonical: text(
    "The exact canonical content the chain hashed (sealed evidence stays sealed): hash = hex(SHA-256(prevHash || canonical)), both as UTF-8.",
  ),
});
// data is resolved in LedgerEventResolver.
export type LedgerEventType = InstanceType<typeof LedgerEventType> & {
  /** The stored event, from which `data` is presented per caller (see LedgerEventResolver). */
  source: LedgerEvent;
  /** `data` with its personal members opened, kept once asked for. */
  revealed?: Promise<Record<string, unknown>>;
  /** Opens `data` with the rest of its page (each subject's key read once); absent: opened alone. */
  revealWith?: () => Promise<Record<string, unknown>>;
};

export { PageInfoType } from "./connection.js";

export const { Edge: EventEdgeType, Connection: EventConnectionType } = connectionTypes("Event", LedgerEventType);
export type EventConnectionType = InstanceType<typeof EventConnectionType>;
