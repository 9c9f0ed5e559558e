// Whether the server answers: false from a failed connection until a probe reaches it again, so
// readiness asks the server instead of waiting for a write to prove it. Also the one place that
// turns a lost server into STORE_UNAVAILABLE, and hands out clients that survive a dying connection.
import type pg from "pg";
import { LedgerError } from "../../../domain/errors.js";
import { StoreUnavailableError, isConnectionLoss, isUnavailable } from "../connection.js";
import { StreamBusy } from "./deadlock-retry.js";

/** How often an unreachable server is asked again. */
const PROBE_MS = 500;

export class Reachability {
  private reachable = true;
  private probe: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(private readonly pool: pg.Pool) {}

  get ok(): boolean {
    return this.reachable;
  }

  markUnreachable(e: unknown): void {
    if (this.stopped || !isConnectionLoss(e)) return;
    this.reachable = false;
    if (this.probe) return;
    // Readiness asks the server whether it is back, instead of waiting for a write to prove it.
    this.probe = setInterval(() => {
      this.pool.query("SELECT 1").then(
        () => {
          this.reachable = true;
          if (this.probe) clearInterval(this.probe);
          this.probe = null;
        },
        () => undefined,
      );
    }, PROBE_MS);
    this.probe.unref();
  }

  /** What a caller is told for a failure: ledger errors as they are, an unreachable store as STORE_UNAVAILABLE. */
  failure(e: unknown): unknown {
    if (e instanceof LedgerError) return e;
    if (e instanceof StreamBusy) return this.failure(e.cause);
    if (isUnavailable(e)) {
      this.markUnreachable(e);
      return new StoreUnavailableError(e);
    }
    return e;
  }

  /**
   * A client from the pool that does not crash the process when its connection dies while checked
   * out (node-postgres emits 'error' on it then): the query in flight rejects, and readiness drops.
   */
  async connect(): Promise<pg.PoolClient> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (e) {
      this.markUnreachable(e);
      throw new StoreUnavailableError(e);
    }
    const onError = (e: unknown) => this.markUnreachable(e);
    client.on("error", onError);
    const release = client.release.bind(client);
    client.release = (err?: Error | boolean) => {
      client.off("error", onError);
      client.release = release;
      release(err);
    };
    return client;
  }

  /** A read through the pool (a named query config is prepared once per connection); an unreachable server is STORE_UNAVAILABLE. */
  async read<R extends pg.QueryResultRow>(sql: string | pg.QueryConfig, params: unknown[] = []): Promise<pg.QueryResult<R>> {
    try {
      return await this.pool.query<R>(sql, params);
    } catch (e) {
      if (isUnavailable(e)) {
        this.markUnreachable(e);
        throw new StoreUnavailableError(e);
      }
      throw e;
    }
  }

  /** Stops probing; failures after this no longer change readiness. */
  stop(): void {
    this.stopped = true;
    if (this.probe) clearInterval(this.probe);
    this.probe = null;
  }
}
