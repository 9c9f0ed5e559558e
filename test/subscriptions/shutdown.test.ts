// A graceful shutdown ends subscriptions cleanly; a client reconnecting to the restarted service resumes with its cursor.
import { rmSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { type TestServer, startTestServer } from "../support/harness.js";
import { Collected, wsClient } from "./ws-client.js";
import { makeTempDir } from "../support/common.js";

const CONSENT_CHANGED = `subscription Changes($subjectId: ID, $after: String, $purposeIds: [ID!]) {
  consentChanged(subjectId: $subjectId, after: $after, purposeIds: $purposeIds) { cursor purposeId current { status } event { type } }
}`;

interface Change {
  cursor: string;
  purposeId: string;
  current: { status: string };
}

const RECORD = `mutation R($input: RecordConsentInput!) { recordConsent(input: $input) { events { position } } }`;

async function record(srv: TestServer, subjectId: string, input: Record<string, unknown>): Promise<void> {
  const r = await srv.gql(RECORD, { input: { subjectId, policyVersion: 1, ...input } }, await srv.token("service", "consent:write"));
  if (r.errors) throw new Error(JSON.stringify(r.errors));
}

const dataDir = makeTempDir("ledger-shutdown-");
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe("graceful shutdown", () => {
  it("closes subscriptions with 1001, and the client resumes on the restarted service without gap or duplicate", async () => {
    let srv = await startTestServer({ dataDir });
    const token = await srv.token("svc", "consent:read");
    await record(srv, "alice", { acceptPolicy: true, grant: ["location"] });

    let back!: () => void;
    const restarted = new Promise<void>((r) => (back = r));
    const closes: number[] = [];
    const client = wsClient(srv.url, token, {
      url: () => srv.url.replace(/^http/, "ws"),
      // The client waits to reconnect until the service is back (a refused connection while the old
      // port is closed and the new one not yet open is retried too: graphql-ws retries only close events by default).
      retryAttempts: 100,
      shouldRetry: () => true,
      retryWait: () => restarted,
      on: { closed: (e) => void closes.push((e as { code: number }).code) },
    });
    const variables: Record<string, unknown> = { subjectId: "alice", purposeIds: ["location"], after: "0000000000000000" };
    const sub = new Collected<Change>(client, CONSENT_CHANGED, variables, "consentChanged", (c) => void (variables["after"] = c.cursor));
    await sub.count(1); // the replayed grant
    await record(srv, "alice", { withdraw: ["location"] });
    await sub.count(2); // live
    const feed = srv.app.services.changes;
    await srv.close();
    expect(feed.size).toBe(0);
    expect(closes).toContain(1001);
    expect(sub.ended).toBe(false); // not completed: the client is reconnecting

    srv = await startTestServer({ dataDir });
    back();
    await record(srv, "alice", { grant: ["location"] });
    await record(srv, "alice", { withdraw: ["location"] });
    // A fifth change after them: once it arrives, a duplicate or a gap would already show.
    await record(srv, "alice", { grant: ["location"] });
    await sub.count(5);

    const cursors = sub.items.map((c) => c.cursor);
    expect(new Set(cursors).size).toBe(cursors.length);
    expect(cursors).toEqual([...cursors].sort());
    expect(sub.items.map((c) => [c.purposeId, c.current.status])).toEqual([
      ["location", "GRANTED"],
      ["location", "WITHDRAWN"],
      ["location", "GRANTED"],
      ["location", "WITHDRAWN"],
      ["location", "GRANTED"],
    ]);
    await client.dispose();
    await srv.close();
  });
});
