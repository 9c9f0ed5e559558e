// Browsers on other origins and the served web pages: CORS, GET queries, static files.
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestServer, startTestServer } from "../support/harness.js";
import { makeTempDir } from "../support/common.js";

const FRONT_END = "https://www.example.jp";
const ME = "{ me { id } }";

describe("CORS_ORIGINS lists the front ends that may call /graphql", () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startTestServer({ env: { CORS_ORIGINS: `${FRONT_END},http://localhost:5173` } });
  });
  afterAll(() => srv.close());

  const preflight = (origin: string) =>
    fetch(srv.url, {
      method: "OPTIONS",
      headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "authorization, content-type" },
    });

  it("answers a preflight from a listed origin: Authorization allowed, no credentials", async () => {
    const res = await preflight(FRONT_END);
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe(FRONT_END);
    expect(res.headers.get("access-control-allow-headers")?.toLowerCase()).toContain("authorization");
    expect(res.headers.get("access-control-allow-methods")).toContain("POST");
    expect(res.headers.get("access-control-allow-credentials")).toBeNull();
    expect(res.headers.get("vary")).toContain("Origin");
  });

  it("refuses a preflight from an origin not listed, without CORS headers", async () => {
    const res = await preflight("https://evil.example");
    expect(res.status).toBe(403);
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("lets a listed origin read the answer to a POST; another origin gets no allow header", async () => {
    const token = await srv.token("alice", "consent:self");
    const post = (origin: string) =>
      fetch(srv.url, { method: "POST", headers: { origin, "content-type": "application/json", authorization: `Bearer ${token}` }, body: JSON.stringify({ query: ME }) });
    const ok = await post(FRONT_END);
    expect(ok.headers.get("access-control-allow-origin")).toBe(FRONT_END);
    expect(((await ok.json()) as { data: { me: { id: string } } }).data.me.id).toBe("alice");
    const other = await post("https://evil.example");
    expect(other.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("allows no origin by default", async () => {
    const plain = await startTestServer();
    try {
      const res = await fetch(plain.url, { method: "OPTIONS", headers: { origin: FRONT_END, "access-control-request-method": "POST" } });
      expect(res.headers.get("access-control-allow-origin")).toBeNull();
    } finally {
      await plain.close();
    }
  });

  it("with *, any origin may call and the answer says *", async () => {
    const any = await startTestServer({ env: { CORS_ORIGINS: "*" } });
    try {
      const res = await fetch(any.url, { method: "OPTIONS", headers: { origin: "https://anything.example", "access-control-request-method": "GET" } });
      expect(res.status).toBe(204);
      expect(res.headers.get("access-control-allow-origin")).toBe("*");
    } finally {
      await any.close();
    }
  });
});

describe("GET /graphql", () => {
  let srv: TestServer;
  let token: string;
  beforeAll(async () => {
    srv = await startTestServer();
    token = await srv.token("bob", "consent:self");
  });
  afterAll(() => srv.close());

  const get = (query: string, headers: Record<string, string>) =>
    fetch(`${srv.url}?${new URLSearchParams({ query })}`, { headers });

  it("answers a query sent with an Authorization header (as urql sends it)", async () => {
    const res = await get(ME, { authorization: `Bearer ${token}` });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { data: { me: { id: string } } }).data.me.id).toBe("bob");
  });

  it("never runs a mutation", async () => {
    const res = await get(`mutation { leaveService { id status } }`, { authorization: `Bearer ${token}` });
    expect(res.status).toBe(405);
    const me = await srv.gql<{ me: { status: string } }>(`{ me { status } }`, {}, token);
    expect(me.data?.me.status).not.toBe("LEFT");
  });

  it("still refuses a cookie-less simple GET (no Authorization, no preflight header) as cross-site", async () => {
    const res = await get(ME, {});
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/Cross-Site Request Forgery/);
  });
});

describe("the web pages", () => {
  let srv: TestServer;
  let webDir: string;
  beforeAll(async () => {
    webDir = makeTempDir("ledger-web-");
    mkdirSync(join(webDir, "preferences"));
    mkdirSync(join(webDir, "assets"));
    writeFileSync(join(webDir, "preferences", "index.html"), '<!doctype html><html lang="ja"><title>設定</title></html>');
    writeFileSync(join(webDir, "assets", "app-Ab12Cd.js"), "console.log(1)");
    srv = await startTestServer({ env: { WEB_DIR: webDir } });
  });
  afterAll(async () => {
    await srv.close();
    rmSync(webDir, { recursive: true, force: true });
  });
  const at = (path: string, init?: RequestInit) => fetch(new URL(path, srv.url), init);

  it("serves a page as HTML that is revalidated, with a CSP forbidding other origins", async () => {
    for (const path of ["/preferences", "/preferences/"]) {
      const res = await at(path);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
      expect(res.headers.get("cache-control")).toBe("no-cache");
      const csp = res.headers.get("content-security-policy")!;
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("connect-src 'self'");
      expect(csp).not.toMatch(/https?:|\*/);
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      expect(await res.text()).toContain('lang="ja"');
    }
  });

  it("serves hashed assets with their type and a long immutable cache", async () => {
    const res = await at("/web/assets/app-Ab12Cd.js");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(res.headers.get("cache-control")).toContain("immutable");
  });

  it("answers 404 for an unknown asset and for paths that try to leave the folder", async () => {
    expect((await at("/web/assets/nope.js")).status).toBe(404);
    expect((await at("/web/assets/..%2Fpreferences%2Findex.html")).status).toBe(404);
    expect((await at("/web/assets/.hidden")).status).toBe(404);
  });

  it("says how to build when a page is missing, instead of a blank page", async () => {
    const res = await at("/console");
    expect(res.status).toBe(503);
    expect(await res.text()).toMatch(/^the web pages are not built \(.*index\.html is missing\): run npm run build\n$/);
  });

  it("does not accept writes", async () => {
    const res = await at("/preferences", { method: "POST", body: "x" });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("GET, HEAD");
  });
});
