// A fresh, empty database on the run's test PostgreSQL server, for one test file or one test.
import { randomBytes } from "node:crypto";
import pg from "pg";
import { inject } from "vitest";
import type { LedgerEvent } from "../../src/domain/events.js";
import type { IdempotencyOptions, NewEvent } from "../../src/storage/event-store.js";
import type { PostgresStore } from "../../src/storage/postgres/postgres-store.js";

/** Creates a database no other test uses and returns its URL. */
export async function freshDatabase(prefix = "t"): Promise<string> {
  const admin = inject("postgresUrl");
  const name = `${prefix}_${randomBytes(6).toString("hex")}`;
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return url.toString();
}

/**
 * Appends under an idempotency key the way a command does: in one write transaction, a stored
 * answer for the key is replayed, otherwise the events are appended and remembered under it.
 */
export function appendOnce(
  store: PostgresStore,
  streamId: string,
  expectedVersion: number | null,
  events: readonly NewEvent[],
  idem: IdempotencyOptions,
): Promise<LedgerEvent[]> {
  return store.transact(async (tx) => {
    const replayed = await tx.replay(streamId, idem);
    if (replayed) return replayed;
    const out = await tx.append(streamId, expectedVersion, events);
    await tx.remember(streamId, idem, out);
    return out;
  });
}
