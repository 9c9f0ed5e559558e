// The auditor's check, offline on a database file: walk the hash chain, check the Merkle tree against the latest
// checkpoint, and prove a signed head still holds.
import { readFile } from "node:fs/promises";
import { calculateJwkThumbprint, compactVerify, createLocalJWKSet, type JSONWebKeySet, type JWK } from "jose";
import { GENESIS_HASH } from "../log/canonical.js";
import type { IntegrityReport, ReadModelReport, StoragePort } from "../storage/storage-port.js";
import { SIGNED_HEAD_TYP } from "../receipts/signed-head.js";
import { encodePosition } from "../log/position.js";
import { parseCheckpoint } from "../log/checkpoint/checkpoint.js";
import { NoteError, openNote, parseVerifierKey } from "../log/checkpoint/signed-note.js";

/** Algorithms a receipt key signs with (src/receipts/signer.ts); nothing else is accepted. */
const HEAD_ALGORITHMS = ["EdDSA", "ES256"];

export interface ChainReport {
  ok: boolean;
  eventCount: number;
  headPosition: string | null;
  headHash: string | null;
  firstInvalidPosition: string | null;
}

export interface HeadReport {
  ok: boolean;
  /** The signed position and hash, when the JWS verified. */
  position: string | null;
  hash: string | null;
  signedAt: string | null;
  kid: string | null;
  /** Why the head does not hold, in one line; null when it does. */
  problem: string | null;
}

export interface TreeReport {
  ok: boolean;
  leaves: number;
  /** The latest checkpoint's size, or null when none was published. */
  checkpointSize: number | null;
  checkpointRoot: string | null;
  /** Whether the checkpoint's signature was checked with a verifier key and holds; null when no key was given. */
  signatureHolds: boolean | null;
  problem: string | null;
}

export interface OfflineReport {
  ok: boolean;
  database: string;
  chain: ChainReport;
  /** The read tables compared with a rebuild from the log. */
  readModels: ReadModelReport;
  /** The transparency log's tree against the log and the latest checkpoint; absent for a database from before it. */
  tree?: TreeReport;
  head?: HeadReport;
}

export interface VerifyOfflineOptions {
  /** A compact JWS from `ledgerHead`. */
  headJws?: string;
  /** A JWKS JSON file (e.g. a saved /.well-known/jwks.json) with the receipt key. */
  jwksFile?: string;
  /** The receipt key file (RECEIPT_KEY_FILE or <data>/keys/receipt.jwk.json); only its public part is used. */
  keyFile?: string;
  /** The checkpoint verifier key text (/.well-known/ledger-checkpoint-key), to check the latest checkpoint's signature. */
  checkpointKey?: string;
}

/** The tree recomputed from the log, against the stored tree and the latest checkpoint (and its signature, given the key). */
async function treeReport(store: StoragePort, checkpointKey: string | undefined): Promise<TreeReport | undefined> {
  // No tree to check: an adapter without the transparency log, or a database older than the tree's migration.
  const audit = store.transparency ? await store.transparency.audit() : null;
  if (!audit) return undefined;
  let problem = audit.problem;
  let signatureHolds: boolean | null = null;
  if (checkpointKey !== undefined && audit.checkpoint) {
    try {
      const body = parseCheckpoint(openNote(audit.checkpoint.note, parseVerifierKey(checkpointKey)));
      signatureHolds = body.treeSize === audit.checkpoint.treeSize && body.root.toString("base64") === audit.checkpoint.root;
      if (!signatureHolds) problem ??= "the latest checkpoint's note does not name the size and root stored beside it";
    } catch (e) {
      if (!(e instanceof NoteError)) throw e;
      signatureHolds = false;
      problem ??= `the latest checkpoint's signature does not hold: ${e.message}`;
    }
  }
  return {
    ok: problem === null,
    leaves: audit.leaves,
    checkpointSize: audit.checkpoint?.treeSize ?? null,
    checkpointRoot: audit.checkpoint?.root ?? null,
    signatureHolds,
    problem,
  };
}

export const chainReport = (r: IntegrityReport): ChainReport => ({
  ok: r.ok,
  eventCount: r.eventCount,
  headPosition: r.head ? encodePosition(r.head.position) : null,
  headHash: r.head?.hash ?? null,
  firstInvalidPosition: r.firstInvalidPosition === null ? null : encodePosition(r.firstInvalidPosition),
});

/** Public members only: a private JWK handed in as the key file never reaches the verifier. */
function publicPart(jwk: JWK): JWK {
  const { kty, crv, x, y, kid, alg } = jwk;
  return Object.fromEntries(Object.entries({ kty, crv, x, y, kid, alg }).filter(([, v]) => v !== undefined)) as JWK;
}

/** The key set to verify a head with, from a JWKS file or a (private or public) JWK file. */
export async function loadVerificationKeys(opts: { jwksFile?: string; keyFile?: string }): Promise<JSONWebKeySet> {
  const file = opts.jwksFile ?? opts.keyFile;
  if (!file) throw new Error("checking a signed head needs --jwks <file> or --key <receipt key file>");
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, "utf8"));
  } catch (e) {
    throw new Error(`cannot read ${file}: ${(e as Error).message}`);
  }
  const isObject = typeof parsed === "object" && parsed !== null && !Array.isArray(parsed);
  if (opts.jwksFile) {
    if (!isObject || !Array.isArray((parsed as JSONWebKeySet).keys)) throw new Error(`${file} is not a JWKS ({"keys": [...]})`);
    return { keys: (parsed as JSONWebKeySet).keys.map(publicPart) };
  }
  if (!isObject || typeof (parsed as JWK).kty !== "string") throw new Error(`${file} does not hold a JWK`);
  // A key file has no kid; the service names its key by the JWK thumbprint (RFC 7638), so give it that one.
  const pub = publicPart(parsed as JWK);
  return { keys: [{ ...pub, kid: await calculateJwkThumbprint(pub) }] };
}

