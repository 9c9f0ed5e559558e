// What an operator does when the transparency log halted because its ledger went back (a restored
// older backup): the copy of the checkpoint given out since is set aside, never deleted, and the log
// starts again from the tree the ledger holds. Checkpoints beyond it are void from then on.
import { rename } from "node:fs/promises";
import { parseCheckpoint } from "./checkpoint/checkpoint.js";
import { checkpointFile, mirrorPath } from "./checkpoint/latest-file.js";
import { ledgerIdentity, treeRootAt } from "./transparency-log.js";
import type { TransparencyStore } from "./transparency-store.js";

export interface RollbackReport {
  /** The ledger's identity (its first leaf hash, hex); null for an empty ledger. */
  ledgerId: string | null;
  /** Leaves the ledger's tree holds now. */
  treeSize: number;
  /** The copy kept outside the database, when there is one for this ledger and log. */
  kept: { path: string; treeSize: number } | null;
  /** Whether the ledger's tree holds the kept checkpoint (then there is nothing to accept). */
  holds: boolean;
  /** Where the copy was moved to, when it was set aside. */
  setAside: string | null;
}

/**
 * Compares the ledger with the checkpoint copy kept for it under `dataDir`; with `apply`, a copy the
 * ledger no longer holds is renamed to `<file>.void-<time>`, which lets a halted log resume.
 */
export async function acceptRollback(
  store: Pick<TransparencyStore, "readNodes" | "treeSize">,
  dataDir: string,
  origin: string,
  opts: { apply: boolean; now?: Date },
): Promise<RollbackReport> {
  const treeSize = await store.treeSize();
  const ledgerId = await ledgerIdentity(store, treeSize);
  const report: RollbackReport = { ledgerId, treeSize, kept: null, holds: true, setAside: null };
  if (ledgerId === null) return report;
  const path = mirrorPath(dataDir, ledgerId);
  const note = await checkpointFile(path).read();
  if (!note) return report;
  const body = parseCheckpoint(note.slice(0, note.indexOf("\n\n") + 1));
  if (body.origin !== origin) return report;
  report.kept = { path, treeSize: body.treeSize };
  report.holds = treeSize >= body.treeSize && (await treeRootAt(store, body.treeSize)).equals(body.root);
  if (!report.holds && opts.apply) {
    const setAside = `${path}.void-${(opts.now ?? new Date()).toISOString().replace(/[:.]/g, "-")}`;
    await rename(path, setAside);
    report.setAside = setAside;
  }
  return report;
}

export function formatRollbackReport(r: RollbackReport, applied: boolean): string {
  if (r.ledgerId === null) return "the ledger is empty: its transparency log has nothing to guard";
  if (!r.kept) return `no checkpoint copy is kept for this ledger (${r.ledgerId.slice(0, 16)}…): nothing to accept`;
  if (r.holds) return `the ledger holds the kept checkpoint (tree size ${r.kept.treeSize} of ${r.treeSize}): nothing to accept`;
  const what =
    r.treeSize < r.kept.treeSize
      ? `checkpoint ${r.kept.treeSize} was given out, and the ledger holds ${r.treeSize} leaves: checkpoints above ${r.treeSize} become void`
      : `the ledger's tree at size ${r.kept.treeSize} is not the one its kept checkpoint signed: that checkpoint becomes void`;
  return applied
    ? `${what}; set ${r.kept.path} aside as ${r.setAside}. The log resumes within its interval (or at the next start). Tell whoever verifies the log's checkpoints.`
    : `${what}. Prefer restoring the newest backup; to accept the loss, run again with --yes.`;
}
