// What a read-model query runs on: the pool, a pooled client, or a transaction's client.
import type pg from "pg";

export type Queryable = Pick<pg.ClientBase, "query">;
