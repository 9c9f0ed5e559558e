// Readiness and graceful shutdown with the store closed, or a request held (a spy on its ledger), under
// the serving process: so this suite runs where the test's process serves (not with WORKERS > 1, whose
// workers are other processes).
import { afterEach, describe, expect, it, vi } from "vitest";
import { type TestServer, startTestServer } from "../support/harness.js";
import { freshId, recordConsent } from "./helpers.js";

afterEach(() => vi.restoreAllMocks());

const get = (s: TestServer, path: string) => fetch(new URL(path, s.url));

describe("/readyz", () => {
  it("/readyz turns 503 once the store is closed under the app, while /healthz stays 200", async () => {
    const s = await startTestServer();
    try {
      expect((await get(s, "/readyz")).status).toBe(200);
      await s.app.services.ledger.storage.close();
      const r = await get(s, "/readyz");
      expect(r.status).toBe(503);
      expect((await get(s, "/healthz")).status).toBe(200);
      // A write now fails as the store being unavailable, not as a crash with internals.
      const w = await recordConsent(s, await s.token(freshId(), "consent:self"), { policyVersion: 1, acceptPolicy: true });
      expect(w.code).toBe("STORE_UNAVAILABLE");
      expect(JSON.stringify(w.errors)).not.toMatch(/sqlite|\.ts:|stack/i);
    } finally {
      await s.close();
    }
  });

  it("/readyz turns 503 as soon as the server starts draining", async () => {
    const s = await startTestServer();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const ledger = s.app.services.ledger;
    const original = ledger.recordConsent.bind(ledger);
    vi.spyOn(ledger, "recordConsent").mockImplementation(async (...args) => {
      await gate;
      return original(...args);
    });
    const inflight = recordConsent(s, await s.token(freshId(), "consent:self"), { policyVersion: 1, acceptPolicy: true });
    await vi.waitFor(() => expect(ledger.recordConsent).toHaveBeenCalled());
    // close() marks the server draining before it waits for anything.
    const closing = s.close();
    // The port may already refuse new connections; if it answers at all, it answers 503.
    const ready = await get(s, "/readyz").then((r) => r.status, () => "refused");
    expect([503, "refused"]).toContain(ready);
    release();
    expect((await inflight).errors).toBeUndefined();
    await closing;
  });
});

describe("graceful shutdown (in-process)", () => {
  it("an in-flight request finishes when close() is called; new connections are refused after; the store closes last", async () => {
    const s = await startTestServer();
    const ledger = s.app.services.ledger;
    const original = ledger.recordConsent.bind(ledger);
    let started = false;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    vi.spyOn(ledger, "recordConsent").mockImplementation(async (...args) => {
      started = true;
      await gate;
      return original(...args);
    });
    const me = freshId();
    const inflight = recordConsent(s, await s.token(me, "consent:self"), { policyVersion: 1, acceptPolicy: true, grant: ["location"] });
    await vi.waitFor(() => expect(started).toBe(true));
    let closed = false;
    const closing = s.app.close().then(() => (closed = true));
    // Once the port refuses new connections, close() has gone as far as it can without the request.
    await vi.waitFor(() => expect(fetch(new URL("/healthz", s.url))).rejects.toThrow(), { timeout: 10_000 });
    expect(closed).toBe(false);
    expect(ledger.isWritable()).toBe(true);
    release();
    const r = await inflight;
    expect(r.errors).toBeUndefined();
    expect(r.data?.recordConsent.events.map((e) => e.type)).toEqual(["PolicyAccepted", "ConsentGranted"]);
    await closing;
    expect(ledger.isWritable()).toBe(false);
    await expect(fetch(new URL("/healthz", s.url))).rejects.toThrow();
    await s.close();
  });
});

