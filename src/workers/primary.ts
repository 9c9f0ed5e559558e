// WORKERS > 1: this process (the primary) keeps the one writer and the jobs that must run once, and
// runs `count` worker processes that serve requests. It accepts every connection on the service's
// port and hands it to a worker in turn (as node:cluster's round-robin does), relays the workers'
// SQLite writes to its writer and sends every commit to every worker. A worker that dies is replaced.
import { type ChildProcess, fork } from "node:child_process";
import { type Server, createServer } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import type { Logger } from "pino";
import { AggregatorRegistry } from "prom-client";
import type { Config } from "../config.js";
import type { LedgerEvent } from "../domain/events.js";
import type { RunningServer } from "../http/server.js";
import type { Metrics } from "../http/metrics.js";
import { type SqliteWrites, type WriterRequest, runWriterRequest } from "../open-storage.js";
import type { Dispatcher } from "../webhooks/dispatcher.js";
import type { SharedLimits } from "../limits/shared-limits.js";
import type { SlotTable } from "../limits/slots.js";
import { quotaOf } from "../domain/write-quota.js";
import type { CommandRequest } from "../storage/storage-port.js";
import { LimitsHost } from "./limits-host.js";
import { type FromWorker, type MetricsJson, Outbox, type ToWorker, isBatch } from "./protocol.js";

/** Delays before starting a worker again after it died: doubling from the first to the last. */
const RESTART_FIRST_MS = 100;
const RESTART_MAX_MS = 5_000;

export interface PrimaryDeps {
  config: Config;
  logger: Logger;
  /** The SQLite writer the workers' writes go to; null on PostgreSQL, where every worker writes itself. */
  writer: SqliteWrites | null;
  /** Commits of the one writer (SQLite), sent on to every worker. */
  onCommit: (listener: (events: readonly LedgerEvent[]) => void) => () => void;
  dispatcher: Pick<Dispatcher, "refresh" | "forget">;
  metrics: Metrics;
  /** The service's per-caller and per-subject counts, which every worker asks about. */
  limits: SharedLimits & { slots: SlotTable };
  /** A test's clock instead of the real time, and how it tells of its moves: the workers follow it (IPC), tests only. */
  clock?: { now: () => number; moved?: (listener: () => void) => () => void };
}

/** How a worker process is started: from compiled JavaScript as is, from the TypeScript sources with the type-stripping hooks. */
function workerEntry(): { path: string; execArgv: string[] } {
  if (!import.meta.url.endsWith(".ts")) return { path: new URL("./worker-main.js", import.meta.url).pathname, execArgv: [] };
  const register = new URL("../../scripts/ts-source-register.mjs", import.meta.url).pathname;
  return { path: new URL("./worker-main.ts", import.meta.url).pathname, execArgv: ["--import", register] };
}

class WorkerProcess {
  ready = false;
  /** The test clock's last move this worker said it follows. */
  clockSeq = 0;
  /**
   * Connections sent to this worker that it has not yet said it took: the primary keeps its copy of
   * each until then, and closes it then, or when the worker dies first (its client sees the
   * connection close, never a request left hanging).
   */
  readonly handed = new Map<number, Socket>();
  readonly outbox: Outbox<ToWorker>;
  constructor(
    readonly index: number,
    readonly child: ChildProcess,
  ) {
    this.outbox = new Outbox((batch) => {
      if (child.connected) child.send(batch, (e) => void e);
    });
  }
}

