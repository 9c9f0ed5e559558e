// A fresh, empty database on the run's test PostgreSQL server, for one test file or one test.
import { randomBytes } from "node:crypto";
import pg from "pg";
import { inject } from "vitest";

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
