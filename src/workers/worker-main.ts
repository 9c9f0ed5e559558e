// A worker process (WORKERS > 1): the service's request pipeline on connections its primary hands
// over, with writes relayed to the primary's writer (SQLite) and the jobs that run once left to it.
import "reflect-metadata";
import type { Socket } from "node:net";
import { type App, createLogger, startApp } from "../app.js";
import { COUNTED_BY_THE_WRITER } from "../domain/write-quota.js";
import { ProcessWriter } from "../open-storage.js";
import { type LimitAnswer } from "./limits-host.js";
import { limitsOverChannel } from "./limits-client.js";
import { type FromWorker, Outbox, type ToWorker, isBatch } from "./protocol.js";

const outbox = new Outbox<FromWorker>((batch) => {
  if (process.connected) process.send!(batch);
});
let app: App | null = null;
let writer: ProcessWriter | null = null;
let nextId = 1;
const relayed = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
const metricsTexts = new Map<number, (text: string) => void>();
const limitAnswers = new Map<number, (answer: LimitAnswer) => void>();
const limits = limitsOverChannel(
  (ask) =>
    new Promise<LimitAnswer>((resolve) => {
      const id = nextId++;
      limitAnswers.set(id, resolve);
      outbox.push({ t: "limit", id, ask });
    }),
);

function ask(m: { t: "webhooks"; op: "refresh" } | { t: "webhooks"; op: "forget"; webhookId: string }): Promise<void> {
  const id = nextId++;
  return new Promise<void>((resolve, reject) => {
    relayed.set(id, { resolve, reject });
    outbox.push({ ...m, id });
  });
}

async function start(init: Extract<ToWorker, { t: "init" }>): Promise<void> {
  const { config } = init;
  const logger = createLogger(config.logLevel).child({ worker: init.index });
  if (config.database.kind === "sqlite") writer = new ProcessWriter((request) => outbox.push({ t: "write", requests: [request] }), init.writable);
  // A test's clock, moved by the primary's messages; the real time otherwise.
  const clock = init.clockAt === undefined ? {} : { clock: () => testClock.at, clockMoved: (l: () => void) => (testClock.listeners.add(l), () => void testClock.listeners.delete(l)) };
  if (init.clockAt !== undefined) testClock.at = init.clockAt;
  try {
    app = await startApp(config, {
      logger,
      ...clock,
      worker: {
        sqliteWrites: writer,
        // SQLite: the primary counts each write's quota where it arrives, in the same round trip as the write.
        limits: writer ? { ...limits, writeQuota: COUNTED_BY_THE_WRITER } : limits,
        dispatcher: { refresh: () => ask({ t: "webhooks", op: "refresh" }), forget: (webhookId) => ask({ t: "webhooks", op: "forget", webhookId }) },
        metricsText: () =>
          new Promise<string>((resolve) => {
            const id = nextId++;
            metricsTexts.set(id, resolve);
            outbox.push({ t: "metrics", id });
          }),
      },
    });
  } catch (e) {
    outbox.push({ t: "failed", message: e instanceof Error ? e.message : String(e) });
    outbox.flush();
    process.exitCode = 1;
    process.disconnect();
    return;
  }
  outbox.push({ t: "ready" });
}

const testClock = { at: 0, listeners: new Set<() => void>() };

let closing = false;
function close(): void {
  if (closing) return;
  closing = true;
  const done = app ? app.close() : Promise.resolve();
  done.then(
    () => process.exit(0),
    () => process.exit(1),
  );
}

function receive(m: ToWorker, handle: unknown): void {
  switch (m.t) {
    case "init":
      void start(m);
      return;
    case "connection": {
      const socket = handle as Socket | undefined;
      outbox.push({ t: "accepted", id: m.id });
      if (!socket) return;
      if (!app || closing) return void socket.destroy();
      app.server.httpServer.emit("connection", socket);
      socket.resume();
      return;
    }
    case "commit":
      writer?.committed(m.events);
      return;
    case "reply":
      writer?.receive(m.reply);
      return;
    case "relayed": {
      const r = relayed.get(m.id);
      relayed.delete(m.id);
      if (m.ok) r?.resolve();
      else r?.reject(new Error(m.message ?? "the primary could not tell its webhook dispatcher"));
      return;
    }
    case "metricsOf":
      if (!app) return outbox.push({ t: "metricsOf", id: m.id, json: [] });
      void app.metrics.registry.getMetricsAsJSON().then((json) => outbox.push({ t: "metricsOf", id: m.id, json }));
      return;
    case "metricsText":
      metricsTexts.get(m.id)?.(m.text);
      metricsTexts.delete(m.id);
      return;
    case "clock":
      testClock.at = m.at;
      for (const l of [...testClock.listeners]) l();
      outbox.push({ t: "clockAt", seq: m.seq });
      return;
    case "limited":
      limitAnswers.get(m.id)?.(m.answer);
      limitAnswers.delete(m.id);
      return;
    case "close":
      close();
      return;
  }
}

process.on("message", (raw: unknown, handle: unknown) => {
  if (isBatch<ToWorker>(raw)) for (const m of raw.messages) receive(m, undefined);
  else receive(raw as ToWorker, handle);
});
// The primary went away (killed outright): nothing can be written or answered; the worker goes with it.
process.on("disconnect", () => {
  writer?.lost();
  process.exit(1);
});
// Signals are the primary's to handle: it tells each worker to drain (a terminal's Ctrl-C reaches the whole group).
process.on("SIGINT", () => undefined);
process.on("SIGTERM", () => undefined);
