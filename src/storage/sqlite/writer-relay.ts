// The primary's side of ProcessWriter: one relayed request run on the writer this process owns.
import type { CommandRequest } from "../storage-port.js";
import type { SqliteWrites } from "./sqlite-writer.js";
import { type WriterReply, type WriterRequest, toWire } from "./writer-protocol.js";

/**
 * Runs `r` on `writer` and answers it as the writer thread would, with what the writer says of its
 * connection now. `admit` is asked first of a command: what it throws is the answer, and the writer never has the command.
 */
export async function runWriterRequest(writer: SqliteWrites, r: WriterRequest, admit?: (request: CommandRequest) => void | Promise<void>): Promise<WriterReply> {
  try {
    // Admitted in this same turn when `admit` answers at once: requests reach the writer in the order they came.
    const admitted = admit && r.op === "execute" ? admit(r.request) : undefined;
    if (admitted) await admitted;
    const value = await run(writer, r);
    return { kind: "result", id: r.id, ok: true, value, writable: writer.isWritable() };
  } catch (e) {
    return { kind: "result", id: r.id, ok: false, error: toWire(e), writable: writer.isWritable() };
  }
}

function run(writer: SqliteWrites, r: WriterRequest): Promise<unknown> {
  switch (r.op) {
    case "execute":
      return writer.execute(r.request);
    case "catchUpTree":
      return writer.catchUpTree(r.chunk);
    case "saveCheckpoint":
      return writer.saveCheckpoint({ ...r.checkpoint, root: Buffer.from(r.checkpoint.root) });
    case "wrapEvidenceKeys":
      return writer.wrapEvidenceKeys();
    case "rebuild":
      return writer.rebuild();
    case "commits":
      return writer.commits();
    case "probe":
      return Promise.resolve(writer.isWritable());
    // The writer is the owner's to close.
    case "close":
      return Promise.resolve(null);
  }
}
