// The writer thread's entry: one SqliteWriter on its own connection, so that group commit and its
// fsync run off the main thread's event loop. Answers each request once its commit is durable.
import { parentPort, workerData } from "node:worker_threads";
import type { CommandProgram } from "../command-steps.js";
import { SqliteWriter } from "./sqlite-writer.js";
import { type WriterData, type WriterReply, type WriterRequest, toWire } from "./writer-protocol.js";

const port = parentPort!;

/**
 * Replies go out together, one message per turn of this thread's loop: a group commit's events and
 * its commands' answers (which hold the same events) cross, and are copied, once. Queued in order,
 * so a commit's events still come before its commands' answers.
 */
let outbox: WriterReply[] = [];
const sendOutbox = () => {
  const replies = outbox;
  outbox = [];
  port.postMessage(replies);
};
const post = (m: WriterReply) => {
  if (outbox.push(m) === 1) setImmediate(sendOutbox);
};

let writer: SqliteWriter;
try {
  const data = workerData as WriterData;
  // The command flow is the application's, named by the thread's starter (this adapter does not import it).
  const commands = data.commands === null ? null : ((await import(data.commands)) as { commandProgram: CommandProgram }).commandProgram;
  writer = new SqliteWriter(data.path, { evidenceKek: data.evidenceKek, commands });
} catch (e) {
  port.postMessage([{ kind: "failed", error: toWire(e) }] satisfies WriterReply[]);
  process.exit(1);
}

// A commit's events go out before its commands' answers (those settle in later microtasks), so the
// main thread's caches and the change feed have them when a mutation answers.
writer.onCommit((events) => post({ kind: "commit", events }));

let inFlight = 0;
let drained: (() => void) | null = null;

function run(id: number, work: () => Promise<unknown>): void {
  inFlight++;
  work().then(
    (value) => post({ kind: "result", id, ok: true, value, writable: writer.isWritable() }),
    (error: unknown) => post({ kind: "result", id, ok: false, error: toWire(error), writable: writer.isWritable() }),
  ).finally(() => {
    if (--inFlight === 0) drained?.();
  });
}

// The main thread sends the requests of one turn of its loop together, in the order they were made.
port.on("message", (requests: readonly WriterRequest[]) => {
  for (const m of requests) accept(m);
});

function accept(m: WriterRequest): void {
  switch (m.op) {
    case "execute":
      return run(m.id, () => writer.execute(m.request));
    case "catchUpTree":
      return run(m.id, () => writer.catchUpTree(m.chunk));
    case "saveCheckpoint":
      // The root arrives as a plain Uint8Array; the driver binds a Buffer. The answer is null when
      // this checkpoint was stored, else the larger one already stored (the caller tells them apart).
      return run(m.id, async () => {
        const checkpoint = { ...m.checkpoint, root: Buffer.from(m.checkpoint.root) };
        const latest = await writer.saveCheckpoint(checkpoint);
        return latest === checkpoint ? null : latest;
      });
    case "wrapEvidenceKeys":
      return run(m.id, () => writer.wrapEvidenceKeys());
    case "rebuild":
      return run(m.id, () => writer.rebuild());
    case "commits":
      return run(m.id, () => writer.commits());
    case "probe":
      return run(m.id, async () => writer.isWritable());
    case "close":
      // Everything accepted before this request commits and is answered; then the connection closes.
      return run(m.id, async () => {
        inFlight--;
        try {
          await writer.close();
          if (inFlight > 0) await new Promise<void>((resolve) => (drained = resolve));
        } finally {
          inFlight++;
        }
      });
  }
}

post({ kind: "ready", writable: writer.isWritable() });
