// The auditor's offline check of a saved proof: only the proof file and the checkpoint verifier key are needed.
import { type CheckpointBody, parseCheckpoint } from "../log/checkpoint/checkpoint.js";
import { NoteError, type VerifierKey, decodeBase64, openNote, parseVerifierKey } from "../log/checkpoint/signed-note.js";
import { leafHash } from "../log/merkle/hash.js";
import { ProofError, verifyConsistency, verifyInclusion } from "../log/merkle/verify.js";

export interface ProofReport {
  ok: boolean;
  kind: "inclusion" | "consistency" | null;
  /** What was proved, in one line, when it holds. */
  proved: string | null;
  /** Why it does not hold, in one line; null when it does. */
  problem: string | null;
}

export interface VerifyProofOptions {
  /** The verifier key text from /.well-known/ledger-checkpoint-key. */
  verifierKey: string;
  /** For an inclusion proof: the event's hash (hex, as in the receipt), which the proven leaf must be. */
  eventHash?: string;
  /** For a consistency proof: the earlier checkpoint the auditor holds (a saved ledgerCheckpoint result, or its note). */
  earlierCheckpoint?: string;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

/** The proof object in a saved file: the GraphQL response as received, its `data`, or the proof itself. */
function proofObject(parsed: unknown): { kind: "inclusion" | "consistency"; proof: Json } {
  let o: unknown = parsed;
  if (isObject(o) && isObject(o["data"])) o = o["data"];
  if (isObject(o) && isObject(o["inclusionProof"])) return { kind: "inclusion", proof: o["inclusionProof"] };
  if (isObject(o) && isObject(o["consistencyProof"])) return { kind: "consistency", proof: o["consistencyProof"] };
  if (isObject(o) && "leafIndex" in o) return { kind: "inclusion", proof: o };
  if (isObject(o) && "fromSize" in o) return { kind: "consistency", proof: o };
  throw new ProofError("the file holds no inclusionProof or consistencyProof");
}

function int(o: Json, name: string): number {
  const v = o[name];
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) throw new ProofError(`${name} is not a whole number`);
  return v;
}

function hashes(o: Json): Buffer[] {
  const v = o["hashes"];
  if (!Array.isArray(v) || !v.every((h) => typeof h === "string")) throw new ProofError("hashes is not a list of base64 strings");
  return v.map((h: string, i) => decodeBase64(h, `hash ${i}`));
}

/** The checkpoint a note signs, checked against the key; a NoteError when the signature does not hold. */
function signedCheckpoint(note: unknown, key: VerifierKey): CheckpointBody {
  if (typeof note !== "string") throw new ProofError("the checkpoint has no note");
  return parseCheckpoint(openNote(note, key));
}

/** A saved checkpoint: a ledgerCheckpoint response, its `data`, the Checkpoint object, or the bare note. */
function checkpointNote(text: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return text;
  }
  let o: unknown = parsed;
  if (isObject(o) && isObject(o["data"])) o = o["data"];
  if (isObject(o) && isObject(o["ledgerCheckpoint"])) o = o["ledgerCheckpoint"];
  if (isObject(o) && isObject(o["checkpoint"])) o = o["checkpoint"];
  if (isObject(o) && typeof o["note"] === "string") return o["note"];
  throw new ProofError("the earlier checkpoint file holds no checkpoint note");
}

/**
 * Checks a saved proof: the checkpoint's signature with the verifier key, that the proof's sizes and
 * root are the ones the signed note names, and the RFC 9162 proof itself. Never throws on bad input:
 * the report says what does not hold.
 */
export function verifyProofFile(fileText: string, opts: VerifyProofOptions): ProofReport {
  let kind: ProofReport["kind"] = null;
  try {
    const key = parseVerifierKey(opts.verifierKey);
    let parsed: unknown;
    try {
      parsed = JSON.parse(fileText);
    } catch {
      throw new ProofError("the proof file is not JSON");
    }
    const found = proofObject(parsed);
    kind = found.kind;
    const p = found.proof;
    const checkpoint = p["checkpoint"];
    if (!isObject(checkpoint)) throw new ProofError("the proof carries no checkpoint");
    const signed = signedCheckpoint(checkpoint["note"], key);
    if (typeof checkpoint["rootHash"] === "string" && checkpoint["rootHash"] !== signed.root.toString("base64"))
      throw new ProofError("the checkpoint's rootHash is not the root its note signs");
    const where = `${signed.origin} at tree size ${signed.treeSize}`;
    if (kind === "inclusion") {
      const leafIndex = int(p, "leafIndex");
      const treeSize = int(p, "treeSize");
      if (treeSize !== signed.treeSize) throw new ProofError(`the proof is for tree size ${treeSize}, the signed checkpoint for ${signed.treeSize}`);
      if (typeof p["leafHash"] !== "string") throw new ProofError("the proof has no leafHash");
      const leaf = decodeBase64(p["leafHash"], "leafHash");
      if (opts.eventHash !== undefined) {
        if (!/^[0-9a-f]{64}$/.test(opts.eventHash)) throw new ProofError("the event hash is not 64 lower-case hex digits");
        if (!leafHash(Buffer.from(opts.eventHash, "hex")).equals(leaf)) throw new ProofError("the proven leaf is not the event with that hash");
      }
      verifyInclusion(leafIndex, treeSize, leaf, hashes(p), signed.root);
      const what = opts.eventHash !== undefined ? `event ${opts.eventHash}` : `the leaf with hash ${p["leafHash"]}`;
      return { ok: true, kind, proved: `${what} is entry ${leafIndex} (position ${leafIndex + 1}) of ${where}`, problem: null };
    }
    const fromSize = int(p, "fromSize");
    const toSize = int(p, "toSize");
    if (toSize !== signed.treeSize) throw new ProofError(`the proof is to tree size ${toSize}, the signed checkpoint is of ${signed.treeSize}`);
    if (opts.earlierCheckpoint === undefined)
      throw new ProofError("a consistency proof is checked against the earlier checkpoint you hold: pass it with --old <file>");
    const earlier = signedCheckpoint(checkpointNote(opts.earlierCheckpoint), key);
    if (earlier.origin !== signed.origin) throw new ProofError(`the earlier checkpoint is of ${earlier.origin}, not ${signed.origin}`);
    if (earlier.treeSize !== fromSize) throw new ProofError(`the proof is from tree size ${fromSize}, the earlier checkpoint is of ${earlier.treeSize}`);
    verifyConsistency(fromSize, toSize, hashes(p), earlier.root, signed.root);
    return { ok: true, kind, proved: `${signed.origin} at tree size ${fromSize} is a prefix of ${where}: the log only grew`, problem: null };
  } catch (e) {
    if (e instanceof ProofError || e instanceof NoteError) return { ok: false, kind, proved: null, problem: e.message };
    throw e;
  }
}

/** The report as the CLI prints it. */
export function formatProofReport(r: ProofReport): string {
  return r.ok ? `${r.kind} proof ok: ${r.proved}\nOK` : `${r.kind ?? "proof"} FAILS: ${r.problem}\nFAILED`;
}
