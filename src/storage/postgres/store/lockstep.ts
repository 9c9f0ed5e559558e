// Set-based group commit: the commands of one batch run in lockstep. Each round, every command's
// flow has yielded one step (storage/command-steps.ts); the driver answers all steps of one kind with
// one statement (one lock of all their streams, which also reads the subjects' states, their evidence
// keys and the catalogue's latest publication), decides nothing itself (the domain is pure), and feeds
// each flow its answer. Writes are kept in memory: an append is linked after the chain tip at once
// (positions, hashes), and the whole batch's events, stream heads, tree nodes, read models, keys and
// idempotency records go to the server in one statement, sent with the COMMIT. A command that throws
// before it wrote is left out (its caller gets its error, the others commit). Two commands of a batch
// on one stream never run side by side: the later one waits for the next sub-batch of the same
// transaction, which reads what the earlier one wrote. Anything the driver cannot do set-based
// (a statement that fails, a command that throws after it wrote, a step it does not batch) aborts the
// transaction, and the group commit runs the batch again one command per savepoint.
import type pg from "pg";
import type { Catalog } from "../../../domain/catalog.js";
import { LedgerError } from "../../../domain/errors.js";
import type { LedgerEvent } from "../../../domain/events.js";
import { subjectStream } from "../../../domain/events.js";
import { type Lifecycle, type SubjectState, evolve } from "../../../domain/subject.js";
import { keyToStored, storedToKey } from "../../../evidence/key-wrap.js";
import { newEvidenceKey } from "../../../evidence/seal.js";
import type { Step, StepResult, Steps } from "../../command-steps.js";
import { type EventRow, rowToEvent } from "../../event-row.js";
import { EVENT_COLUMNS } from "../event-rows.js";
import { extendTree } from "../merkle/extend-tree.js";
import { PROJECTION_COUNTS, projectionWrites, statusesBefore } from "../read-models/projection-writes.js";
import { writeRequests } from "../read-models/rare-writes.js";
import { type SubjectStateRow, readSubjects, subjectStateColumns, toSubjectState } from "../read-models/subjects.js";
import { eventInsert, eventRows, linkEvents } from "./append.js";
import { type BatchTip, type TipRow, holdTip } from "./chain-tip.js";
import { inlineParams } from "./inline-sql.js";

/** What the commands of one adapter share: their catalogue cache and their key-encryption key. */
export interface LockstepContext {
  /** The catalogue; `lastPublication` (when known) spares reading it again while it has not changed. */
  catalog?: {
    readKnowing(client: pg.PoolClient, lastPublication: string | null | undefined): Promise<Catalog>;
  };
  kek?: Uint8Array | null;
}

/** One command of a set-based batch: a fresh flow on each call of `start`. */
export interface LockstepWork {
  start(): Generator<Step, unknown, StepResult>;
  ctx: LockstepContext;
  /** The command's instant, recorded as transaction time (never going back). */
  now: number;
}

export type LockstepResult =
  | { kind: "done"; value: unknown; lastPosition: number }
  | { kind: "failed"; error: unknown }
  /** A stream it wants was busy while the batch held the chain tip: run it in the next batch. */
  | { kind: "later" };

/**
 * The chain tip moved between the read a batch linked its events after and its write (another
 * transaction appended in between): nothing was written, and the caller rolls the transaction back
 * and runs the batch again with the tip locked before its first append.
 */
export class TipMoved extends Error {
  /** Internal: never reaches a client, the batch runs again. */
  static readonly code = "TIP_MOVED";
  readonly code = TipMoved.code;
}

/**
 * How a batch links its first append without locking the chain tip: after the tip its lock-and-read
 * statement saw, or after `predicted()` when that is further on (the tip an earlier batch of this
 * replica is writing); `announce` is told the tip the batch's last write will leave, just before it is sent.
 */
export interface Optimistic {
  predicted(): TipRow | null;
  announce(tip: TipRow): void;
  /**
   * Orders the batches of one replica: the batch takes `mine` (a transaction-level advisory lock)
   * with its BEGIN, and a write linked after the predicted tip first takes `previous`, the lock of
   * the batch that announced it, so it reaches the tip's row only after that batch's write did.
   */
  order: { mine: string; previous: string } | null;
}

