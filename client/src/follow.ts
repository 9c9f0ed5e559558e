// Following consent changes over graphql-ws: each change once, in order, resumable from a cursor.
import { createClient } from "graphql-ws";
import type { ConsentClient } from "./core.js";
import { ClientConsentChangedDocument, type ClientConsentChangedSubscription } from "./gql/graphql.js";

export type ConsentChange = ClientConsentChangedSubscription["consentChanged"];

export interface FollowOptions {
  policyId?: string;
  purposeIds?: string[];
  /** Another subject (needs consent:read); default the caller. */
  subjectId?: string;
  /** Resume after this change's cursor. */
  after?: string;
  /** A WebSocket implementation where there is no global one (Node 20: the `ws` package). */
  webSocketImpl?: unknown;
  onError?: (e: unknown) => void;
}

/**
 * Calls `onChange` for every change to the followed consents. Reconnects by itself, resuming after
 * the last cursor seen, so no change is missed or repeated. Returns a function that stops following.
 */
export function follow(client: ConsentClient, onChange: (c: ConsentChange) => void, opts: FollowOptions = {}): () => void {
  let after = opts.after ?? null;
  const ws = createClient({
    url: `${client.endpoint.replace(/^http/, "ws")}/graphql`,
    connectionParams: async () => {
      const t = await client.token();
      return t ? { authorization: `Bearer ${t}` } : {};
    },
    // Reconnection is done here, each time from the last cursor seen: a retry by graphql-ws would resend the first one.
    retryAttempts: 0,
    ...(opts.webSocketImpl ? { webSocketImpl: opts.webSocketImpl } : {}),
  });
  let stopped = false;
  let unsubscribe: () => void = () => {};
  let delay = 250;
  const start = () => {
    if (stopped) return;
    unsubscribe = ws.subscribe<ClientConsentChangedSubscription>(
      {
        query: ClientConsentChangedDocument.toString(),
        variables: { policyId: opts.policyId ?? null, purposeIds: opts.purposeIds ?? null, subjectId: opts.subjectId ?? null, after },
      },
      {
        next: (r) => {
          const c = r.data?.consentChanged;
          if (!c) return opts.onError?.(r.errors);
          after = c.cursor;
          delay = 250;
          onChange(c);
        },
        // A lost connection or a subscription the service ended (SLOW_SUBSCRIBER, a restart) resumes from the
        // last cursor, with growing pauses; a refusal (FORBIDDEN, a bad argument) stops and is reported.
        error: (e) => {
          opts.onError?.(e);
          const code = Array.isArray(e) ? (e[0] as { extensions?: { code?: string } } | undefined)?.extensions?.code : undefined;
          if (code !== undefined && code !== "SLOW_SUBSCRIBER" && code !== "STORE_UNAVAILABLE") return;
          setTimeout(start, delay);
          delay = Math.min(delay * 2, 30_000);
        },
        complete: () => {},
      },
    );
  };
  start();
  return () => {
    stopped = true;
    unsubscribe();
    void ws.dispose();
  };
}
