// The log as clients see it: events, actors and pages of events.
import { Field, ID, Int, ObjectType } from "type-graphql";
import type { ActorKind, LedgerEvent } from "../../domain/events.js";
import { ActorKindEnum } from "../enums.js";
import { DateTimeScalar } from "../scalars.js";

@ObjectType("Actor", { description: "Who caused an event." })
export class ActorType {
  @Field(() => ActorKindEnum) kind!: ActorKind;
  @Field(() => String) id!: string;
}

@ObjectType("LedgerEvent", { description: "One immutable fact of the ledger, linked into the hash chain." })
export class LedgerEventType {
  @Field(() => ID) id!: string;
  @Field(() => String, { description: "Global order; an opaque cursor." }) position!: string;
  @Field(() => String) type!: string;
  @Field(() => String) streamId!: string;
  @Field(() => Int) streamVersion!: number;
  @Field(() => Int) schemaVersion!: number;
  @Field(() => ID, { nullable: true }) subjectId!: string | null;
  @Field(() => DateTimeScalar, { description: "When the person acted (valid time)." }) occurredAt!: number;
  @Field(() => DateTimeScalar, { description: "When the ledger stored it (transaction time)." }) recordedAt!: number;
  @Field(() => ActorType) actor!: ActorType;
  /** The stored event, from which `data` is presented per caller (see LedgerEventResolver). */
  source!: LedgerEvent;
  /** `data` with its personal members opened, kept once asked for. */
  revealed?: Promise<Record<string, unknown>>;
  /** Opens `data` with the rest of its page (each subject's key read once); absent: opened alone. */
  revealWith?: () => Promise<Record<string, unknown>>;
  @Field(() => String) prevHash!: string;
  @Field(() => String) hash!: string;
  @Field(() => String, {
    description:
      "The exact canonical content the chain hashed (sealed evidence stays sealed): hash = hex(SHA-256(prevHash || canonical)), both as UTF-8.",
  })
  canonical!: string;
}

@ObjectType("PageInfo")
export class PageInfoType {
  @Field(() => Boolean) hasNextPage!: boolean;
  @Field(() => String, { nullable: true }) endCursor!: string | null;
}

@ObjectType("EventEdge")
export class EventEdgeType {
  @Field(() => String) cursor!: string;
  @Field(() => LedgerEventType) node!: LedgerEventType;
}

@ObjectType("EventConnection")
export class EventConnectionType {
  @Field(() => [EventEdgeType]) edges!: EventEdgeType[];
  @Field(() => PageInfoType) pageInfo!: PageInfoType;
}
