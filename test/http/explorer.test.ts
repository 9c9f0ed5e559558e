// A browser opening /graphql in dev mode gets the GraphQL explorer, served from this origin; every other
// request to /graphql is the API as before, with CSRF prevention intact; in JWKS mode there is no explorer.
import { generateKeyPairSync } from "node:crypto";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestServer, startTestServer } from "../support/harness.js";
import { makeTempDir } from "../support/common.js";

const PAGE = `<!doctype html><title>explorer</title><script type="module" src="/web/assets/explorer-x.js"></script>`;
const HTML = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

let webDir: string;
beforeAll(() => {
  webDir = makeTempDir("ledger-explorer-");
  mkdirSync(join(webDir, "explorer"));
  writeFileSync(join(webDir, "explorer", "index.html"), PAGE);
});
afterAll(() => rmSync(webDir, { recursive: true, force: true }));

describe("in dev mode", () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startTestServer({ env: { WEB_DIR: webDir } });
  });
  afterAll(() => srv.close());

  it("a browser opening /graphql gets the explorer page, from this origin only", async () => {
    const res = await fetch(srv.url, { headers: { accept: HTML } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(await res.text()).toBe(PAGE);
    const csp = res.headers.get("content-security-policy")!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).not.toMatch(/https?:|\*/);
    expect(res.headers.get("vary")).toContain("Accept");
  });

  it("a GraphQL GET with a query, and a GET asking for JSON, are still the API, with CSRF prevention", async () => {
    // A page load cannot carry a query: a GET with one is an API request, refused as a simple cross-site request.
    const withQuery = await fetch(`${srv.url}?query=${encodeURIComponent("{ me { id } }")}`, { headers: { accept: HTML } });
    expect(withQuery.status).toBe(400);
    expect(await withQuery.text()).toMatch(/CSRF/);
    const json = await fetch(srv.url, { headers: { accept: "application/json" } });
    expect(json.headers.get("content-type")).not.toContain("text/html");
    // A form-style POST is refused as before.
    const form = await fetch(srv.url, { method: "POST", headers: { "content-type": "text/plain", accept: HTML }, body: `{"query":"{ me { id } }"}` });
    expect(form.status).toBe(400);
    expect(await form.text()).toMatch(/CSRF/);
  });

  it("says how to build it when the page is missing", async () => {
    const bare = await startTestServer({ env: { WEB_DIR: join(webDir, "none") } });
    try {
      const res = await fetch(bare.url, { headers: { accept: HTML } });
      expect(res.status).toBe(503);
      expect(await res.text()).toMatch(/GraphQL explorer is not built .* run npm run build/);
    } finally {
      await bare.close();
    }
  });
});

describe("in JWKS mode", () => {
  it("there is no explorer: a page load of /graphql is an API request", async () => {
    const dir = makeTempDir("ledger-jwks-");
    const { publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    writeFileSync(join(dir, "jwks.json"), JSON.stringify({ keys: [{ ...publicKey.export({ format: "jwk" }), kid: "k1", alg: "ES256", use: "sig" }] }));
    const srv = await startTestServer({ env: { WEB_DIR: webDir, AUTH_JWKS_FILE: join(dir, "jwks.json"), AUTH_ISSUER: "https://idp.example", AUTH_AUDIENCE: "ledger" } });
    try {
      const res = await fetch(srv.url, { headers: { accept: HTML } });
      expect(res.headers.get("content-type") ?? "").not.toContain("text/html");
      expect(await res.text()).not.toBe(PAGE);
    } finally {
      await srv.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
