// The verdict of a tree audit, shared by the adapters: the first problem found, or the latest checkpoint's root not holding.
import type { StoredCheckpoint, TreeAudit } from "./transparency-store.js";

/**
 * `rootThen` is the root of the log's first `latest.treeSize` events as recomputed from the log (null
 * when the log holds fewer); `problem` is the first difference found between stored and recomputed nodes.
 */
export function auditReport(leaves: number, eventCount: number, latest: StoredCheckpoint | null, rootThen: Buffer | null, problem: string | null): TreeAudit {
  let p = problem;
  const checkpoint = latest && { treeSize: latest.treeSize, root: latest.root.toString("base64"), note: latest.note, rootHolds: rootThen !== null && rootThen.equals(latest.root) };
  if (p === null && checkpoint && !checkpoint.rootHolds)
    p =
      rootThen === null
        ? `the log holds ${eventCount} events, fewer than the ${latest.treeSize} the latest checkpoint signed`
        : `the log's first ${latest.treeSize} events do not have the root the latest checkpoint signed`;
  return { ok: p === null, leaves, eventCount, checkpoint, problem: p };
}