/** The batch cannot go on set-based; the caller rolls the transaction back and runs it one command at a time. */
export class LockstepAbort extends Error {
  /** Internal: never reaches a client, the batch runs again one savepoint per command. */
  static readonly code = "LOCKSTEP_ABORT";
  readonly code = LockstepAbort.code;
}

interface Running {
  readonly work: LockstepWork;
  readonly gen: Generator<Step, unknown, StepResult>;
  step: Step | null;
  result: LockstepResult | null;
  /** Whether it appended, erased or remembered (then it can no longer be left out alone). */
  wrote: boolean;
  /** Subjects whose new evidence key it made: dropped with it if it fails. */
  keys: string[];
  lastPosition: number;
}

interface Written {
  events: LedgerEvent[];
  heads: Map<string, number>;
  keys: Map<string, Buffer>;
  erasedSubjects: string[];
  forgotStreams: string[];
  remembered: {
    stream: string;
    key: string;
    hash: string;
    first: number;
    last: number;
  }[];
  /** Each subject's lifecycle before this sub-batch, where known without a read. */
  statusBefore: Map<string, Lifecycle>;
}

const SUBJECT_PREFIX = subjectStream("");
const subjectOf = (stream: string): string | null => (stream.startsWith(SUBJECT_PREFIX) ? stream.slice(SUBJECT_PREFIX.length) : null);

/** Locks streams (the head row made for a new one) and reads their subjects' states and keys, in one statement. */
const lockAndReadSql = (skipLocked: boolean) => `WITH ids AS (SELECT * FROM unnest($1::text[], $2::text[]) AS i(stream_id, subject_id)),
  made AS (INSERT INTO streams (stream_id, version) SELECT stream_id, 0 FROM ids ORDER BY stream_id ON CONFLICT (stream_id) DO NOTHING RETURNING stream_id, version),
  existing AS (SELECT stream_id, version FROM streams WHERE stream_id = ANY($1::text[]) ORDER BY stream_id FOR UPDATE${skipLocked ? " SKIP LOCKED" : ""}),
  locked AS (SELECT stream_id, version FROM made UNION ALL SELECT stream_id, version FROM existing)
SELECT l.stream_id, l.version, ids.subject_id, k.key,
       (SELECT id FROM events WHERE type = 'PolicyVersionPublished' ORDER BY position DESC LIMIT 1) AS last_publication,
       t.position AS tip_position, t.hash AS tip_hash, t.recorded_at AS tip_recorded_at, t.tree_leaves AS tip_tree_leaves, t.tree_border AS tip_tree_border,
       ${subjectStateColumns("ids.subject_id")}
FROM locked l JOIN ids USING (stream_id) LEFT JOIN subjects s ON s.subject_id = ids.subject_id LEFT JOIN subject_keys k ON k.subject_id = ids.subject_id
  LEFT JOIN chain_tip t ON true`;

/**
 * Everything a sub-batch wrote, in one statement. With `checked` (events linked after a tip read
 * without its lock: the optimistic tip), the tip's update locks the row (waiting for a transaction
 * that holds it to end) and says, from the row it replaced (`old`, PostgreSQL 18), whether the
 * events were linked after the tip as it now stands ($20 to $24: any change to the row, a
 * maintenance job's on the tree included, shows). When they were not, the events and tree nodes are
 * not inserted and the statement fails (division by zero in WRITE_COUNTS), so the COMMIT sent with
 * it does not run. Without (the tip locked before the first append), they always are.
 */
