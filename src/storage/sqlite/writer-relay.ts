// The primary's side of ProcessWriter: one relayed request run on the writer this process owns.
import type { SqliteWrites } from "./sqlite-writer.js";
import { type WriterReply, type WriterRequest, toWire } from "./writer-protocol.js";

/** Runs `r` on `writer` and answers it as the writer thread would, with what the writer says of its connection now. */
export async function runWriterRequest(writer: SqliteWrites, r: WriterRequest): Promise<WriterReply> {
  try {
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
