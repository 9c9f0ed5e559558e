// The dev-mode GraphQL explorer in a real Chromium: GraphiQL from the service's own bundle renders at
// /graphql, runs a query against the API with the token from its Headers tab, and loads nothing from elsewhere.
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestServer } from "../test/support/harness.js";
import { launchBrowser, newPage, problemsOf, screenshot, startService } from "./support.js";

let srv: TestServer;
let browser: Browser;
beforeAll(async () => {
  srv = await startService();
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await srv?.close();
});

describe("the GraphQL explorer (dev mode)", () => {
  it("renders GraphiQL at /graphql, asks the API with the pasted token, and loads everything from this origin", async () => {
    const { context, page } = await newPage(browser);
    const origin = new URL(srv.url).origin;
    const elsewhere: string[] = [];
    page.on("request", (r) => {
      const u = new URL(r.url());
      if (u.protocol !== "data:" && u.protocol !== "blob:" && u.origin !== origin) elsewhere.push(r.url());
    });
    try {
      const token = await srv.token("explorer-user", "consent:self");
      await page.goto(srv.url);
      await page.locator(".graphiql-container .monaco-editor").first().waitFor();
      const run = async () => {
        const answer = page.waitForResponse((r) => r.url() === srv.url && r.request().method() === "POST" && (r.request().postData() ?? "").includes("query Me"));
        await page.locator(".graphiql-execute-button").click();
        return answer;
      };
      // The placeholder in the Headers tab: the API answers (not a CSRF refusal) that the token is invalid.
      const refused = await run();
      expect(refused.status()).toBe(401);
      expect(await refused.text()).toMatch(/token/i);
      // A token pasted into the Headers tab, as the page says: the query runs.
      await page.getByRole("button", { name: /^headers$/i }).click();
      const headers = page.locator(".graphiql-editor-tool .monaco-editor").last();
      await headers.click();
      await page.keyboard.press("ControlOrMeta+A");
      await page.keyboard.insertText(JSON.stringify({ Authorization: `Bearer ${token}` }));
      // The editor closes brackets and quotes as they are typed: drop what it added after the text.
      await page.keyboard.press("Shift+ControlOrMeta+End");
      await page.keyboard.press("Delete");
      const answered = await run();
      expect(answered.status()).toBe(200);
      expect(await answered.json()).toEqual({ data: { me: { id: "explorer-user", status: "ACTIVE", version: 0 } } });
      await screenshot(page, "explorer");
      expect(elsewhere).toEqual([]);
      expect(problemsOf(page).filter((p) => !/401|Unauthorized/i.test(p))).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