/** Verifies a signed head's JWS; returns its payload or a problem. */
async function readSignedHead(jws: string, keys: JSONWebKeySet): Promise<{ position: string; hash: string; signedAt: string | null; kid: string | null } | string> {
  let payload: Uint8Array;
  let header: { typ?: string; kid?: string };
  try {
    ({ payload, protectedHeader: header } = await compactVerify(jws.trim(), createLocalJWKSet(keys), { algorithms: HEAD_ALGORITHMS }));
  } catch (e) {
    return `the signature does not verify with the given key: ${(e as Error).message}`;
  }
  if (header.typ !== SIGNED_HEAD_TYP) return `not a signed ledger head (typ ${header.typ ?? "missing"})`;
  let body: unknown;
  try {
    body = JSON.parse(new TextDecoder().decode(payload));
  } catch {
    return "the signed payload is not JSON";
  }
  const b = body as { position?: unknown; hash?: unknown; signedAt?: unknown };
  if (typeof b.position !== "string" || !/^\d{16}$/.test(b.position) || typeof b.hash !== "string" || !/^[0-9a-f]{64}$/.test(b.hash))
    return "the signed payload has no position and hash";
  return { position: b.position, hash: b.hash, signedAt: typeof b.signedAt === "string" ? b.signedAt : null, kid: header.kid ?? null };
}

/**
 * Checks a database without the server, through storage opened read-only (safe while the server
 * runs; the caller opens and closes it): walks the whole chain, compares the read tables with a
 * rebuild from the log, and, given a signed head, checks its signature and that the event at its
 * position still has its hash with an intact chain up to it: proof that nothing before it changed.
 */
export async function verifyOffline(store: StoragePort, databasePath: string, opts: VerifyOfflineOptions = {}): Promise<OfflineReport> {
  const keys = opts.headJws !== undefined ? await loadVerificationKeys(opts) : null;
  const integrity = await store.verify();
  const readModels = await store.checkReadModels();
  const report: OfflineReport = { ok: integrity.ok && readModels.ok, database: databasePath, chain: chainReport(integrity), readModels };
  const tree = await treeReport(store, opts.checkpointKey);
  if (tree) {
    report.tree = tree;
    report.ok &&= tree.ok;
  }
  if (opts.headJws !== undefined && keys) {
    const signed = await readSignedHead(opts.headJws, keys);
    if (typeof signed === "string") {
      report.head = { ok: false, position: null, hash: null, signedAt: null, kid: null, problem: signed };
    } else {
      const at = Number(signed.position);
      const event = at === 0 ? null : (await store.readAll(at - 1, 1))[0];
      const stored = at === 0 ? GENESIS_HASH : event?.position === at ? event.hash : null;
      const brokenBefore = integrity.firstInvalidPosition !== null && integrity.firstInvalidPosition <= at;
      const problem =
        stored === null
          ? `the ledger has no event at position ${signed.position}`
          : stored !== signed.hash
            ? `the event at position ${signed.position} has hash ${stored}, the signed head says ${signed.hash}`
            : brokenBefore
              ? `the chain breaks at position ${encodePosition(integrity.firstInvalidPosition!)}, at or before the signed head`
              : null;
      report.head = { ok: problem === null, ...signed, problem };
    }
    report.ok = report.ok && report.head.ok;
  }
  return report;
}

/** The report as the CLI prints it: one line per finding, then the verdict. */
export function formatOfflineReport(r: OfflineReport): string {
  const lines = [
    `database ${r.database}`,
    r.chain.ok
      ? `chain ok: ${r.chain.eventCount} events, head ${r.chain.headPosition ?? "(empty)"} ${r.chain.headHash ?? ""}`.trimEnd()
      : `chain BROKEN: first invalid position ${r.chain.firstInvalidPosition} (${r.chain.eventCount} events)`,
    r.readModels.ok
      ? "read tables ok: equal to a rebuild of the log"
      : `read tables DIFFER from a rebuild of the log: ${r.readModels.differingTables.join(", ")} (edited outside the ledger; \`cli rebuild\` recomputes them)`,
  ];
  if (r.tree)
    lines.push(
      r.tree.ok
        ? `tree ok: ${r.tree.leaves} leaves${r.tree.checkpointSize === null ? ", no checkpoint yet" : `; the latest checkpoint (size ${r.tree.checkpointSize}, root ${r.tree.checkpointRoot}) holds${r.tree.signatureHolds ? ", signature checked" : ""}`}`
        : `tree FAILS: ${r.tree.problem}`,
    );
  if (r.head)
    lines.push(
      r.head.ok
        ? `signed head ok: position ${r.head.position} hash ${r.head.hash} (signed ${r.head.signedAt ?? "?"}, key ${r.head.kid ?? "?"})`
        : `signed head FAILS: ${r.head.problem}`,
    );
  lines.push(r.ok ? "OK" : "FAILED");
  return lines.join("\n");
}