const writeSql = (checked: boolean) => `WITH tip AS (UPDATE chain_tip SET position = $2, hash = decode($3, 'hex'), recorded_at = $4, tree_leaves = $5, tree_border = $6
    RETURNING ${
      checked
        ? "old.position = $20 AND old.hash = decode($21, 'hex') AND old.tree_leaves = $22 AND old.tree_border = $23 AND old.recorded_at = $24"
        : "$20::bigint IS NOT NULL OR $21::text IS NOT NULL OR $22::bigint IS NOT NULL OR $23::bytea IS NOT NULL OR $24::bigint IS NOT NULL OR true"
    } AS linked),
  inserted AS (${eventInsert("$1")} WHERE EXISTS (SELECT 1 FROM tip WHERE linked) RETURNING 1),
  heads AS (UPDATE streams s SET version = h.version FROM unnest($7::text[], $8::bigint[]) AS h(stream_id, version) WHERE s.stream_id = h.stream_id RETURNING 1),
  tree_nodes AS (INSERT INTO merkle_nodes (post_order, hash) SELECT p, decode(h, 'hex') FROM unnest($9::bigint[], $10::text[]) AS n(p, h) WHERE EXISTS (SELECT 1 FROM tip WHERE linked) RETURNING 1),
  erased_keys AS (DELETE FROM subject_keys WHERE subject_id = ANY($11::text[]) RETURNING 1),
  new_keys AS (INSERT INTO subject_keys (subject_id, key) SELECT * FROM unnest($12::text[], $13::bytea[]) RETURNING 1),
  forgotten AS (DELETE FROM idempotency WHERE stream_id = ANY($14::text[]) RETURNING 1),
  remembered AS (INSERT INTO idempotency (stream_id, key, request_hash, first_position, last_position)
    SELECT * FROM unnest($15::text[], $16::text[], $17::text[], $18::bigint[], $19::bigint[]) RETURNING 1),`;
const WRITE_COUNTS = `(SELECT count(*) FROM inserted), 1 / (SELECT count(*) FROM tip WHERE linked)::integer, (SELECT count(*) FROM heads), (SELECT count(*) FROM tree_nodes),
  (SELECT count(*) FROM erased_keys), (SELECT count(*) FROM new_keys), (SELECT count(*) FROM forgotten), (SELECT count(*) FROM remembered)`;

/**
 * Runs `works` set-based on `client`, which has no transaction open: the first statement begins it.
 * With `commit`, the last write goes with the COMMIT; `committed` says whether it did (otherwise the
 * caller commits, after any other works it runs in the same transaction). Resolves with one result
 * per work, in order; rejects (LockstepAbort, or a statement's error) when the batch must run again
 * another way, with the transaction open or aborted: the caller rolls it back.
 */
