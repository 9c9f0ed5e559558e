// The address guard and the sender: internal addresses refused, the checked address pinned (a name
// resolving elsewhere later changes nothing), redirects not followed, a time-out on the exchange.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LookupCache, isInternalAddress, resolveChecked } from "../../src/webhooks/address-guard.js";
import { Sender } from "../../src/webhooks/sender.js";

describe("internal addresses", () => {
  it.each(["127.0.0.1", "127.8.9.10", "10.0.0.1", "172.16.5.4", "172.31.255.255", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0", "224.0.0.1", "255.255.255.255",
    "::", "::1", "fc00::1", "fd12:3456::1", "fe80::1", "ff02::1", "::ffff:127.0.0.1", "::ffff:8.8.8.8", "64:ff9b::a00:1", "2002:a00:1::1", "not-an-ip"])("%s is internal", (a) => {
    expect(isInternalAddress(a)).toBe(true);
  });

  it.each(["8.8.8.8", "1.1.1.1", "203.0.113.10", "172.32.0.1", "192.169.0.1", "2001:4860:4860::8888", "2606:4700::1111"])("%s is public", (a) => {
    expect(isInternalAddress(a)).toBe(false);
  });

  it("every 10/8, 127/8 and 192.168/16 address is internal", () => {
    const octet = fc.integer({ min: 0, max: 255 });
    fc.assert(
      fc.property(fc.constantFrom("10", "127", "192.168"), octet, octet, octet, (head, b, c, d) => {
        const a = head === "192.168" ? `192.168.${c}.${d}` : `${head}.${b}.${c}.${d}`;
        return isInternalAddress(a) && isInternalAddress(`::ffff:${a}`);
      }),
    );
  });

  it("a name resolving to loopback is refused unless private addresses are allowed", async () => {
    await expect(resolveChecked(new URL("https://localhost/"), { allowHttp: false, allowPrivate: false })).rejects.toThrow(/loopback/);
    const ok = await resolveChecked(new URL("https://localhost/"), { allowHttp: false, allowPrivate: true });
    expect(ok.length).toBeGreaterThan(0);
  });
});

describe("the sender", () => {
  const seen: { host: string | undefined; url: string | undefined }[] = [];
  let answer: (url: string) => { status: number; headers?: Record<string, string>; hang?: boolean } = () => ({ status: 200 });
  const server = createServer((req, res) => {
    seen.push({ host: req.headers.host, url: req.url });
    const a = answer(req.url ?? "");
    req.resume();
    if (a.hang) return;
    res.writeHead(a.status, a.headers ?? {}).end();
  });
  let port = 0;
  beforeAll(async () => {
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
  const to = { address: "127.0.0.1", family: 4 as const };

  it("connects to the checked address whatever the name, and keeps the name in Host", async () => {
    const sender = new Sender({ timeoutMs: 5_000, concurrencyPerReceiver: 2 });
    const r = await sender.post(new URL(`http://rebound.invalid:${port}/pinned`), to, {}, "{}", new AbortController().signal);
    sender.close();
    expect(r).toEqual({ status: 200, error: null });
    expect(seen.at(-1)).toEqual({ host: `rebound.invalid:${port}`, url: "/pinned" });
  });

  it("does not follow a redirect", async () => {
    answer = (url) => (url === "/moved" ? { status: 307, headers: { location: `http://127.0.0.1:${port}/elsewhere` } } : { status: 200 });
    const sender = new Sender({ timeoutMs: 5_000, concurrencyPerReceiver: 2 });
    const r = await sender.post(new URL(`http://127.0.0.1:${port}/moved`), to, {}, "{}", new AbortController().signal);
    sender.close();
    expect(r.status).toBe(307);
    expect(seen.some((s) => s.url === "/elsewhere")).toBe(false);
  });

  it("gives up on a receiver that does not answer in time", async () => {
    answer = () => ({ status: 200, hang: true });
    const sender = new Sender({ timeoutMs: 50, concurrencyPerReceiver: 2 });
    const r = await sender.post(new URL(`http://127.0.0.1:${port}/slow`), to, {}, "{}", new AbortController().signal);
    sender.close();
    expect(r).toEqual({ status: null, error: "no answer within 50 ms" });
  });
});

describe("the lookup cache", () => {
  const policy = { allowHttp: true, allowPrivate: false };
  const url = new URL("https://receiver.example/hook");

  it("keeps a name's answer for its TTL only, and checks every address it holds at each use", async () => {
    let now = 0;
    let answer = [{ address: "203.0.113.7", family: 4 }];
    let lookups = 0;
    const cache = new LookupCache(5_000, () => now, async () => (lookups++, answer));
    expect(await resolveChecked(url, policy, cache)).toEqual([{ address: "203.0.113.7", family: 4 }]);
    // The name is re-pointed at a private address: within the TTL the checked answer is used again.
    answer = [{ address: "10.1.2.3", family: 4 }];
    now = 4_999;
    expect(await resolveChecked(url, policy, cache)).toEqual([{ address: "203.0.113.7", family: 4 }]);
    expect(lookups).toBe(1);
    // After the TTL the name is looked up again, and the new address refused.
    now = 5_000;
    await expect(resolveChecked(url, policy, cache)).rejects.toThrow(/10\.1\.2\.3.*internal/);
    expect(lookups).toBe(2);
    // A kept answer is checked again at each use: with private addresses refused, it stays refused.
    await expect(resolveChecked(url, policy, cache)).rejects.toThrow(/internal/);
    expect(lookups).toBe(2);
    expect(await resolveChecked(url, { ...policy, allowPrivate: true }, cache)).toEqual([{ address: "10.1.2.3", family: 4 }]);
  });

  it("does not keep a failed lookup", async () => {
    let fail = true;
    const cache = new LookupCache(60_000, () => 0, async () => {
      if (fail) throw Object.assign(new Error("no such name"), { code: "ENOTFOUND" });
      return [{ address: "198.51.100.4", family: 4 }];
    });
    await expect(resolveChecked(url, policy, cache)).rejects.toThrow(/does not resolve \(ENOTFOUND\)/);
    fail = false;
    expect(await resolveChecked(url, policy, cache)).toEqual([{ address: "198.51.100.4", family: 4 }]);
  });
});
