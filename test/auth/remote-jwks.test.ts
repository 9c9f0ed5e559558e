// A remote JWKS: a new key is picked up within 5 s, a removed one stops working within
// AUTH_JWKS_MAX_AGE_SECONDS, refusals are logged with their reason, and /readyz says when keys cannot be fetched.
import { type Server, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { type CryptoKey, type JWK, SignJWT, exportJWK, generateKeyPair } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { memoryLogger } from "../api/helpers.js";
import { eventually } from "../support/common.js";
import { type TestServer, startTestServer } from "../support/harness.js";

const ISSUER = "https://idp.test";
const AUDIENCE = "consent-ledger";
const MAX_AGE_SECONDS = 2;

interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

async function signingKey(kid: string): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair("ES256");
  return { kid, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg: "ES256", use: "sig" } };
}

const nowS = () => Math.floor(Date.now() / 1000);
const tokenFor = (key: SigningKey, sub = "alice"): Promise<string> =>
  new SignJWT({ scope: "consent:self" }).setProtectedHeader({ alg: "ES256", kid: key.kid, typ: "JWT" })
    .setIssuer(ISSUER).setAudience(AUDIENCE).setSubject(sub).setIssuedAt().setExpirationTime(nowS() + 600).sign(key.privateKey);

/** A stand-in identity provider on loopback: serves whichever keys the test publishes, or fails. */
class FakeIdentityProvider {
  keys: JWK[] = [];
  failing = false;
  fetches = 0;
  private server!: Server;
  url = "";

