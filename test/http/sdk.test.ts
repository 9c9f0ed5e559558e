// GET /sdk/consent.js and /sdk/banner.js: readable from any origin, a clear 503 when not built.
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeTempDir } from "../support/common.js";
import { type TestServer, startTestServer } from "../support/harness.js";

describe("the SDK files", () => {
  let srv: TestServer;
  let webDir: string;
  let base: string;
  beforeAll(async () => {
    webDir = makeTempDir("web-");
    mkdirSync(join(webDir, "sdk"));
    writeFileSync(join(webDir, "sdk", "banner.js"), "customElements.define('x-b', class extends HTMLElement {});\n");
    srv = await startTestServer({ env: { WEB_DIR: webDir } });
    base = srv.url.replace(/\/graphql$/, "");
  });
  afterAll(async () => {
    await srv.close();
    rmSync(webDir, { recursive: true, force: true });
  });

  it("serves a built file as JavaScript that pages on any origin may load as a module", async () => {
    const res = await fetch(`${base}/sdk/banner.js`, { headers: { origin: "https://shop.example.jp" } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(res.headers.get("cross-origin-resource-policy")).toBe("cross-origin");
    expect(await res.text()).toContain("customElements.define");
    const head = await fetch(`${base}/sdk/banner.js`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe("");
  });

  it("answers 503 with the fix when the file is not built, 405 for other methods, and 404 for other names", async () => {
    const missing = await fetch(`${base}/sdk/consent.js`);
    expect(missing.status).toBe(503);
    expect(await missing.text()).toMatch(/^the SDK is not built \(.*consent\.js is missing\): run npm run build\n$/);
    expect(missing.headers.get("access-control-allow-origin")).toBe("*");
    expect(missing.headers.get("cache-control")).toBe("no-store");
    const post = await fetch(`${base}/sdk/banner.js`, { method: "POST" });
    expect(post.status).toBe(405);
    expect(post.headers.get("allow")).toBe("GET, HEAD");
    expect(post.headers.get("access-control-allow-origin")).toBe("*");
    expect((await fetch(`${base}/sdk/../keys/visitor-session.jwk.json`)).status).toBe(404);
    expect((await fetch(`${base}/sdk/other.js`)).status).toBe(404);
  });
});
