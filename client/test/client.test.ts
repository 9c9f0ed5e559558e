// The client library against a running service, as a browser or a Node service would use it.
import { readFileSync } from "node:fs";
import fc from "fast-check";
import WebSocket from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestServer, startTestServer } from "../../test/support/harness.js";
import { startTcpProxy } from "../../test/support/tcp-proxy.js";
import { type ConsentChange, ConsentError, type PurposeState, consentModeState, createConsentClient, follow, openVisitorSession } from "../src/index.js";

describe("the client library", () => {
  let srv: TestServer;
  let endpoint: string;
  beforeAll(async () => {
    srv = await startTestServer();
    endpoint = srv.url.replace(/\/graphql$/, "");
  });
  afterAll(() => srv.close());

  it("reads a visitor's state, records a choice in one call, and derives Consent Mode from it", async () => {
    const session = await openVisitorSession(endpoint);
    const client = createConsentClient({ endpoint, token: session.token });
    const first = await client.state();
    expect(first).toMatchObject({ subjectId: session.subjectId, policyId: "clavis-privacy", version: 1, acceptedVersion: null, answered: false });
    const ea = first.purposes.find((p) => p.id === "external-analytics")!;
    expect(ea).toMatchObject({ mode: "OPT_OUT", consentModeTypes: ["analytics_storage"], gpcApplies: true });
    expect(ea.dataCategoryLabels.join()).toContain("クッキー");

    const receipt = await client.record({ policyVersion: 1, acceptPolicy: true, withdraw: ["external-analytics"], evidence: { channel: "test" } });
    expect(receipt.receipt.split(".")).toHaveLength(3);
    const after = await client.state("clavis-privacy");
    expect(after).toMatchObject({ acceptedVersion: 1, answered: true });
    expect(consentModeState(after.purposes)).toEqual({ analytics_storage: "denied" });
    await client.record({ policyVersion: 1, grant: ["external-analytics"] });
    expect(consentModeState((await client.state()).purposes)).toEqual({ analytics_storage: "granted" });
  });

  it("checks permissions for a service, and reports the service's error codes", async () => {
    const visitor = await openVisitorSession(endpoint);
    await createConsentClient({ endpoint, token: visitor.token }).record({ policyVersion: 1, acceptPolicy: true, grant: ["location"] });
    const service = createConsentClient({ endpoint, token: () => srv.token("shop-backend", "consent:read") });
    expect(await service.permitted(visitor.subjectId, "location")).toBe(true);
    expect(await service.permitted(visitor.subjectId, "linked-accounts")).toBe(false);
    const denied = await createConsentClient({ endpoint, token: visitor.token })
      .permitted("someone-else", "location")
      .catch((e: unknown) => e);
    expect(denied).toBeInstanceOf(ConsentError);
    expect((denied as ConsentError).code).toBe("FORBIDDEN");
  });

  it("follows the visitor's own changes over graphql-ws, in order", async () => {
    const session = await openVisitorSession(endpoint);
    const client = createConsentClient({ endpoint, token: session.token });
    const seen: ConsentChange[] = [];
    let done!: () => void;
    const two = new Promise<void>((r) => (done = r));
    const stop = follow(
      client,
      (c) => {
        seen.push(c);
        if (seen.length === 2) done();
      },
      // From the start of the log: a change recorded before the subscription is live is replayed, not missed.
      { purposeIds: ["location"], after: "0".repeat(16), webSocketImpl: WebSocket },
    );
    try {
      await client.record({ policyVersion: 1, acceptPolicy: true, grant: ["location"] });
      await client.record({ policyVersion: 1, withdraw: ["location"] });
      await two;
    } finally {
      stop();
    }
    expect(seen.map((c) => [c.purposeId, c.current.status])).toEqual([
      ["location", "GRANTED"],
      ["location", "WITHDRAWN"],
    ]);
    expect(seen.every((c) => c.subjectId === session.subjectId)).toBe(true);
  });

  it("resumes following after a lost connection from the last cursor: nothing missed, nothing twice", async () => {
    const session = await openVisitorSession(endpoint);
    const client = createConsentClient({ endpoint, token: session.token });
    const proxy = await startTcpProxy(Number(new URL(endpoint).port));
    const viaProxy = createConsentClient({ endpoint: `http://127.0.0.1:${proxy.port}`, token: session.token });
    const seen: string[] = [];
    const waiters: { n: number; resolve: () => void }[] = [];
    const reached = (n: number) => new Promise<void>((resolve) => (seen.length >= n ? resolve() : waiters.push({ n, resolve })));
    const stop = follow(
      viaProxy,
      (c) => {
        seen.push(c.current.status);
        for (const w of waiters.filter((w) => seen.length >= w.n)) w.resolve();
      },
      { purposeIds: ["location"], after: "0".repeat(16), webSocketImpl: WebSocket },
    );
    try {
      await client.record({ policyVersion: 1, acceptPolicy: true, grant: ["location"] });
      await reached(1);
      proxy.cut();
      await client.record({ policyVersion: 1, withdraw: ["location"] });
      proxy.restore();
      await reached(2);
      await client.record({ policyVersion: 1, grant: ["location"] });
      await reached(3);
    } finally {
      stop();
      await proxy.close();
    }
    expect(seen).toEqual(["GRANTED", "WITHDRAWN", "GRANTED"]);
  });

  it("names a generated operation by its sha256 (documentId) beside its text", async () => {
    let sent: { query: string; documentId?: string } | undefined;
    const fake = (async (_url: string, init: RequestInit) => {
      sent = JSON.parse(String(init.body)) as typeof sent;
      return new Response(JSON.stringify({ data: { permission: { permitted: true, reason: "GRANTED", status: "GRANTED" } } }));
    }) as unknown as typeof fetch;
    const client = createConsentClient({ endpoint: "https://consent.example.jp/", token: "t", fetch: fake });
    expect(await client.permitted("alice", "location")).toBe(true);
    expect(sent!.documentId).toMatch(/^sha256:[0-9a-f]{64}$/);
    const persisted = JSON.parse(readFileSync("client/src/gql/persisted-documents.json", "utf8")) as Record<string, string>;
    expect(persisted[sent!.documentId!]).toContain("query ClientPermission");
  });

  it("sends recordNoticeShown with the NoticeShownInput it was given", async () => {
    let sent: { query: string; variables: unknown } | undefined;
    const fake = (async (_url: string, init: RequestInit) => {
      sent = JSON.parse(String(init.body)) as typeof sent;
      return new Response(JSON.stringify({ data: { recordNoticeShown: { id: "e1", position: "1", type: "NoticeShown" } } }));
    }) as unknown as typeof fetch;
    const client = createConsentClient({ endpoint: "https://consent.example.jp/", token: "t", fetch: fake });
    const notice = { policyId: "clavis-privacy", policyVersion: 1, channel: "banner", locale: "ja-JP", noticeId: "consent-banner" };
    expect(await client.recordNotice(notice)).toEqual({ id: "e1", position: "1", type: "NoticeShown" });
    expect(sent!.query).toMatch(/recordNoticeShown\(input: \$input\)/);
    expect(sent!.variables).toEqual({ input: notice });
  });
});

describe("consentModeState", () => {
  it("grants a type exactly when some permitted purpose lists it, and denies every type before anything is known", () => {
    const types = ["analytics_storage", "ad_storage", "ad_user_data"] as const;
    const purpose = fc.record({ consentModeTypes: fc.uniqueArray(fc.constantFrom(...types)), permitted: fc.boolean() });
    fc.assert(
      fc.property(fc.array(purpose, { maxLength: 6 }), (ps) => {
        const out = consentModeState(ps as unknown as PurposeState[]);
        const denied = consentModeState(ps as unknown as PurposeState[], true);
        for (const t of types) {
          const listed = ps.some((p) => p.consentModeTypes.includes(t));
          expect(t in out).toBe(listed);
          if (listed) expect(out[t]).toBe(ps.some((p) => p.permitted && p.consentModeTypes.includes(t)) ? "granted" : "denied");
          if (listed) expect(denied[t]).toBe("denied");
        }
      }),
    );
  });
});
