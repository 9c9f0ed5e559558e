// Subscribers of the same operation share each change's execution: the answers stay each caller's own
// (masking by scope and subject), ordered and exactly once, and a resumed subscriber rejoins the live feed.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Client } from "graphql-ws";
import type { TestServer } from "../support/harness.js";
import { startTestServer } from "../support/harness.js";
import { Collected, untilSubscriptions, wsClient } from "./ws-client.js";

const WITH_DATA = `subscription Changes($s: ID, $after: String) {
  consentChanged(subjectId: $s, after: $after) { cursor subjectId purposeId current { status } event { position type subjectId data } }
}`;

const EVENTS_WITH_DATA = `subscription Events($after: String) { ledgerEvents(after: $after) { position type subjectId data } }`;

interface Change {
  cursor: string;
  subjectId: string;
  purposeId: string;
  current: { status: string };
  event: { position: string; type: string; subjectId: string | null; data: Record<string, unknown> };
}

const RECORD = `mutation R($input: RecordConsentInput!) { recordConsent(input: $input) { events { position } } }`;
const ip = "203.0.113.77";
const agent = "SharedFanoutBrowser/2.0";

let srv: TestServer;
let n = 0;
const fresh = (p: string) => `${p}-${process.pid}-${++n}`;
const clients: Client[] = [];
const client = (token: string) => {
  const c = wsClient(srv.url, token);
  clients.push(c);
  return c;
};

async function record(subjectId: string, input: Record<string, unknown>): Promise<void> {
  const token = await srv.token("svc-writer", "consent:write");
  const r = await srv.gql(RECORD, { input: { subjectId, policyVersion: 1, ...input } }, token);
  if (r.errors) throw new Error(JSON.stringify(r.errors));
}

/** Waits until the server holds `count` more subscriptions than `before` (live-only subscriptions are live only then). */
const subscribed = (before: number, count: number): Promise<void> => untilSubscriptions(srv.app.services.changes, before + count);

beforeAll(async () => {
  srv = await startTestServer();
});
// Each test starts with no subscription open, so counting the server's subscriptions tells when its own are live.
afterEach(() => untilSubscriptions(srv.app.services.changes, 0, { atMost: true }));
afterAll(async () => {
  await Promise.all(clients.map((c) => c.dispose()));
  await srv.close();
});

