// Plain transactions on a pooled connection, apart from the group commit: a read snapshot, a
// transaction of its own, and one that holds the chain tip (rebuild and maintenance).
import type pg from "pg";

type Connect = () => Promise<pg.PoolClient>;

/**
 * Runs `fn` in a REPEATABLE READ transaction that is rolled back afterwards: every read sees one
 * snapshot, writers go on, and temporary tables made inside vanish with it.
 */
export async function inSnapshot<T>(connect: Connect, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await connect();
  try {
    await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ");
    return await fn(client);
  } finally {
    await client.query("ROLLBACK").catch(() => undefined);
    client.release();
  }
}

/** Runs `fn` in one plain transaction on a pooled connection; a lost database is STORE_UNAVAILABLE. */
export async function inTransaction<T>(connect: Connect, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await connect();
  try {
    await client.query("BEGIN");
    const v = await fn(client);
    await client.query("COMMIT");
    return v;
  } catch (e) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw e;
  } finally {
    client.release();
  }
}

/** Runs `fn` in one plain transaction holding the chain tip (rebuild and maintenance). */
export function holdingTip<T>(connect: Connect, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  return inTransaction(connect, async (client) => {
    await client.query("SELECT position FROM chain_tip FOR UPDATE");
    return fn(client);
  });
}
