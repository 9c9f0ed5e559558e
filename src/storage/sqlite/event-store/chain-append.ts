// The chain on SQLite: its last link, and appends that continue it inside the group commit's
// transaction (each event linked, stored and projected in turn).
import { LedgerError } from "../../../domain/errors.js";
import type { LedgerEvent } from "../../../domain/events.js";
import { GENESIS_HASH, canonicalJson, chainHash } from "../../../log/canonical.js";
import { type EventRow, canonicalRowContent, rowToEvent } from "../../event-row.js";
import type { NewEvent } from "../../event-store.js";
import { timeOrderedUuid } from "../../event-id.js";
import type { EventStatements } from "./statements.js";

export const SCHEMA_VERSION = 1;

/** The chain's last link, as the next append continues it. */
export interface Tip {
  position: number;
  hash: string;
  recordedAt: number;
}

export const EMPTY_TIP: Tip = { position: 0, hash: GENESIS_HASH, recordedAt: 0 };

/** The last link in the file. */
export function readTip(s: EventStatements): Tip {
  const r = s.tip.get() as { position: number; hash: Buffer; recorded_at: number } | undefined;
  return r ? { position: r.position, hash: r.hash.toString("hex"), recordedAt: r.recorded_at } : { ...EMPTY_TIP };
}

/**
 * What an append continues and tells: the tip (moved by each event), the hooks run on each append's
 * events, the commit's collected events, and the versions of the streams the running command has
 * read or written (so its lock and its append read a stream's version once; reset per command).
 */
export interface ChainState {
  tip: Tip;
  readonly appliers: readonly ((events: readonly LedgerEvent[]) => void)[];
  batchEvents: LedgerEvent[];
  versions: Map<string, number>;
}

/** A stream's version as the running command sees it: read once, then kept in step by its appends. */
export function streamVersion(s: EventStatements, chain: ChainState, streamId: string): number {
  let v = chain.versions.get(streamId);
  if (v === undefined) chain.versions.set(streamId, (v = (s.streamVersion.get(streamId) as number | null) ?? 0));
  return v;
}

/**
 * Checks the stream's version (null skips the check), then links each event after the tip and
 * stores it, runs the hooks (projections, tree) on the events and collects them for the commit's listeners.
 * recordedAt never goes back, so transaction time follows log order even if the clock steps back.
 */
export function appendToChain(s: EventStatements, chain: ChainState, now: number, streamId: string, expectedVersion: number | null, events: readonly NewEvent[]): LedgerEvent[] {
  const current = streamVersion(s, chain, streamId);
  if (expectedVersion !== null && expectedVersion !== current)
    throw new LedgerError("VERSION_CONFLICT", `expected version ${expectedVersion}, the stream is at ${current}`, {
      expectedVersion,
      actualVersion: current,
    });
  const recordedAt = Math.max(now, chain.tip.recordedAt);
  const out: LedgerEvent[] = [];
  let version = current;
  for (const ne of events) {
    const row: EventRow = {
      position: chain.tip.position + 1,
      id: timeOrderedUuid(recordedAt),
      stream_id: streamId,
      stream_version: ++version,
      type: ne.type,
      schema_version: SCHEMA_VERSION,
      subject_id: ne.subjectId,
      occurred_at: ne.occurredAt,
      recorded_at: recordedAt,
      actor_kind: ne.actor.kind,
      actor_id: ne.actor.id,
      data: canonicalJson(ne.data),
      prev_hash: Buffer.from(chain.tip.hash, "hex"),
      hash: Buffer.alloc(0),
    };
    const hash = chainHash(chain.tip.hash, canonicalRowContent(row));
    row.hash = Buffer.from(hash, "hex");
    s.insert.run(row);
    const event = rowToEvent(row);
    chain.tip = { position: row.position, hash, recordedAt };
    out.push(event);
    chain.batchEvents.push(event);
  }
  chain.versions.set(streamId, version);
  for (const apply of chain.appliers) apply(out);
  return out;
}
