// consentChanged and ledgerEvents through a real graphql-ws client: auth, isolation, delivery, resume, limits.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import type { TestServer } from "../support/harness.js";
import { startTestServer } from "../support/harness.js";
import { Collected, untilSubscriptions, wsClient } from "./ws-client.js";
import { sqlite } from "../support/ledger-commands.js";

const CONSENT_CHANGED = `subscription Changes($subjectId: ID, $after: String, $purposeIds: [ID!]) {
  consentChanged(subjectId: $subjectId, after: $after, purposeIds: $purposeIds) {
    cursor subjectId policyId purposeId previous
    current { status permitted reason }
    event { position type subjectId }
  }
}`;

const LEDGER_EVENTS = `subscription Events($after: String, $types: [String!]) {
  ledgerEvents(after: $after, types: $types) { position type subjectId }
}`;

interface Change {
  cursor: string;
  subjectId: string;
  policyId: string;
  purposeId: string;
  previous: string | null;
  current: { status: string; permitted: boolean; reason: string };
  event: { position: string; type: string; subjectId: string };
}

interface EventMsg {
  position: string;
  type: string;
  subjectId: string | null;
}

let srv: TestServer;
let n = 0;
const fresh = (p: string) => `${p}-${process.pid}-${++n}`;

const RECORD = `mutation R($input: RecordConsentInput!) { recordConsent(input: $input) { events { position type } } }`;

async function record(subjectId: string, input: Record<string, unknown>): Promise<string[]> {
  const token = await srv.token("service", "consent:write");
  const r = await srv.gql<{ recordConsent: { events: { position: string }[] } }>(RECORD, { input: { subjectId, policyVersion: 1, ...input } }, token);
  if (r.errors) throw new Error(JSON.stringify(r.errors));
  return r.data!.recordConsent.events.map((e) => e.position);
}

/** Waits until the server holds `n` more subscriptions than `before` (a "from now on" subscription is live only then). */
const subscribed = (before: number, n = 1): Promise<void> => untilSubscriptions(srv.app.services.changes, before + n);

/** Opens a raw socket, sends connection_init, and reports the close code and whether anything was received first. */
async function rawConnect(payload: unknown): Promise<{ code: number; received: string[] }> {
  const ws = new WebSocket(srv.url.replace(/^http/, "ws"), "graphql-transport-ws");
  const received: string[] = [];
  ws.on("message", (m) => received.push(String(m)));
  await new Promise((r) => ws.once("open", r));
  ws.send(JSON.stringify({ type: "connection_init", payload }));
  const code = await new Promise<number>((r) => ws.once("close", (c) => r(c)));
  return { code, received };
}

beforeAll(async () => {
  srv = await startTestServer({ env: { MAX_SUBSCRIPTIONS_PER_CONNECTION: "3", MAX_QUERY_DEPTH: "3" } });
});
// Each test ends its subscriptions; the server lets go of them a moment after the client does, and
// tests that count the server's subscriptions start only once it has.
afterEach(() => untilSubscriptions(srv.app.services.changes, 0, { atMost: true }));
afterAll(async () => {
  await srv.close();
});

describe("authentication on the WebSocket", () => {
  it("closes with 4401 before sending anything when connection_init has no token", async () => {
    expect(await rawConnect({})).toEqual({ code: 4401, received: [] });
  });

  it("closes with 4401 for a token that is not good", async () => {
    expect(await rawConnect({ authorization: "Bearer not.a.token" })).toEqual({ code: 4401, received: [] });
    const good = await srv.token("alice", "consent:self");
    expect((await rawConnect({ authorization: `Bearer ${good.slice(0, -4)}AAAA` })).code).toBe(4401);
  });

  it("acknowledges a good token", async () => {
    const ws = new WebSocket(srv.url.replace(/^http/, "ws"), "graphql-transport-ws");
    await new Promise((r) => ws.once("open", r));
    ws.send(JSON.stringify({ type: "connection_init", payload: { authorization: `Bearer ${await srv.token("alice", "consent:self")}` } }));
    const first = await new Promise<string>((r) => ws.once("message", (m) => r(String(m))));
    expect(JSON.parse(first)).toEqual({ type: "connection_ack" });
    ws.close();
  });

  it("ends the subscriptions when the token expires (4403, so a client may reconnect with a fresh token)", async () => {
    const alice = fresh("alice");
    const client = wsClient(srv.url, await srv.token(alice, "consent:self", 1));
    const sub = new Collected<Change>(client, CONSENT_CHANGED, {}, "consentChanged");
    await sub.until((c) => c.ended, "the subscription to end", 5_000);
    expect((sub.closeError as { code: number }).code).toBe(4403);
    await client.dispose();
  });
});