export async function runLockstep(
  client: pg.PoolClient,
  held: BatchTip,
  works: readonly LockstepWork[],
  commit: boolean,
  optimistic: Optimistic | null = null,
): Promise<{ results: LockstepResult[]; committed: boolean; events: LedgerEvent[] }> {
  const flows: Running[] = works.map((work) => ({ work, gen: work.start(), step: null, result: null, wrote: false, keys: [], lastPosition: 0 }));
  for (const f of flows) advance(f, () => f.gen.next());
  let begun = false;
  let committed = false;
  /** Every event the sub-batches wrote, in position order. */
  const events: LedgerEvent[] = [];
  // Sends a statement; the transaction's first one carries its BEGIN, the last write its COMMIT.
  const order = optimistic?.order ?? null;
  const opening = order ? `BEGIN; SELECT pg_advisory_xact_lock(${BigInt(order.mine)}); ` : "BEGIN; ";
  /** Whether the next write waits for the previous batch of this replica (it linked after that one's tip). */
  let afterPrevious = false;
  const send = async <R extends pg.QueryResultRow>(text: string, values: unknown[], withCommit = false): Promise<R[]> => {
    if (begun && !withCommit) return (await client.query<R>(text, values)).rows;
    const first = !begun;
    begun = true;
    const before = afterPrevious && order ? `SELECT pg_advisory_xact_lock(${BigInt(order.previous)}); ` : "";
    afterPrevious = false;
    const results = (await client.query(`${first ? opening : ""}${before}${inlineParams(text, values)}${withCommit ? "; COMMIT" : ""}`)) as unknown as pg.QueryResult<R>[];
    if (withCommit) committed = true;
    return results[(first ? opening.split(";").length - 1 : 0) + (before ? 1 : 0)]!.rows;
  };
  const begin = async () => {
    if (!begun) await client.query(opening.slice(0, -2));
    begun = true;
  };

  let pending = flows.filter((f) => f.step !== null);
  while (pending.length > 0) {
    const parked: Running[] = [];
    const written: Written = { events: [], heads: new Map(), keys: new Map(), erasedSubjects: [], forgotStreams: [], remembered: [], statusBefore: new Map() };
    // As the server answered them in this sub-batch; `states` then follows each command's own appends.
    const versions = new Map<string, number>();
    const owner = new Map<string, Running>();
    const fromDb = new Map<string, SubjectState>();
    const states = new Map<string, SubjectState>();
    const storedKeys = new Map<string, Buffer | null>();
    const unknownSubjects = new Set<string>();
    let lastPublication: string | null | undefined;
    let tip: TipRow | null = null;
    let baseTip: TipRow | null = null;
    /** Whether this sub-batch's events were linked after a tip read without its lock (its write checks it). */
    let unlocked = false;
    /** The chain tip as the first lock-and-read statement saw it (committed, not locked). */
    let seenTip: TipRow | null = null;

    const lockAndRead = async (streams: string[], skipLocked: boolean) => {
      let want = streams;
      while (want.length > 0) {
        const text = lockAndReadSql(skipLocked);
        type Row = SubjectStateRow & {
          stream_id: string;
          version: number;
          subject_id: string | null;
          key: Buffer | null;
          last_publication: string | null;
          tip_position: number | null;
          tip_hash: Buffer | null;
          tip_recorded_at: number;
          tip_tree_leaves: number;
          tip_tree_border: Buffer;
        };
        const rows = await send<Row>(text, [want, want.map(subjectOf)]);
        const t = rows[0];
        if (seenTip === null && t && t.tip_position !== null && t.tip_hash !== null)
          seenTip = { position: Number(t.tip_position), hash: t.tip_hash, recorded_at: Number(t.tip_recorded_at), tree_leaves: Number(t.tip_tree_leaves), tree_border: t.tip_tree_border };
        for (const r of rows) {
          const version = Number(r.version);
          versions.set(r.stream_id, version);
          lastPublication = r.last_publication;
          if (r.subject_id === null) continue;
          const state = toSubjectState(r.subject_id, r);
          // Read in the statement's snapshot, which predates a lock it waited for: a subject another
          // transaction wrote meanwhile is read again now that its stream is held.
          if (state.version !== version) continue;
          fromDb.set(r.subject_id, state);
          states.set(r.subject_id, state);
          storedKeys.set(r.subject_id, r.key);
        }
        const missing = want.filter((s) => !versions.has(s));
        // A busy row while the tip is held: those commands wait for the next batch.
        if (skipLocked) return;
        // A stream made by another transaction after the statement's snapshot: the next try sees it.
        want = missing;
      }
    };

    while (pending.length > 0) {
      // Locks: the first command in batch order to want a stream has it for this sub-batch.
      const lockers = pending.filter((f) => f.step!.kind === "lock");
      if (lockers.length > 0) {
        const want: string[] = [];
        for (const f of lockers) {
          const streams = (f.step as Steps["lock"]).streams;
          if (streams.some((s) => owner.has(s) && owner.get(s) !== f)) {
            if (f.wrote || f.keys.length > 0) throw new LockstepAbort("a command locked a stream another command of its sub-batch holds, after it wrote");
            parked.push(f);
            continue;
          }
          for (const s of streams) {
            owner.set(s, f);
            if (!versions.has(s)) want.push(s);
          }
        }
        // The transaction's first statement also begins it.
        if (want.length > 0) await lockAndRead([...new Set(want)].sort(), held.tip !== null);
        for (const f of lockers) {
          if (parked.includes(f)) continue;
          const streams = (f.step as Steps["lock"]).streams;
          if (streams.every((s) => versions.has(s)))
            f.step = answer(
              f,
              streams.map((s) => versions.get(s)!),
            );
          else if (f.wrote) throw new LockstepAbort("a stream was busy for a command that wrote");
          else {
            f.result = { kind: "later" };
            f.step = null;
          }
        }
      }
      const active = pending.filter((f) => f.step !== null && f.step.kind !== "lock" && !parked.includes(f));
      if (active.length === 0 && lockers.length === 0) break;
      if (active.length > 0) await begin();

      // Subject states not read with their lock.
      const stateMisses = [...new Set(active.flatMap((f) => (f.step!.kind === "state" && !states.has(f.step!.subjectId) ? [f.step!.subjectId] : [])))];
      if (stateMisses.some((s) => unknownSubjects.has(s))) throw new LockstepAbort("a subject was read after another stream's events named it");
      if (stateMisses.length > 0)
        for (const [id, s] of await readSubjects(client, stateMisses)) {
          fromDb.set(id, s);
          states.set(id, s);
        }
      // Keys not read with their lock.
      const keyMisses = [...new Set(active.flatMap((f) => (f.step!.kind === "evidenceKey" && !storedKeys.has(f.step!.subjectId) ? [f.step!.subjectId] : [])))];
      if (keyMisses.length > 0) {
        const { rows } = await client.query<{
          subject_id: string;
          key: Buffer;
        }>("SELECT subject_id, key FROM subject_keys WHERE subject_id = ANY($1::text[])", [keyMisses]);
        for (const id of keyMisses) storedKeys.set(id, rows.find((r) => r.subject_id === id)?.key ?? null);
      }
      // Idempotency replays, in one read (and one more for the events of the keys found).
      const replays = active.filter((f) => f.step!.kind === "replay");
      const replayed =
        replays.length > 0
          ? await readReplays(
              client,
              replays.map((f) => f.step as Steps["replay"]),
            )
          : [];
      // The catalogue once per cache for the round.
      const catalogs = new Map<unknown, Promise<Catalog>>();

      for (const f of active) {
        const step = f.step!;
        {
          switch (step.kind) {
            case "state":
              f.step = answer(f, states.get(step.subjectId)!);
              break;
            case "catalog": {
              const cache = f.work.ctx.catalog;
              if (!cache) throw new LockstepAbort("no catalogue for a catalogue step");
              let c = catalogs.get(cache);
              if (!c) catalogs.set(cache, (c = cache.readKnowing(client, step.view === "committed" ? lastPublication : undefined)));
              f.step = answer(f, await c);
              break;
            }
            case "evidenceKey": {
              const kek = f.work.ctx.kek ?? null;
              let stored = storedKeys.get(step.subjectId) ?? null;
              if (stored === null) {
                stored = keyToStored(kek, step.subjectId, newEvidenceKey());
                storedKeys.set(step.subjectId, stored);
                written.keys.set(step.subjectId, stored);
                f.keys.push(step.subjectId);
              }
              f.step = answer(f, storedToKey(kek, step.subjectId, stored));
              break;
            }
            case "replay": {
              const r = replayed[replays.indexOf(f)]!;
              if (r instanceof LedgerError) fail(f, r);
              else f.step = answer(f, r);
              break;
            }
            case "history": {
              const { rows } = await client.query<EventRow>(`SELECT ${EVENT_COLUMNS} FROM events WHERE stream_id = $1 AND position <= $2 ORDER BY stream_version`, [
                step.stream,
                step.through,
              ]);
              f.step = answer(f, rows.map(rowToEvent));
              break;
            }
            case "append": {
              const current = versions.get(step.stream);
              if (current === undefined || owner.get(step.stream) !== f) throw new LockstepAbort("an append to a stream its command did not lock");
              if (step.expectedVersion !== null && step.expectedVersion !== current) {
                fail(
                  f,
                  new LedgerError("VERSION_CONFLICT", `expected version ${step.expectedVersion}, the stream is at ${current}`, {
                    expectedVersion: step.expectedVersion,
                    actualVersion: current,
                  }),
                );
                break;
              }
              if (step.events.length === 0) {
                f.step = answer(f, []);
                break;
              }
              if (tip === null) {
                // Optimistic: linked after the tip as read, without locking it; the write takes the
                // lock and checks that the tip has not moved (TipMoved otherwise).
                const seen = seenTip as TipRow | null;
                const predicted = optimistic?.predicted() ?? null;
                const base = predicted !== null && (seen === null || predicted.position > seen.position) ? predicted : seen;
                unlocked = held.tip === null && optimistic !== null && base !== null;
                tip = unlocked && base !== null ? { ...base } : { ...(await holdTip(client, held)) };
                afterPrevious = unlocked && base === predicted;
                baseTip = tip;
              }
              const recordedAt = Math.max(f.work.now, tip.recorded_at);
              const out = linkEvents(tip, step.stream, current, step.events, recordedAt);
              const last = out.at(-1)!;
              tip = {
                ...tip,
                position: last.position,
                hash: Buffer.from(last.hash, "hex"),
                recorded_at: recordedAt,
              };
              versions.set(step.stream, last.streamVersion);
              written.heads.set(step.stream, last.streamVersion);
              written.events.push(...out);
              if (step.before && !written.statusBefore.has(step.before.id)) written.statusBefore.set(step.before.id, fromDb.get(step.before.id) ?? step.before);
              for (const e of out) {
                const sid = e.subjectId;
                if (sid === null) continue;
                if (!written.statusBefore.has(sid) && fromDb.has(sid)) written.statusBefore.set(sid, fromDb.get(sid)!);
                const s = states.get(sid);
                if (s && e.streamId === subjectStream(sid)) states.set(sid, evolve(s, e));
                else {
                  states.delete(sid);
                  unknownSubjects.add(sid);
                }
              }
              f.wrote = true;
              f.lastPosition = last.position;
              f.step = answer(f, out);
              break;
            }
            case "erase":
              written.erasedSubjects.push(step.subjectId);
              written.forgotStreams.push(step.stream);
              written.keys.delete(step.subjectId);
              storedKeys.set(step.subjectId, null);
              f.wrote = true;
              f.step = answer(f, undefined);
              break;
            case "remember":
              if (step.events.length > 0) {
                written.remembered.push({
                  stream: step.stream,
                  key: step.idempotency.key,
                  hash: step.idempotency.requestHash,
                  first: step.events[0]!.position,
                  last: step.events.at(-1)!.position,
                });
                f.wrote = true;
              }
              f.step = answer(f, undefined);
              break;
            default:
              throw new LockstepAbort(`a ${step.kind} step is not run set-based`);
          }
        }
      }
      pending = pending.filter((f) => f.step !== null && !parked.includes(f));
    }

    const last = parked.length === 0;
    // The new keys of a command left out are not written.
    for (const f of flows) if (f.result?.kind === "failed") for (const k of f.keys.splice(0)) written.keys.delete(k);
    if (written.events.length > 0 || written.keys.size > 0 || written.erasedSubjects.length > 0 || written.remembered.length > 0) {
      await begin();
      // From here the write holds the tip (its row lock) to the COMMIT.
      if (held.since === 0) held.since = performance.now();
      if (afterPrevious && !(last && commit) && order) {
        // The write goes on its own (not with the COMMIT): the wait for the previous batch before it.
        await client.query("SELECT pg_advisory_xact_lock($1::bigint)", [order.previous]);
        afterPrevious = false;
      }
      const requests = await writeAll(client, written, baseTip, tip, last && commit ? send : null, unlocked, optimistic?.announce);
      events.push(...written.events);
      if (tip)
        held.tip = {
          ...tip,
          tree_leaves: requests.tree.leaves,
          tree_border: requests.tree.border,
        };
      if (requests.pending.length > 0) await writeRequests(client, requests.pending);
    }
    pending = parked;
  }
  if (!begun) await begin();
  return {
    results: flows.map(
      (f) =>
        f.result ?? {
          kind: "failed",
          error: new Error("a command's flow did not finish"),
        },
    ),
    committed,
    events,
  };

  /** Feeds a flow its answer; returns its next step, or null once it has ended (its result set). */
  function answer(f: Running, value: StepResult): Step | null {
    return advance(f, () => f.gen.next(value));
  }
  function fail(f: Running, error: unknown): void {
    if (f.wrote) throw new LockstepAbort("a step failed after its command wrote");
    f.result = { kind: "failed", error };
    f.step = null;
    f.gen.return(undefined);
  }
}

