// C2SP tlog-checkpoint (https://c2sp.org/tlog-checkpoint): the body of a signed note naming a tree.
import { HASH_BYTES } from "../merkle/hash.js";
import { NoteError, decodeBase64 } from "./signed-note.js";

/** What a checkpoint says: this log (origin) had this many leaves with this root. */
export interface CheckpointBody {
  origin: string;
  treeSize: number;
  root: Buffer;
}

/** The note text: origin, tree size, base64 root, each on its own line. */
export function formatCheckpoint(c: CheckpointBody): string {
  if (c.origin === "" || /[\n\r]/.test(c.origin)) throw new NoteError("a checkpoint's origin is one non-empty line");
  if (!Number.isSafeInteger(c.treeSize) || c.treeSize < 0) throw new NoteError(`${c.treeSize} is not a tree size`);
  if (c.root.length !== HASH_BYTES) throw new NoteError("a checkpoint's root is a SHA-256 hash");
  return `${c.origin}\n${c.treeSize}\n${c.root.toString("base64")}\n`;
}

/** Reads a checkpoint's note text (extension lines after the root are allowed and left out). */
export function parseCheckpoint(text: string): CheckpointBody {
  const lines = text.split("\n");
  if (lines.length < 4 || lines.at(-1) !== "") throw new NoteError("a checkpoint has an origin, a tree size and a root, each on a line");
  const [origin, size, root] = lines as [string, string, string];
  if (origin === "") throw new NoteError("the checkpoint has no origin");
  if (!/^(0|[1-9][0-9]*)$/.test(size) || !Number.isSafeInteger(Number(size))) throw new NoteError("the checkpoint's tree size is not a decimal number");
  const hash = decodeBase64(root, "the checkpoint's root");
  if (hash.length !== HASH_BYTES) throw new NoteError("the checkpoint's root is not a SHA-256 hash");
  return { origin, treeSize: Number(size), root: hash };
}