export async function startWorkers(deps: PrimaryDeps): Promise<RunningServer & { workerPids(): number[]; clockSynced(): Promise<void> }> {
  const { config, logger, writer } = deps;
  const count = config.workers;
  const slots: (WorkerProcess | null)[] = Array.from({ length: count }, () => null);
  let closing = false;
  let turn = 0;
  /** Connections accepted while no worker was ready (all of them starting again). */
  const parked: Socket[] = [];
  const restartDelay = new Array<number>(count).fill(RESTART_FIRST_MS);
  let nextMetricsId = 1;
  let nextConnection = 1;
  const metricsWaits = new Map<number, { want: Set<number>; got: MetricsJson[]; done: () => void }>();

  const limits = new LimitsHost(deps.limits);
  const entry = workerEntry();
  const broadcast = (m: ToWorker) => {
    for (const w of slots) w?.outbox.push(m);
  };
  const offCommit = writer ? deps.onCommit((events) => broadcast({ t: "commit", events })) : () => undefined;
  // A test's clock: each move goes to every worker at once (before anything the test sends next on
  // this side), and clockSynced() resolves once every worker follows it.
  let clockSeq = 0;
  const clockWaits: (() => void)[] = [];
  const clockFollowed = () => slots.every((w) => !w?.ready || w.clockSeq >= clockSeq);
  const clockMoved = () => {
    if (clockFollowed()) for (const done of clockWaits.splice(0)) done();
  };
  const offClock =
    deps.clock?.moved?.(() => {
      clockSeq++;
      for (const w of slots) {
        w?.outbox.push({ t: "clock", at: deps.clock!.now(), seq: clockSeq });
        w?.outbox.flush();
      }
    }) ?? (() => undefined);

  const handOff = (socket: Socket): void => {
    for (let i = 0; i < count; i++) {
      const w = slots[turn++ % count];
      if (w?.ready && w.child.connected) {
        // Whatever was queued for this worker goes first; the socket follows on the same channel.
        w.outbox.flush();
        const id = nextConnection++;
        w.handed.set(id, socket);
        w.child.send({ t: "connection", id } satisfies ToWorker, socket, { keepOpen: true }, (e) => {
          if (e && w.handed.delete(id)) socket.destroy();
        });
        return;
      }
    }
    parked.push(socket);
  };

  // A worker's command is counted against its subject's write quota here, as it arrives, before the
  // writer has it: one round trip per write. A refusal is answered as the writer's own errors are.
  const admit = (request: CommandRequest): void | Promise<void> => {
    const quota = quotaOf(request.command);
    return quota ? deps.limits.writeQuota.take(quota.subjectId, quota.always) : undefined;
  };
  const relayWrite = async (w: WorkerProcess, r: WriterRequest): Promise<void> => {
    w.outbox.push({ t: "reply", reply: await runWriterRequest(writer!, r, admit) });
  };

  const metricsOfAll = async (): Promise<string> => {
    const id = nextMetricsId++;
    const live = slots.filter((w): w is WorkerProcess => w !== null && w.ready);
    const got: MetricsJson[] = [await deps.metrics.registry.getMetricsAsJSON()];
    await new Promise<void>((done) => {
      const want = new Set(live.map((w) => w.index));
      if (want.size === 0) return done();
      metricsWaits.set(id, { want, got, done });
      for (const w of live) w.outbox.push({ t: "metricsOf", id });
    });
    metricsWaits.delete(id);
    return AggregatorRegistry.aggregate(got as Parameters<typeof AggregatorRegistry.aggregate>[0]).metrics();
  };

  const metricsArrived = (index: number, id: number, json: MetricsJson | null) => {
    const wait = metricsWaits.get(id);
    if (!wait || !wait.want.delete(index)) return;
    if (json) wait.got.push(json);
    if (wait.want.size === 0) wait.done();
  };

  const receive = (w: WorkerProcess, m: FromWorker): void => {
    switch (m.t) {
      case "write":
        for (const r of m.requests) void relayWrite(w, r);
        return;
      case "webhooks": {
        const done = m.op === "refresh" ? deps.dispatcher.refresh() : deps.dispatcher.forget(m.webhookId);
        done.then(
          () => w.outbox.push({ t: "relayed", id: m.id, ok: true }),
          (e: unknown) => w.outbox.push({ t: "relayed", id: m.id, ok: false, message: e instanceof Error ? e.message : String(e) }),
        );
        return;
      }
      case "metrics":
        metricsOfAll().then(
          (text) => w.outbox.push({ t: "metricsText", id: m.id, text }),
          (e: unknown) => w.outbox.push({ t: "metricsText", id: m.id, text: `# metrics could not be gathered: ${e instanceof Error ? e.message : String(e)}\n` }),
        );
        return;
      case "metricsOf":
        return metricsArrived(w.index, m.id, m.json);
      case "clockAt":
        w.clockSeq = m.seq;
        return clockMoved();
      case "accepted":
        w.handed.get(m.id)?.destroy();
        w.handed.delete(m.id);
        return;
      case "limit":
        limits.answer(w, m.ask).then(
          (answer) => w.outbox.push({ t: "limited", id: m.id, answer }),
          (e: unknown) => {
            logger.error({ err: e }, "a worker's limit question could not be answered");
            w.outbox.push({ t: "limited", id: m.id, answer: { ok: false, error: { code: "INTERNAL_SERVER_ERROR", message: "the limit could not be checked" } } });
          },
        );
        return;
      case "ready":
      case "failed":
        return;
    }
  };

  /** Starts the worker of slot `index`; resolves once it serves (rejects when it fails to start). */
  const spawn = (index: number): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      const child = fork(entry.path, [], { execArgv: [...process.execArgv.filter((a) => !a.startsWith("--inspect")), ...entry.execArgv], serialization: "advanced", stdio: ["ignore", "inherit", "inherit", "ipc"] });
      const w = new WorkerProcess(index, child);
      slots[index] = w;
      let failure: string | null = null;
      child.on("message", (raw: unknown) => {
        const messages = isBatch<FromWorker>(raw) ? raw.messages : [raw as FromWorker];
        for (const m of messages) {
          if (m.t === "ready") {
            w.ready = true;
            restartDelay[index] = RESTART_FIRST_MS;
            for (const s of parked.splice(0)) handOff(s);
            resolve();
          } else if (m.t === "failed") failure = m.message;
          else receive(w, m);
        }
      });
      child.on("error", (e) => logger.error({ err: e, worker: index }, "worker process error"));
      child.on("exit", (code, signal) => {
        if (slots[index] === w) slots[index] = null;
        // Whatever its connections and operations held is free again.
        limits.forget(w);
        clockMoved();
        for (const socket of w.handed.values()) socket.destroy();
        w.handed.clear();
        for (const [id] of metricsWaits) metricsArrived(index, id, null);
        if (!w.ready) return reject(new Error(`worker ${index} did not start: ${failure ?? `exited with ${signal ?? code}`}`));
        if (closing) return;
        logger.warn({ worker: index, pid: child.pid, code, signal }, `worker ${index} exited (${signal ?? `code ${code}`}); starting another`);
        restart(index);
      });
      // The configuration goes by message, not environment: tests start the service with settings of their own.
      w.clockSeq = clockSeq;
      w.outbox.push({ t: "init", config, index, writable: writer ? writer.isWritable() : true, ...(deps.clock ? { clockAt: deps.clock.now() } : {}) });
    });

  const restart = (index: number): void => {
    const delay = restartDelay[index]!;
    setTimeout(() => {
      if (closing) return;
      spawn(index).catch((e: unknown) => {
        logger.error({ err: e, worker: index }, "starting a worker again failed; retrying");
        restartDelay[index] = Math.min(delay * 2, RESTART_MAX_MS);
        if (!closing) restart(index);
      });
    }, delay).unref();
  };

  const listener: Server = createServer();
  // The primary reads nothing from a connection: the worker it goes to does (socket.resume() there).
  (listener as unknown as { pauseOnConnect: boolean }).pauseOnConnect = true;
  listener.removeAllListeners("connection");
  listener.on("connection", handOff);

  try {
    await Promise.all(slots.map((_, i) => spawn(i)));
    await new Promise<void>((resolve, reject) => {
      listener.once("error", reject);
      listener.listen(config.port, config.host, () => resolve());
    });
  } catch (e) {
    closing = true;
    offCommit();
    offClock();
    for (const w of slots) w?.child.kill("SIGKILL");
    throw e;
  }
  const port = (listener.address() as AddressInfo).port;
  const host = config.host.includes(":") ? `[${config.host}]` : config.host;
  let stopping: Promise<void> | null = null;
  return {
    url: `http://${host}:${port}/graphql`,
    port,
    httpServer: listener,
    workerPids: () => slots.flatMap((w) => (w?.child.pid !== undefined ? [w.child.pid] : [])),
    clockSynced: () => (clockFollowed() ? Promise.resolve() : new Promise<void>((resolve) => clockWaits.push(resolve))),
    close: () =>
      (stopping ??= (async () => {
        closing = true;
        listener.close();
        for (const s of parked.splice(0)) s.destroy();
        // Each worker drains its requests and subscriptions, its writes still relayed, then exits.
        await Promise.all(
          slots.map((w) => {
            if (!w || w.child.exitCode !== null || w.child.signalCode !== null) return Promise.resolve();
            return new Promise<void>((resolve) => {
              w.child.once("exit", () => resolve());
              w.outbox.push({ t: "close" });
            });
          }),
        );
        offCommit();
        offClock();
      })()),
  };
}
