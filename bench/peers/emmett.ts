// The store against a peer: Emmett's SQLite event store appending the same events to a file DB.
import { join } from "node:path";
import { CONCURRENCY, storeAppends } from "../store-append.js";
import { type BenchOptions, type BenchRow, fmt, grantData, median, notMeasured, since, tempDir } from "../util.js";
import { ensurePeers, importPeer, peerVersion } from "./install.js";

interface EmmettSqlite {
  getSQLiteEventStore(options: { fileName: string }): {
    appendToStream(streamName: string, events: { type: string; data: Record<string, unknown> }[]): Promise<unknown>;
  };
}

const WHAT = "store appends/s against a peer: Emmett's SQLite event store";
const AIM = "ahead of it";

/**
 * Emmett, one appender at a time. With concurrent appenders it does not work here: 32 appenders on one
 * store instance hang (its connection is shared and closed after each call), and 32 instances on one file
 * fail with SQLITE_BUSY; so its best working mode is measured.
 */
async function emmettAppends(mod: EmmettSqlite, path: string, total: number): Promise<{ perSecond: number; failures: number; firstError: string | null }> {
  let store = mod.getSQLiteEventStore({ fileName: path });
  await store.appendToStream("warmup-0", [{ type: "Warmup", data: {} }]); // creates the schema
  let failures = 0;
  let firstError: string | null = null;
  const start = performance.now();
  for (let i = 0; i < total; i++) {
    // Emmett on a file DB sometimes fails a commit with SQLITE_BUSY ("SQL statements in progress") even with
    // one appender; the append is retried on a fresh store instance, and the failures are reported.
    for (let attempt = 0; ; attempt++) {
      try {
        await store.appendToStream(`subject-s${i % CONCURRENCY}`, [{ type: "ConsentGranted", data: grantData(i) }]);
        break;
      } catch (e) {
        failures++;
        firstError ??= e instanceof Error ? e.message : String(e);
        if (attempt >= 3) throw e;
        store = mod.getSQLiteEventStore({ fileName: path });
      }
    }
  }
  return { perSecond: (total / since(start)) * 1000, failures, firstError };
}

export async function benchEmmett(o: BenchOptions): Promise<BenchRow[]> {
  const how = "Emmett's SQLite event store (@event-driven-io/emmett-sqlite), installed on demand into bench/.peers, appending the same events as the row above.";
  const failure = await ensurePeers({ "@event-driven-io/emmett-sqlite": "0.38.5", "@event-driven-io/emmett": "0.38.5", sqlite3: "^5.1.7" });
  if (failure) return [notMeasured("emmett", WHAT, "—", AIM, how, failure)];
  let mod: EmmettSqlite;
  try {
    mod = await importPeer<EmmettSqlite>("@event-driven-io/emmett-sqlite");
  } catch (e) {
    return [notMeasured("emmett", WHAT, "—", AIM, how, `cannot load @event-driven-io/emmett-sqlite: ${e instanceof Error ? e.message : String(e)}`)];
  }
  const version = peerVersion("@event-driven-io/emmett-sqlite");
  const n = o.quick ? 40 : 400;
  const grouped = o.quick ? 640 : 9_600;
  const runs: { emmett: number; ours32: number; ours1: number }[] = [];
  let failures = 0;
  let firstError: string | null = null;
  for (let r = 0; r < o.runs; r++) {
    const t = tempDir();
    try {
      const e = await emmettAppends(mod, join(t.dir, "emmett.db"), n);
      failures += e.failures;
      firstError ??= e.firstError;
      const ours32 = await storeAppends(join(t.dir, "ours-32.db"), grouped, CONCURRENCY);
      const ours1 = await storeAppends(join(t.dir, "ours-1.db"), n, 1);
      runs.push({ emmett: e.perSecond, ours32, ours1 });
    } catch (e) {
      return [notMeasured("emmett", WHAT, "—", AIM, how, `Emmett failed to append here: ${e instanceof Error ? e.message : String(e)}`)];
    } finally {
      t.cleanup();
    }
  }
  const failureNote =
    failures > 0 ? ` Emmett failed ${failures} append(s) over the runs with "${firstError}"; each was retried on a fresh store instance, and the retries count in its time.` : "";
  const emmett = median(runs.map((x) => x.emmett));
  const vs32 = median(runs.map((x) => x.ours32 / x.emmett));
  const vs1 = median(runs.map((x) => x.ours1 / x.emmett));
  const common = `Emmett @event-driven-io/emmett-sqlite ${version} (on node-sqlite3, WAL, its default synchronous=FULL), file DB in a temp dir, appending the same ConsentGranted events (same data) to 32 subject streams; median of ${o.runs} runs, each measuring both.${failureNote}`;
  return [
    {
      bench: "emmett",
      what: `${WHAT} — ours with ${CONCURRENCY} appenders`,
      figure: `${fmt(median(runs.map((x) => x.ours32)))} appends/s (ours, ${CONCURRENCY} appenders)`,
      baseline: `${fmt(emmett, 1)} appends/s Emmett (1 appender)`,
      ratio: vs32,
      aim: AIM,
      met: vs32 > 1,
      how: `${common} Emmett cannot take ${CONCURRENCY} concurrent appenders here: on one store instance they hang (the instance shares one connection and closes it after each call, under the other appends), and ${CONCURRENCY} instances on one file fail with SQLITE_BUSY. So Emmett runs one append at a time (${n} appends), its best working mode, and ours runs as the row above (${grouped.toLocaleString("en-US")} appends, ${CONCURRENCY} appenders).`,
      values: { ratio: vs32, emmett },
    },
    {
      bench: "emmett",
      what: `${WHAT} — both with 1 appender`,
      figure: `${fmt(median(runs.map((x) => x.ours1)))} appends/s (ours, 1 appender)`,
      baseline: `${fmt(emmett, 1)} appends/s Emmett (1 appender)`,
      ratio: vs1,
      aim: AIM,
      met: vs1 > 1,
      how: `${common} Both one append at a time (${n} appends each): one commit and fsync per append for both; Emmett also opens and closes a SQLite connection per call for a file DB.`,
      values: { ratio: vs1 },
    },
  ];
}