/** Runs the flow one step on; a throw ends it (left out of the batch, unless it wrote: then the batch runs another way). */
function advance(f: Running, next: () => IteratorResult<Step, unknown>): Step | null {
  let n: IteratorResult<Step, unknown>;
  try {
    n = next();
  } catch (e) {
    if (f.wrote) throw new LockstepAbort("a command threw after it wrote", { cause: e });
    f.result = { kind: "failed", error: e };
    f.step = null;
    return null;
  }
  if (n.done) {
    f.result = { kind: "done", value: n.value, lastPosition: f.lastPosition };
    f.step = null;
    return null;
  }
  f.step = n.value;
  return n.value;
}

/** Each replay's answer: the events its key appended before, null for a new key, or IDEMPOTENCY_CONFLICT. */
async function readReplays(client: pg.PoolClient, steps: readonly Steps["replay"][]): Promise<(LedgerEvent[] | null | LedgerError)[]> {
  const { rows } = await client.query<{
    stream_id: string;
    key: string;
    request_hash: string;
    first_position: string;
    last_position: string;
  }>(
    `SELECT r.stream_id, r.key, r.request_hash, r.first_position, r.last_position
     FROM unnest($1::text[], $2::text[]) AS i(stream_id, key) JOIN idempotency r ON r.stream_id = i.stream_id AND r.key = i.key`,
    [steps.map((s) => s.stream), steps.map((s) => s.idempotency.key)],
  );
  const found = (s: Steps["replay"]) => rows.find((r) => r.stream_id === s.stream && r.key === s.idempotency.key);
  const hits = steps.map(found).filter((r) => r !== undefined);
  let events: LedgerEvent[] = [];
  if (hits.length > 0) {
    const { rows: es } = await client.query<EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM events WHERE position IN (SELECT generate_series(f, l) FROM unnest($1::bigint[], $2::bigint[]) AS r(f, l)) ORDER BY position`,
      [hits.map((h) => h!.first_position), hits.map((h) => h!.last_position)],
    );
    events = es.map(rowToEvent);
  }
  return steps.map((s) => {
    const r = found(s);
    if (!r) return null;
    if (r.request_hash !== s.idempotency.requestHash) return new LedgerError("IDEMPOTENCY_CONFLICT", "this idempotency key was used before with other input");
    return events.filter((e) => e.position >= Number(r.first_position) && e.position <= Number(r.last_position));
  });
}

/**
 * Writes a sub-batch in one statement (sent with the COMMIT through `withCommit` when given and no
 * rarer read-model write has to follow); returns the tree's new state and the rarer events' writes left.
 */
async function writeAll(
  client: pg.PoolClient,
  w: Written,
  baseTip: TipRow | null,
  tip: TipRow | null,
  withCommit: (<R extends pg.QueryResultRow>(text: string, values: unknown[], withCommit: boolean) => Promise<R[]>) | null,
  checked: boolean,
  announce?: (tip: TipRow) => void,
): Promise<{
  tree: { leaves: number; border: Buffer };
  pending: LedgerEvent[];
}> {
  const subjects = [...new Set(w.events.flatMap((e) => (e.subjectId === null ? [] : [e.subjectId])))];
  const unknown = subjects.filter((s) => !w.statusBefore.has(s));
  const statuses = new Map(w.statusBefore);
  for (const [id, l] of await statusesBefore(client, unknown)) statuses.set(id, l);
  const p = projectionWrites(w.events, statuses);
  // Keys, erasures and idempotency records come only with a command's events.
  if (!baseTip || !tip) throw new LockstepAbort("a write without events");
  const tree = extendTree(
    baseTip.position,
    baseTip,
    w.events.map((e) => e.hash),
  );
  const t = tip;
  const values: unknown[] = [
    JSON.stringify(eventRows(w.events)),
    t.position,
    t.hash.toString("hex"),
    t.recorded_at,
    tree.leaves,
    tree.border,
    [...w.heads.keys()],
    [...w.heads.values()],
    tree.postOrders,
    tree.hashes,
    w.erasedSubjects,
    [...w.keys.keys()],
    [...w.keys.values()],
    w.forgotStreams,
    w.remembered.map((r) => r.stream),
    w.remembered.map((r) => r.key),
    w.remembered.map((r) => r.hash),
    w.remembered.map((r) => r.first),
    w.remembered.map((r) => r.last),
    baseTip.position,
    baseTip.hash.toString("hex"),
    baseTip.tree_leaves,
    baseTip.tree_border,
    baseTip.recorded_at,
    ...p.params,
  ];
  const text = `${writeSql(checked)}
  ${p.ctes(25)}
  SELECT ${WRITE_COUNTS}, ${PROJECTION_COUNTS}`;
  try {
    if (withCommit && p.requests.length === 0) {
      const sent = withCommit(text, values, true);
      announce?.({ ...t, tree_leaves: tree.leaves, tree_border: tree.border });
      await sent;
    }
    else await client.query(text, values);
  } catch (e) {
    // The one division in the statement: the tip had moved (see writeSql).
    if ((e as { code?: string }).code === "22012") throw new TipMoved("the chain tip moved after the batch read it", { cause: e });
    throw e;
  }
  return {
    tree: { leaves: tree.leaves, border: tree.border },
    pending: p.requests,
  };
}
