// A real graphql-ws client (with the ws package) and a collector that awaits messages, for the subscription tests.
import { type Client, type ClientOptions, createClient } from "graphql-ws";
import WebSocket from "ws";

export interface WsError {
  message: string;
  extensions?: { code?: string; [k: string]: unknown };
}

export function wsClient(url: string, token: string | null, opts: Partial<ClientOptions> = {}): Client {
  return createClient({
    url: url.replace(/^http/, "ws"),
    webSocketImpl: WebSocket,
    connectionParams: token === null ? {} : { authorization: `Bearer ${token}` },
    retryAttempts: 0,
    lazy: true,
    ...opts,
  });
}

/** One subscription's messages as they arrive, with ways to wait for them. */
export class Collected<T> {
  readonly items: T[] = [];
  errors: WsError[] | null = null;
  closeError: unknown = null;
  completed = false;
  private waiters: (() => void)[] = [];
  readonly unsubscribe: () => void;

  /** `onItem` sees each message as it arrives (e.g. to keep `variables.after` at the last cursor, so a reconnect resumes there). */
  constructor(client: Client, query: string, variables: Record<string, unknown>, field: string, onItem?: (item: T) => void) {
    this.unsubscribe = client.subscribe<Record<string, T>>(
      { query, variables },
      {
        next: (r) => {
          if (r.errors) this.errors = r.errors as WsError[];
          else if (r.data) {
            this.items.push(r.data[field]!);
            onItem?.(r.data[field]!);
          }
          this.poke();
        },
        error: (e) => {
          if (Array.isArray(e)) this.errors = e as WsError[];
          else this.closeError = e;
          this.poke();
        },
        complete: () => {
          this.completed = true;
          this.poke();
        },
      },
    );
  }

  private poke(): void {
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) w();
  }

  get ended(): boolean {
    return this.completed || this.errors !== null || this.closeError !== null;
  }

  /** Resolves once `done()` holds; rejects after `ms`, naming what was waited for. */
  async until(done: (c: this) => boolean, what: string, ms = 10_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!done(this)) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what} (have ${this.items.length} items, errors ${JSON.stringify(this.errors)}, closed ${String(this.closeError)})`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 200));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  count(n: number, ms?: number): Promise<void> {
    return this.until((c) => c.items.length >= n, `${n} messages`, ms);
  }
}


/**
 * Resolves once the live feed holds `count` subscriptions (at least, or at most with "atMost");
 * rejects after `ms`. The server announces nothing when it registers a subscription, so this looks
 * again every few milliseconds: a "from now on" subscription only sees writes made after this.
 */
export async function untilSubscriptions(feed: { readonly size: number }, count: number, opts: { atMost?: boolean; ms?: number } = {}): Promise<void> {
  const reached = () => (opts.atMost ? feed.size <= count : feed.size >= count);
  const deadline = Date.now() + (opts.ms ?? 10_000);
  while (!reached()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${opts.atMost ? "at most" : "at least"} ${count} live subscriptions (have ${feed.size})`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** One operation over graphql-ws (a query or a subscription) on a connection of its own: its errors once it has ended. */
export async function errorsOverWs(url: string, token: string, query: string, field: string): Promise<WsError[] | null> {
  const client = wsClient(url, token);
  try {
    const c = new Collected<unknown>(client, query, {}, field);
    await c.until((x) => x.completed || x.errors !== null || x.closeError !== null, "the answer");
    return c.errors;
  } finally {
    await client.dispose();
  }
}

/** One unlabelled line of the service's /metrics (0 when it is absent). */
export async function metricValue(url: string, line: string): Promise<number> {
  const text = await (await fetch(url.replace("/graphql", "/metrics"))).text();
  const at = text.split("\n").find((l) => l.startsWith(`${line} `));
  return Number(at?.slice(line.length + 1) ?? 0);
}
