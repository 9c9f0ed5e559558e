// The chain tip: one row holding the chain's last link and the transparency tree's state. Every
// append locks it, so positions are handed out one transaction at a time, in commit order.
import type pg from "pg";
import type { ChainHead } from "../../event-store.js";
import type { TipTree } from "../merkle/extend-tree.js";

export interface TipRow extends TipTree {
  position: number;
  hash: Buffer;
  recorded_at: number;
}

/** The chain tip as one batch's transaction holds it: null until its first append locks the row. */
export interface BatchTip {
  tip: TipRow | null;
  /** performance.now() when the row was locked. */
  since: number;
}

/** The tip the batch holds, locking the row (held to the batch's commit) on the batch's first append. */
export async function holdTip(client: pg.PoolClient, held: BatchTip): Promise<TipRow> {
  if (!held.tip) {
    held.tip = (await client.query<TipRow>({ name: "ledger_lock_tip", text: "SELECT position, hash, recorded_at, tree_leaves, tree_border FROM chain_tip FOR UPDATE" })).rows[0]!;
    held.since = performance.now();
  }
  return held.tip;
}

/** The chain's last link as committed, or null for an empty log. */
export async function readHead(read: <R extends pg.QueryResultRow>(sql: string) => Promise<pg.QueryResult<R>>): Promise<ChainHead | null> {
  const { rows } = await read<TipRow>("SELECT position, hash FROM chain_tip");
  const t = rows[0];
  return !t || t.position === 0 ? null : { position: t.position, hash: t.hash.toString("hex") };
}