  async start(): Promise<void> {
    this.server = createServer((_req, res) => {
      this.fetches += 1;
      if (this.failing) {
        res.writeHead(500).end("down");
        return;
      }
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ keys: this.keys }));
    });
    await new Promise<void>((r) => this.server.listen(0, "127.0.0.1", () => r()));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/.well-known/jwks.json`;
  }
  stop(): Promise<void> {
    return new Promise((r) => this.server.close(() => r()));
  }
}

const me = async (srv: TestServer, token: string) => (await srv.gql<{ me: { id: string } }>(`{ me { id } }`, {}, token));

/**
 * How long until `check` holds, or null past `ms`. The JWKS cache ages on the real clock (jose's
 * remote key set reads Date.now), so the service is asked again until it has refreshed.
 */
async function within(ms: number, check: () => Promise<boolean>): Promise<number | null> {
  const start = Date.now();
  return eventually("the key set refreshed", check, { timeoutMs: ms, intervalMs: 200 }).then(
    () => Date.now() - start,
    () => null,
  );
}

describe("a service verifying tokens against a remote JWKS", () => {
  const idp = new FakeIdentityProvider();
  const log = memoryLogger();
  let srv: TestServer;
  let keyA: SigningKey;
  let keyB: SigningKey;

  beforeAll(async () => {
    await idp.start();
    [keyA, keyB] = await Promise.all([signingKey("key-a"), signingKey("key-b")]);
    idp.keys = [keyA.publicJwk];
    srv = await startTestServer({
      logger: log.logger,
      env: { AUTH_JWKS_URL: idp.url, AUTH_ISSUER: ISSUER, AUTH_AUDIENCE: AUDIENCE, AUTH_JWKS_MAX_AGE_SECONDS: String(MAX_AGE_SECONDS) },
    });
  });
  afterAll(async () => {
    await srv.close();
    await idp.stop();
  });

  it("accepts a token signed by a published key and is ready", async () => {
    expect((await me(srv, await tokenFor(keyA))).data?.me.id).toBe("alice");
    const ready = await fetch(new URL("/readyz", srv.url));
    expect(ready.status).toBe(200);
  });

  it("logs a refused token at info with its reason, never the token", async () => {
    const wrongAudience = await new SignJWT({}).setProtectedHeader({ alg: "ES256", kid: keyA.kid })
      .setIssuer(ISSUER).setAudience("someone-else").setSubject("mallory").setExpirationTime(nowS() + 600).sign(keyA.privateKey);
    expect((await me(srv, wrongAudience)).code).toBe("UNAUTHENTICATED");
    const line = log.lines().find((l) => l["msg"] === "access token refused" && String(l["reason"]).includes("aud"));
    expect(line, log.text()).toBeDefined();
    expect(line!["level"]).toBe(30);
    expect(log.text()).not.toContain(wrongAudience);
    expect(log.text()).not.toContain(wrongAudience.split(".")[2]);
  });

  it("fetches the JWKS again for an unknown kid, so a new key works within 5 seconds", async () => {
    const tokenB = await tokenFor(keyB, "bob");
    expect((await me(srv, tokenB)).code).toBe("UNAUTHENTICATED");
    expect(log.lines().some((l) => l["msg"] === "access token refused" && String(l["reason"]).includes("ERR_JWKS_NO_MATCHING_KEY"))).toBe(true);
    idp.keys = [keyA.publicJwk, keyB.publicJwk];
    // The contract's bound is 5 s; the extra seconds only absorb a loaded machine.
    const took = await within(8_000, async () => (await me(srv, tokenB)).data?.me.id === "bob");
    expect(took).not.toBeNull();
    expect(took!).toBeLessThan(5_000 + 1_500);
  });

  it("stops trusting a removed key within AUTH_JWKS_MAX_AGE_SECONDS, even for a token it accepted before", async () => {
    const tokenA = await tokenFor(keyA, "carol");
    expect((await me(srv, tokenA)).data?.me.id).toBe("carol");
    idp.keys = [keyB.publicJwk];
    const took = await within(MAX_AGE_SECONDS * 1000 + 5_000, async () => (await me(srv, tokenA)).code === "UNAUTHENTICATED");
    expect(took).not.toBeNull();
    // A fresh token from the removed key is refused as well.
    expect((await me(srv, await tokenFor(keyA, "dave"))).code).toBe("UNAUTHENTICATED");
  });

  it("answers /readyz 503 with a reason once the JWKS cannot be fetched, and 200 again when it can", async () => {
    idp.failing = true;
    const notReady = await within(MAX_AGE_SECONDS * 1000 + 7_000, async () => (await fetch(new URL("/readyz", srv.url))).status === 503);
    expect(notReady).not.toBeNull();
    const body = (await (await fetch(new URL("/readyz", srv.url))).json()) as { status: string; reason: string };
    expect(body.status).toBe("access tokens cannot be checked");
    expect(body.reason).toContain(idp.url);
    // Probes do not turn into a fetch per probe against a failing issuer.
    const before = idp.fetches;
    for (let i = 0; i < 5; i++) await fetch(new URL("/readyz", srv.url));
    expect(idp.fetches - before).toBeLessThanOrEqual(1);
    idp.failing = false;
    const ready = await within(8_000, async () => (await fetch(new URL("/readyz", srv.url))).status === 200);
    expect(ready).not.toBeNull();
  });
});

describe("a service whose JWKS URL answers nothing", () => {
  it("is not ready, says why, and refuses tokens with the reason in the log", async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", () => r()));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const log = memoryLogger();
    const srv = await startTestServer({
      logger: log.logger,
      env: { AUTH_JWKS_URL: `http://127.0.0.1:${port}/jwks.json`, AUTH_ISSUER: ISSUER, AUTH_AUDIENCE: AUDIENCE },
    });
    try {
      const res = await fetch(new URL("/readyz", srv.url));
      expect(res.status).toBe(503);
      const body = (await res.json()) as { reason: string };
      expect(body.reason).toMatch(/cannot be fetched.*ECONNREFUSED/);
      const key = await signingKey("k");
      expect((await me(srv, await tokenFor(key))).code).toBe("UNAUTHENTICATED");
      expect(log.lines().some((l) => l["msg"] === "access token refused" && /JWKS unreachable/.test(String(l["reason"])))).toBe(true);
    } finally {
      await srv.close();
    }
  });
});
