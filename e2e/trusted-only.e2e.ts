// The preference centre in a real Chromium against a service that runs trusted documents only
// (TRUSTED_DOCUMENTS_ONLY=true): the page names its shipped operations by hash, so it loads and saves.
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freshId } from "../test/api/helpers.js";
import type { TestServer } from "../test/support/harness.js";
import { launchBrowser, newPage, pageUrl, startService } from "./support.js";

const LOCATION = /位置情報の収集/;

let srv: TestServer;
let browser: Browser;

beforeAll(async () => {
  srv = await startService({ env: { TRUSTED_DOCUMENTS_ONLY: "true" } });
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await srv?.close();
});

describe("the preference centre with TRUSTED_DOCUMENTS_ONLY=true", () => {
  it("loads the policy and saves a choice, every request by documentId, while a text sent by hand is refused", async () => {
    const alice = freshId("alice");
    const token = await srv.token(alice, "consent:self");
    expect((await srv.gql("{ me { id } }", {}, token)).errors?.[0]?.extensions?.["code"]).toBe("PERSISTED_QUERY_NOT_FOUND");
    const { context, page } = await newPage(browser);
    const sent: { documentId?: string }[] = [];
    page.on("request", (r) => {
      if (r.method() === "POST" && r.url().endsWith("/graphql")) sent.push(JSON.parse(r.postData() ?? "{}") as { documentId?: string });
    });
    try {
      await page.goto(pageUrl(srv, "/preferences", token));
      await page.getByRole("button", { name: "保存" }).waitFor();
      await page.getByRole("switch", { name: LOCATION }).check();
      await page.getByRole("button", { name: "保存" }).click();
      await page.locator("#flash-message", { hasText: /保存しました/ }).waitFor();
      expect(sent.length).toBeGreaterThan(1);
      for (const body of sent) expect(body.documentId).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(await page.getByRole("switch", { name: LOCATION }).isChecked()).toBe(true);
    } finally {
      await context.close();
    }
  });
});