describe("one live change, many callers on the same operation", () => {
  it("shows the evidence only to the subject and ledger:read, whichever subscriber's execution comes first", async () => {
    const subject = fresh("shared");
    await record(subject, { acceptPolicy: true });
    const vars = { s: subject };
    const redactedToken = () => srv.token(fresh("svc-read"), "consent:read");
    const openTokens = [() => srv.token(fresh("auditor"), "ledger:read consent:read"), () => srv.token(subject, "consent:self")];
    // Interleaved, so the first to execute a change is sometimes redacted, sometimes not.
    const kinds = ["redacted", "open", "redacted", "open", "redacted"] as const;
    const before = srv.app.services.changes.size;
    const subs: { kind: (typeof kinds)[number]; sub: Collected<Change> }[] = [];
    let opened = 0;
    for (const kind of kinds) {
      const token = kind === "redacted" ? await redactedToken() : await openTokens[opened++ % 2]!();
      subs.push({ kind, sub: new Collected<Change>(client(token), WITH_DATA, vars, "consentChanged") });
    }
    await subscribed(before, kinds.length);
    await record(subject, { grant: ["location"], evidence: { ipAddress: ip, userAgent: agent } });
    await record(subject, { withdraw: ["location"], evidence: { ipAddress: ip, userAgent: agent } });
    // A third change after them: once it arrives, nothing else came between.
    await record(subject, { grant: ["location"] });
    for (const { sub } of subs) await sub.count(3);
    for (const { sub } of subs) {
      expect(sub.items).toHaveLength(3);
      expect(sub.items.pop()!.current.status).toBe("GRANTED");
    }

    const redacted = subs.filter((s) => s.kind === "redacted").map((s) => s.sub.items);
    const open = subs.filter((s) => s.kind === "open").map((s) => s.sub.items);
    for (const items of redacted) {
      expect(items).toEqual(redacted[0]);
      expect(JSON.stringify(items)).not.toContain(ip);
      expect(items.map((c) => c.event.data["evidence"])).toEqual([{ redacted: true }, { redacted: true }]);
    }
    for (const items of open) {
      expect(items).toEqual(open[0]);
      expect(items.map((c) => c.event.data["evidence"])).toEqual([expect.objectContaining({ ipAddress: ip, userAgent: agent }), expect.objectContaining({ ipAddress: ip })]);
    }
    // Apart from the evidence, every caller saw the same changes.
    const withoutData = (items: Change[]) => items.map(({ event: { data: _data, ...event }, ...c }) => ({ ...c, event }));
    expect(withoutData(open[0]!)).toEqual(withoutData(redacted[0]!));
    expect(open[0]!.map((c) => [c.purposeId, c.current.status])).toEqual([
      ["location", "GRANTED"],
      ["location", "WITHDRAWN"],
    ]);
    for (const { sub } of subs) sub.unsubscribe();
  });

  it("gives a consent:self subscriber only its own evidence, though subjects' changes arrive in the same commits", async () => {
    const alice = fresh("alice");
    const bob = fresh("bob");
    const before = srv.app.services.changes.size;
    const auditor = new Collected<{ subjectId: string | null; type: string; data: Record<string, unknown> }>(
      client(await srv.token(fresh("auditor"), "ledger:read")),
      EVENTS_WITH_DATA,
      {},
      "ledgerEvents",
    );
    const mine = new Collected<Change>(client(await srv.token(alice, "consent:self")), WITH_DATA, {}, "consentChanged");
    const reader = new Collected<Change>(client(await srv.token(fresh("svc-read"), "consent:read")), WITH_DATA, {}, "consentChanged");
    await subscribed(before, 3);
    await Promise.all([
      record(alice, { acceptPolicy: true, grant: ["location"], evidence: { ipAddress: ip, userAgent: agent } }),
      record(bob, { acceptPolicy: true, grant: ["location"], evidence: { ipAddress: ip, userAgent: agent } }),
    ]);
    await reader.until((c) => new Set(c.items.map((x) => x.subjectId)).size === 2 && c.items.some((x) => x.purposeId === "location" && x.subjectId === bob) && c.items.some((x) => x.purposeId === "location" && x.subjectId === alice), "both grants");
    await mine.until((c) => c.items.some((x) => x.purposeId === "location"), "alice's grant");
    await auditor.until((c) => c.items.filter((e) => e.type === "ConsentGranted").length >= 2, "both grant events");
    // A later change of alice's: once every subscriber has it, every grant has been delivered.
    await record(alice, { withdraw: ["location"] });
    const withdrawn = (x: { subjectId: string | null; event?: { type: string }; type?: string }) => x.subjectId === alice && (x.event?.type ?? x.type) === "ConsentWithdrawn";
    await mine.until((c) => c.items.some(withdrawn), "alice's withdrawal");
    await reader.until((c) => c.items.some(withdrawn), "alice's withdrawal");
    await auditor.until((c) => c.items.some(withdrawn), "alice's withdrawal");

    expect(new Set(mine.items.map((x) => x.subjectId))).toEqual(new Set([alice]));
    expect(mine.items.find((x) => x.event.type === "ConsentGranted")!.event.data["evidence"]).toMatchObject({ ipAddress: ip });
    const readerGrants = reader.items.filter((x) => x.event.type === "ConsentGranted" && (x.subjectId === alice || x.subjectId === bob));
    expect(readerGrants).toHaveLength(2);
    for (const g of readerGrants) expect(g.event.data["evidence"]).toEqual({ redacted: true });
    const auditorGrants = auditor.items.filter((e) => e.type === "ConsentGranted" && (e.subjectId === alice || e.subjectId === bob));
    expect(auditorGrants).toHaveLength(2);
    for (const g of auditorGrants) expect(g.data["evidence"]).toMatchObject({ ipAddress: ip });
    auditor.unsubscribe();
    mine.unsubscribe();
    reader.unsubscribe();
  });

  it("delivers every change exactly once and in order to each of many subscribers, one of them resuming by cursor mid-stream", async () => {
    const subject = fresh("many");
    await record(subject, { acceptPolicy: true });
    const token = await srv.token(fresh("svc-read"), "consent:read");
    const vars = { s: subject };
    const before = srv.app.services.changes.size;
    const connections = [client(token), client(token), client(token)];
    const subs = Array.from({ length: 9 }, (_, i) => new Collected<Change>(connections[i % 3]!, WITH_DATA, vars, "consentChanged"));
    await subscribed(before, subs.length);
    const toggles = 30;
    // The writer pauses after eight toggles until the leaving subscriber is back, so changes come before, during and after.
    let back!: () => void;
    const rejoined = new Promise<void>((r) => (back = r));
    const writer = (async () => {
      for (let i = 0; i < toggles; i++) {
        if (i === 8) await rejoined;
        await record(subject, i % 2 === 0 ? { grant: ["location"] } : { withdraw: ["location"] });
      }
    })();
    // One subscriber leaves after a few changes and comes back with the last cursor it received.
    const leaving = subs[4]!;
    await leaving.count(4);
    leaving.unsubscribe();
    const last = leaving.items.at(-1)!.cursor;
    const resumed = new Collected<Change>(connections[1]!, WITH_DATA, { ...vars, after: last }, "consentChanged");
    back();
    await writer;
    // One more change after the writer's: when it has arrived everywhere, a duplicate would have come before it.
    await record(subject, { grant: ["location"] });
    const total = toggles + 1;
    const expected = Array.from({ length: total }, (_, i) => (i % 2 === 0 ? "GRANTED" : "WITHDRAWN"));
    const streams = [...subs.filter((s) => s !== leaving).map((s) => s.items), null];
    for (const s of subs) if (s !== leaving) await s.count(total);
    await resumed.until(() => leaving.items.length + resumed.items.length >= total, `${total} changes across the resume`);
    streams[streams.length - 1] = [...leaving.items, ...resumed.items];
    for (const items of streams) {
      expect(items!.map((c) => c.current.status)).toEqual(expected);
      expect(new Set(items!.map((c) => c.cursor)).size).toBe(total);
      expect(items!.map((c) => c.cursor)).toEqual([...items!.map((c) => c.cursor)].sort());
      expect(items).toEqual(streams[0]);
    }
    for (const s of subs) s.unsubscribe();
    resumed.unsubscribe();
  });
});