describe("who may follow whom", () => {
  it("lets a subject follow only itself", async () => {
    const alice = fresh("alice");
    const client = wsClient(srv.url, await srv.token(alice, "consent:self"));
    const other = new Collected<Change>(client, CONSENT_CHANGED, { subjectId: "someone-else" }, "consentChanged");
    await other.until((c) => c.ended, "the refusal");
    expect(other.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    expect(other.errors?.[0]?.message).not.toContain("someone-else");
    await client.dispose();
  });

  it("needs ledger:read for ledgerEvents", async () => {
    const client = wsClient(srv.url, await srv.token("svc", "consent:read"));
    const sub = new Collected<EventMsg>(client, LEDGER_EVENTS, {}, "ledgerEvents");
    await sub.until((c) => c.ended, "the refusal");
    expect(sub.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    await client.dispose();
  });

  it("delivers a subject its own changes and none of another's", async () => {
    const alice = fresh("alice");
    const bob = fresh("bob");
    const client = wsClient(srv.url, await srv.token(alice, "consent:self"));
    const before = srv.app.services.changes.size;
    const mine = new Collected<Change>(client, CONSENT_CHANGED, {}, "consentChanged");
    await subscribed(before);
    await record(bob, { acceptPolicy: true, grant: ["location"] });
    await record(alice, { acceptPolicy: true });
    await mine.until((c) => c.items.some((x) => x.event.type === "PolicyAccepted"), "alice's acceptance");
    await record(bob, { withdraw: ["location"] });
    await record(alice, { grant: ["location"] });
    await mine.until((c) => c.items.some((x) => x.purposeId === "location"), "alice's grant");
    expect(new Set(mine.items.map((x) => x.subjectId))).toEqual(new Set([alice]));
    await client.dispose();
  });
});

describe("live delivery", () => {
  it("sends one message per purpose whose status or permission changed, with the previous status and the event", async () => {
    const alice = fresh("alice");
    await record(alice, { acceptPolicy: true, grant: ["location"] });
    const client = wsClient(srv.url, await srv.token("svc", "consent:read"));
    const before = srv.app.services.changes.size;
    const sub = new Collected<Change>(client, CONSENT_CHANGED, { subjectId: alice }, "consentChanged");
    await subscribed(before);
    const [position] = await record(alice, { withdraw: ["location"] });
    await sub.count(1);
    expect(sub.items).toEqual([
      {
        cursor: `${position}-000000`,
        subjectId: alice,
        policyId: "clavis-privacy",
        purposeId: "location",
        previous: "GRANTED",
        current: { status: "WITHDRAWN", permitted: false, reason: "WITHDRAWN" },
        event: { position, type: "ConsentWithdrawn", subjectId: alice },
      },
    ]);
    // Suspension changes every purpose that is permitted and not a legal obligation, in one event.
    const [suspended] = await srv.gql<{ suspendProcessing: { status: string } }>(
      `mutation { suspendProcessing(subjectId: "${alice}") { status } }`,
      {},
      await srv.token("officer", "subject:admin"),
    ).then((r) => [r.data?.suspendProcessing.status]);
    expect(suspended).toBe("SUSPENDED");
    await sub.until((c) => c.items.some((x) => x.event.type === "ProcessingSuspended"), "the suspension");
    // Resuming is the next event: once its changes arrive, every change of the suspension has.
    await srv.gql(`mutation { resumeProcessing(subjectId: "${alice}") { status } }`, {}, await srv.token("officer", "subject:admin"));
    await sub.until((c) => c.items.some((x) => x.event.type === "ProcessingResumed"), "the resumption");
    const fromSuspension = sub.items.filter((x) => x.event.type === "ProcessingSuspended");
    expect(fromSuspension.map((x) => x.current.reason)).toEqual(fromSuspension.map(() => "SUBJECT_SUSPENDED"));
    expect(fromSuspension.map((x) => x.purposeId)).not.toContain("policy-notices");
    expect(fromSuspension.map((x) => x.purposeId)).not.toContain("location"); // already not permitted: no change
    expect(fromSuspension.map((x) => x.cursor)).toEqual([...fromSuspension.map((x) => x.cursor)].sort());
    await client.dispose();
  });

  it("filters by purpose", async () => {
    const alice = fresh("alice");
    const client = wsClient(srv.url, await srv.token("svc", "consent:read"));
    const before = srv.app.services.changes.size;
    const sub = new Collected<Change>(client, CONSENT_CHANGED, { subjectId: alice, purposeIds: ["linked-accounts"] }, "consentChanged");
    await subscribed(before);
    await record(alice, { acceptPolicy: true, grant: ["location"] });
    await record(alice, { grant: ["linked-accounts"] });
    await record(alice, { withdraw: ["linked-accounts"] });
    await sub.count(2);
    expect(sub.items.map((x) => [x.purposeId, x.previous, x.current.status])).toEqual([
      ["linked-accounts", "NOT_ASKED", "GRANTED"],
      ["linked-accounts", "GRANTED", "WITHDRAWN"],
    ]);
    await client.dispose();
  });
});

describe("resuming", () => {
  it("counts every change exactly once, in order, across a disconnect while a writer keeps writing", async () => {
    const alice = fresh("alice");
    await record(alice, { acceptPolicy: true });
    const token = await srv.token("svc", "consent:read");
    const toggles = 40;
    let written = 0;
    // The writer writes before, during and after the disconnect: it pauses after ten toggles until the connection has dropped.
    let dropped!: () => void;
    const disconnected = new Promise<void>((r) => (dropped = r));
    const writer = (async () => {
      for (let i = 0; i < toggles; i++) {
        if (i === 10) await disconnected;
        await record(alice, i % 2 === 0 ? { grant: ["location"] } : { withdraw: ["location"] });
        written++;
      }
    })();
    const vars = { subjectId: alice, purposeIds: ["location"], after: "0000000000000000" };
    const first = wsClient(srv.url, token);
    const a = new Collected<Change>(first, CONSENT_CHANGED, vars, "consentChanged");
    await a.count(5);
    await first.dispose(); // the connection drops mid-stream
    dropped();
    const last = a.items.at(-1)!.cursor;
    const second = wsClient(srv.url, token);
    const b = new Collected<Change>(second, CONSENT_CHANGED, { ...vars, after: last }, "consentChanged");
    await writer;
    await b.until((c) => a.items.length + c.items.length >= toggles, `${toggles} changes in all`);
    // One more change after the writer's: when it arrives, anything duplicated would have come before it.
    await record(alice, { grant: ["location"] });
    await b.until((c) => a.items.length + c.items.length >= toggles + 1, "the change after the writer's");
    await second.dispose();
    const seen = [...a.items, ...b.items];
    expect(written).toBe(toggles);
    expect(seen).toHaveLength(toggles + 1);
    expect(new Set(seen.map((x) => x.cursor)).size).toBe(toggles + 1);
    expect(seen.map((x) => x.cursor)).toEqual([...seen.map((x) => x.cursor)].sort());
    expect(seen.map((x) => x.current.status)).toEqual(Array.from({ length: toggles + 1 }, (_, i) => (i % 2 === 0 ? "GRANTED" : "WITHDRAWN")));
  });

  it("resumes from a cursor inside an event that caused several changes", async () => {
    const alice = fresh("alice");
    const [accepted] = await record(alice, { acceptPolicy: true });
    const client = wsClient(srv.url, await srv.token("svc", "consent:read"));
    const all = new Collected<Change>(client, CONSENT_CHANGED, { subjectId: alice, after: "0000000000000000" }, "consentChanged");
    await all.until((c) => c.items.length > 0, "the acceptance's changes");
    // A later event: once its change arrives, all of the acceptance's have.
    const [granted] = await record(alice, { grant: ["location"] });
    await all.until((c) => c.items.some((x) => x.event.position === granted), "the later grant");
    const fromAcceptance = all.items.filter((x) => x.event.position === accepted).length;
    expect(fromAcceptance).toBeGreaterThan(2);
    expect(all.items.map((x) => x.event.position)).toEqual([...Array.from({ length: fromAcceptance }, () => accepted), granted]);
    const rest = new Collected<Change>(client, CONSENT_CHANGED, { subjectId: alice, after: all.items[1]!.cursor }, "consentChanged");
    await rest.until((c) => c.items.some((x) => x.event.position === granted), "the later grant, resumed");
    expect(rest.items.map((x) => x.cursor)).toEqual(all.items.slice(2).map((x) => x.cursor));
    await client.dispose();
  });

  it("replays ledgerEvents after a position, then goes live", async () => {
    const alice = fresh("alice");
    const [p1] = await record(alice, { acceptPolicy: true });
    const [p2] = await record(alice, { grant: ["location"] });
    const client = wsClient(srv.url, await srv.token("auditor", "ledger:read"));
    const sub = new Collected<EventMsg>(client, LEDGER_EVENTS, { after: p1, types: ["ConsentGranted", "ConsentWithdrawn"] }, "ledgerEvents");
    await sub.until((c) => c.items.some((x) => x.position === p2), "the replayed grant");
    const [p3] = await record(alice, { withdraw: ["location"] });
    await sub.until((c) => c.items.some((x) => x.position === p3), "the live withdrawal");
    const positions = sub.items.map((x) => x.position);
    expect(positions.every((p) => p > p1!)).toBe(true);
    expect(new Set(positions).size).toBe(positions.length);
    expect(positions).toEqual([...positions].sort());
    expect(sub.items.every((x) => x.type === "ConsentGranted" || x.type === "ConsentWithdrawn")).toBe(true);
    await client.dispose();
  });

  it("refuses a cursor it did not issue", async () => {
    const client = wsClient(srv.url, await srv.token("auditor", "ledger:read"));
    const sub = new Collected<EventMsg>(client, LEDGER_EVENTS, { after: "yesterday" }, "ledgerEvents");
    await sub.until((c) => c.ended, "the refusal");
    expect(sub.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    await client.dispose();
  });
});

describe("the same limits as HTTP", () => {
  it("refuses an operation deeper than the depth limit, with the HTTP error code", async () => {
    const client = wsClient(srv.url, await srv.token("svc", "consent:read"));
    const sub = new Collected<Change>(client, `subscription { consentChanged { current { purpose { id } } } }`, {}, "consentChanged");
    await sub.until((c) => c.ended, "the refusal");
    expect(sub.errors?.[0]?.extensions?.code).toBe("QUERY_TOO_DEEP");
    await client.dispose();
  });

  it("reports a syntax error as GRAPHQL_PARSE_FAILED and an unknown field as GRAPHQL_VALIDATION_FAILED", async () => {
    const client = wsClient(srv.url, await srv.token("svc", "consent:read"));
    const broken = new Collected<Change>(client, `subscription { consentChanged {`, {}, "consentChanged");
    const unknown = new Collected<Change>(client, `subscription { consentChanged { secret } }`, {}, "consentChanged");
    await broken.until((c) => c.ended, "the parse error");
    await unknown.until((c) => c.ended, "the validation error");
    expect(broken.errors?.[0]?.extensions?.code).toBe("GRAPHQL_PARSE_FAILED");
    expect(unknown.errors?.[0]?.extensions?.code).toBe("GRAPHQL_VALIDATION_FAILED");
    await client.dispose();
  });

  it("counts subscriptions started and refusals in /metrics, as HTTP counts operations", async () => {
    const metric = async (name: string) => {
      const text = await (await fetch(srv.url.replace("/graphql", "/metrics"))).text();
      return Number(new RegExp(`^${name} (\\d+)`, "m").exec(text)?.[1] ?? 0);
    };
    const started = await metric("graphql_subscriptions_started_total");
    const deep = await metric('graphql_errors_total\\{code="QUERY_TOO_DEEP"\\}');
    const client = wsClient(srv.url, await srv.token("svc", "consent:read"));
    const before = srv.app.services.changes.size;
    const live = new Collected<Change>(client, CONSENT_CHANGED, { subjectId: fresh("m") }, "consentChanged");
    await subscribed(before);
    const refused = new Collected<Change>(client, `subscription { consentChanged { current { purpose { id } } } }`, {}, "consentChanged");
    await refused.until((c) => c.ended, "the refusal");
    expect(await metric("graphql_subscriptions_started_total")).toBe(started + 1);
    expect(await metric('graphql_errors_total\\{code="QUERY_TOO_DEEP"\\}')).toBe(deep + 1);
    void live;
    await client.dispose();
  });

  it("caps the subscriptions one connection may hold", async () => {
    const client = wsClient(srv.url, await srv.token("svc", "consent:read"));
    const before = srv.app.services.changes.size;
    const open = [1, 2, 3].map(() => new Collected<Change>(client, CONSENT_CHANGED, {}, "consentChanged"));
    await subscribed(before, 3);
    const fourth = new Collected<Change>(client, CONSENT_CHANGED, {}, "consentChanged");
    await fourth.until((c) => c.ended, "the refusal");
    expect(fourth.errors?.[0]?.extensions?.code).toBe("TOO_MANY_SUBSCRIPTIONS");
    expect(open.some((c) => c.ended)).toBe(false);
    open[0]!.unsubscribe();
    await untilSubscriptions(srv.app.services.changes, before + 2, { atMost: true });
    const again = new Collected<Change>(client, CONSENT_CHANGED, {}, "consentChanged");
    await subscribed(before + 2); // admitted: the server holds it
    expect(again.ended).toBe(false);
    await client.dispose();
  });

  it("closes the connection on a message larger than the body limit (1009)", async () => {
    const ws = new WebSocket(srv.url.replace(/^http/, "ws"), "graphql-transport-ws");
    await new Promise((r) => ws.once("open", r));
    ws.send(JSON.stringify({ type: "connection_init", payload: { authorization: `Bearer ${await srv.token("svc", "consent:read")}` } }));
    await new Promise((r) => ws.once("message", r));
    const closed = new Promise<number>((r) => ws.once("close", (c) => r(c)));
    ws.send(JSON.stringify({ id: "1", type: "subscribe", payload: { query: `subscription { consentChanged { cursor } } #${"x".repeat(srv.config.limits.bodyBytes)}` } }));
    expect(await closed).toBe(1009);
  });
});

describe("a slow consumer", () => {
  it("is ended with SLOW_SUBSCRIBER without stalling the others, and resumes from its cursor", async () => {
    const token = await srv.token("auditor", "ledger:read");
    const { ledger } = srv.app.services;
    const head = sqlite(ledger).store.head()!.position;
    const from = head.toString().padStart(16, "0");
    const query = `subscription Events($after: String, $types: [String!]) {
      ledgerEvents(after: $after, types: $types) { position type subjectId streamId hash prevHash data }
    }`;
    const fastClient = wsClient(srv.url, token);
    let slowSocket: WebSocket | null = null;
    const slowClient = wsClient(srv.url, token, { on: { connected: (socket) => void (slowSocket = socket as WebSocket) } });
    const before = srv.app.services.changes.size;
    // The bulk writes' own events: each first read of a subject's evidence on a feed also appends a
    // PersonalDataAccessed, which these subscriptions leave out so that they count the bulk writes.
    const types = ["PolicyAccepted"];
    const fast = new Collected<EventMsg>(fastClient, query, { after: from, types }, "ledgerEvents");
    const slow = new Collected<EventMsg>(slowClient, query, { after: from, types }, "ledgerEvents");
    await subscribed(before, 2);
    slowSocket!.pause(); // stops reading: the server's send buffers fill, then its queue for this subscriber

    // Write until the server has given up on the slow subscriber: first the socket buffers between
    // the two fill up (a few MB on loopback, more on some machines), then its bounded queue.
    const { changes } = srv.app.services;
    const open = changes.size;
    let total = 0;
    while (changes.size === open && total < 60_000) {
      await Promise.all(
        Array.from({ length: 250 }, () =>
          ledger.recordConsent(fresh("bulk"), { policyId: null, policyVersion: 1, acceptPolicy: true, grant: [], withdraw: [], occurredAt: null, evidence: { userAgent: "x".repeat(1_000) }, expectedVersion: null }, { kind: "SERVICE", id: "bulk" }),
        ),
      );
      total += 250;
    }
    expect(changes.size).toBe(open - 1);
    // The fast subscriber gets everything while the slow one is still stuck.
    await fast.count(total, 30_000);
    expect(slow.ended).toBe(false);

    slowSocket!.resume();
    await slow.until((c) => c.ended, "the slow subscription to end", 30_000);
    expect(slow.errors?.[0]?.extensions?.code).toBe("SLOW_SUBSCRIBER");
    expect(slow.items.length).toBeLessThan(total);
    const positions = slow.items.map((x) => x.position);
    expect(positions).toEqual([...positions].sort());

    // Resuming with the last cursor received brings exactly the rest.
    const rest = new Collected<EventMsg>(slowClient, query, { after: positions.at(-1), types }, "ledgerEvents");
    await rest.count(total - slow.items.length, 30_000);
    const all = [...positions, ...rest.items.map((x) => x.position)];
    expect(all).toEqual(fast.items.map((x) => x.position));
    expect(new Set(all).size).toBe(total);
    await fastClient.dispose();
    await slowClient.dispose();
  }, 90_000);
});
