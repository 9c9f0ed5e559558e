// Who read personal evidence on a live feed: a subscription that delivers a subject's sealed evidence
// to someone else records one PersonalDataAccessed in that subject's stream, naming the reader; the
// subject's own subscription records none; the record itself reveals nothing. SQLite and PostgreSQL.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Client } from "graphql-ws";
import type { TestServer } from "../support/harness.js";
import { startTestServer } from "../support/harness.js";
import { freshDatabase } from "../support/postgres.js";
import { Collected, untilSubscriptions, wsClient } from "./ws-client.js";

const BACKENDS: [string, () => Promise<Record<string, string>>][] = [
  ["SQLite", async () => ({})],
  ["PostgreSQL", async () => ({ DATABASE_URL: await freshDatabase("feed_access") })],
];

const EVENTS_WITH_DATA = `subscription { ledgerEvents { position type subjectId actor { kind id } data } }`;
const EVENTS_PLAIN = `subscription { ledgerEvents { position type subjectId } }`;
const OWN_CHANGES = `subscription { consentChanged { subjectId purposeId event { position type data } } }`;
const RECORD = `mutation R($input: RecordConsentInput!) { recordConsent(input: $input) { events { position } } }`;
const HISTORY = `query($s: ID!) { events(subjectId: $s, first: 100) { edges { node { type actor { kind id } } } } }`;

interface EventMsg {
  position: string;
  type: string;
  subjectId: string | null;
  actor?: { kind: string; id: string };
  data?: Record<string, unknown>;
}

describe.each(BACKENDS)("live feeds record who read personal evidence on %s", (_name, env) => {
  let srv: TestServer;
  const clients: Client[] = [];
  const client = (token: string) => {
    const c = wsClient(srv.url, token);
    clients.push(c);
    return c;
  };
  const record = async (subjectId: string, input: Record<string, unknown>, token?: string) => {
    const r = await srv.gql(RECORD, { input: { policyVersion: 1, ...input, ...(token ? {} : { subjectId }) } }, token ?? (await srv.token("svc-writer", "consent:write")));
    if (r.errors) throw new Error(JSON.stringify(r.errors));
  };
  /** The subject's history as an auditor sees it without reading any evidence. */
  const history = async (s: string) =>
    (await srv.gql<{ events: { edges: { node: { type: string; actor: { kind: string; id: string } } }[] } }>(HISTORY, { s }, await srv.token("auditor", "ledger:read"))).data!.events.edges.map((e) => e.node);
  /** Waits until the server holds `count` more subscriptions than `before` (live-only subscriptions are live only then). */
  const subscribed = (before: number, count: number) => untilSubscriptions(srv.app.services.changes, before + count);

  beforeAll(async () => {
    srv = await startTestServer({ env: await env() });
  });
  // Each test ends its subscriptions: an officer's feed left open would read the next test's evidence.
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.dispose()));
    await untilSubscriptions(srv.app.services.changes, 0, { atMost: true });
  });
  afterAll(() => srv.close());

  it("an officer's subscription leaves exactly one PersonalDataAccessed naming the officer; the subject's own leaves none", async () => {
    const [alice, bob, marker] = ["feed-alice", "feed-bob", "feed-marker"];
    const before = srv.app.services.changes.size;
    const officer = new Collected<EventMsg>(client(await srv.token("officer-kato", "ledger:read")), EVENTS_WITH_DATA, {}, "ledgerEvents");
    // Follows everything without reading any evidence: it sees each record arrive.
    const watcher = new Collected<EventMsg>(client(await srv.token("watcher", "ledger:read")), EVENTS_PLAIN, {}, "ledgerEvents");
    const bobToken = await srv.token(bob, "consent:self");
    const own = new Collected<{ event: { type: string; data: Record<string, unknown> } }>(client(bobToken), OWN_CHANGES, {}, "consentChanged");
    await subscribed(before, 3);

    const accessesOf = (s: string) => officer.items.filter((e) => e.type === "PersonalDataAccessed" && e.subjectId === s);
    await record(alice, { acceptPolicy: true, grant: ["location"], evidence: { userAgent: "FeedBrowser/1.0", formId: "signup" } });
    await officer.until(() => accessesOf(alice).length === 1, "the record of the officer's read of alice's evidence");
    const revealed = officer.items.find((e) => e.subjectId === alice && e.type === "PolicyAccepted")!;
    expect(revealed.data!.evidence).toMatchObject({ userAgent: "FeedBrowser/1.0" });
    // The record names the officer and what was read, and holds no evidence of its own.
    const [access] = accessesOf(alice);
    expect(access!.actor).toEqual({ kind: "OFFICER", id: "officer-kato" });
    expect(access!.data).toEqual({ read: "sealed evidence in the ledgerEvents feed" });

    // More of alice's evidence on the same subscription records nothing more; bob's own feed records nothing.
    await record(alice, { grant: ["linked-accounts"], evidence: { userAgent: "FeedBrowser/1.0", formId: "settings" } });
    await record(bob, { acceptPolicy: true, grant: ["location"], evidence: { userAgent: "BobBrowser/2.0" } }, bobToken);
    await own.until((c) => c.items.some((m) => m.event.type === "ConsentGranted"), "bob's own change");
    expect(own.items.find((m) => m.event.type === "ConsentGranted")!.event.data.evidence).toMatchObject({ userAgent: "BobBrowser/2.0" });
    // A write after every delivery above: any record they caused was asked for before it.
    await officer.until(() => officer.items.some((e) => e.subjectId === bob && e.type === "ConsentGranted"), "bob's grant on the officer's feed");
    await record(marker, { acceptPolicy: true });
    await watcher.until((c) => c.items.some((e) => e.subjectId === marker), "the marker");

    const aliceHistory = await history(alice);
    expect(aliceHistory.filter((e) => e.type === "PersonalDataAccessed")).toEqual([{ type: "PersonalDataAccessed", actor: { kind: "OFFICER", id: "officer-kato" } }]);
    // bob's evidence went to the officer too (one record), and to bob himself (none).
    expect((await history(bob)).filter((e) => e.type === "PersonalDataAccessed")).toEqual([{ type: "PersonalDataAccessed", actor: { kind: "OFFICER", id: "officer-kato" } }]);
    // The marker carries no evidence, so its delivery records nothing.
    expect((await history(marker)).filter((e) => e.type === "PersonalDataAccessed")).toEqual([]);
  });

  it("the subject's own subscription alone records nothing, and a feed without evidence records nothing", async () => {
    const carol = "feed-carol";
    const carolToken = await srv.token(carol, "consent:self");
    const before = srv.app.services.changes.size;
    const own = new Collected<{ event: { type: string; data: Record<string, unknown> } }>(client(carolToken), OWN_CHANGES, {}, "consentChanged");
    const watcher = new Collected<EventMsg>(client(await srv.token("watcher-2", "ledger:read")), EVENTS_PLAIN, {}, "ledgerEvents");
    await subscribed(before, 2);
    await record(carol, { acceptPolicy: true, grant: ["location"], evidence: { userAgent: "CarolBrowser/3.0" } }, carolToken);
    await own.until((c) => c.items.some((m) => m.event.type === "ConsentGranted"), "carol's own change");
    expect(own.items.find((m) => m.event.type === "ConsentGranted")!.event.data.evidence).toMatchObject({ userAgent: "CarolBrowser/3.0" });
    await record("feed-marker-2", { acceptPolicy: true });
    await watcher.until((c) => c.items.some((e) => e.subjectId === "feed-marker-2"), "the marker");
    expect((await history(carol)).map((e) => e.type)).not.toContain("PersonalDataAccessed");
  });
});
