// The officer console in a real Chromium: the request queue, a timeline with time travel, the
// re-consent queue, integrity, and updates arriving live over graphql-ws.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freshId, onboard } from "../test/api/helpers.js";
import type { TestServer } from "../test/support/harness.js";
import { PHONE, expiredToken, launchBrowser, newPage, pageUrl, problemsOf, publishVersion2, runAxe, screenshot, startService } from "./support.js";

const DAY = 86_400_000;
const OFFICER_SCOPES = "ledger:read consent:read subject:admin";
const erin = freshId("erin");
const frank = freshId("frank");
const gina = freshId("gina");

let srv: TestServer;
let browser: Browser;
let dataDir: string;
let officer: string;

async function openRequest(server: TestServer, subject: string, kind: string): Promise<void> {
  const r = await server.gql(`mutation($input: OpenDataRequestInput!) { openDataRequest(input: $input) { id } }`, { input: { kind } }, await server.token(subject, "consent:self"));
  if (r.errors) throw new Error(JSON.stringify(r.errors));
}

beforeAll(async () => {
  // Twenty days ago (the service's clock set back): erin and frank open requests that are overdue today.
  dataDir = mkdtempSync(join(tmpdir(), "ledger-e2e-console-"));
  const past = await startService({ dataDir, clock: () => Date.now() - 20 * DAY });
  await onboard(past, erin, ["location"]);
  await openRequest(past, erin, "DELETION");
  await openRequest(past, frank, "DISCLOSURE");
  await past.close();

  srv = await startService({ dataDir });
  await openRequest(srv, gina, "CORRECTION");
  // erin withdraws location today: the past still shows it granted.
  const w = await srv.gql(`mutation($input: RecordConsentInput!) { recordConsent(input: $input) { subject { version } } }`, { input: { policyVersion: 1, withdraw: ["location"] } }, await srv.token(erin, "consent:self"));
  if (w.errors) throw new Error(JSON.stringify(w.errors));
  officer = await srv.token("officer-1", OFFICER_SCOPES);
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await srv?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

/** Signs in through the sign-in field, as an officer pasting a token would. */
async function signIn(page: Page, token = officer): Promise<void> {
  await page.goto(pageUrl(srv, "/console"));
  await page.getByLabel("アクセストークン").fill(token);
  await page.getByRole("button", { name: "サインイン" }).click();
  await page.locator("#live-state", { hasText: "ライブ接続中" }).waitFor();
}

const queueRows = (page: Page) => page.locator("table tbody tr[data-request-id]");

/** A wall-clock instant as a datetime-local value in Japan time (the browser's zone in these tests). */
const tokyoLocal = (ms: number) => new Date(ms + 9 * 3_600_000).toISOString().slice(0, 19);

describe("an officer at /console", () => {
  let page: Page;

  it("first sees the open data requests with subject ids and due dates, overdue ones first", async () => {
    const opened = await newPage(browser);
    page = opened.page;
    await signIn(page);
    await queueRows(page).first().waitFor();
    const rows = await queueRows(page).allTextContents();
    expect(rows).toHaveLength(3);
    expect(rows[0]).toContain("期限超過");
    expect(rows[1]).toContain("期限超過");
    expect(rows[2]).not.toContain("期限超過");
    expect(rows.slice(0, 2).join(" ")).toContain(erin);
    expect(rows.slice(0, 2).join(" ")).toContain(frank);
    expect(rows[2]).toContain(gina);
    expect(rows[0]).toMatch(/\d{4}\/\d{2}\/\d{2}/);
    expect(await page.locator("table tbody tr.overdue").count()).toBe(2);

    const axe = await runAxe(page, "console-desktop");
    expect(axe.violations.filter((v) => v.impact === "serious" || v.impact === "critical"), JSON.stringify(axe.violations, null, 1)).toEqual([]);
  });

  it("sees a new request arrive live, without reloading", async () => {
    const henry = freshId("henry");
    await openRequest(srv, henry, "SUSPENSION");
    await page.locator("table tbody tr", { hasText: henry }).waitFor();
    await page.locator("#live-events li", { hasText: henry }).first().waitFor();
    expect(await page.locator("#live-events").textContent()).toContain("請求の受付");
    await screenshot(page, "console-desktop");
  });

  it("opens a subject's timeline from the queue and travels in time (at and knownAt)", async () => {
    await page.locator("table tbody tr", { hasText: erin }).getByRole("button", { name: erin }).click();
    const location = page.locator("#consents-table tr[data-purpose='location']");
    await location.waitFor();
    expect(await location.textContent()).toContain("撤回済み");
    const history = page.locator("#history-table tbody tr");
    expect(await history.count()).toBeGreaterThanOrEqual(4);
    expect(await page.locator("#history-table").textContent()).toContain("撤回");

    // As of the grant's instant, location was granted.
    await history.filter({ hasText: "purposeId=location" }).filter({ hasText: /^\S*\s*同意/ }).first().getByRole("button").click();
    await page.locator("#state-heading", { hasText: "時点" }).waitFor();
    await page.locator("#consents-table tr[data-purpose='location']", { hasText: "同意済み" }).waitFor();

    // Now, but only with what had been recorded ten days ago: the withdrawal is not known yet.
    await page.getByLabel(/この時点の状態/).fill("");
    await page.getByLabel(/までに記録された内容/).fill(tokyoLocal(Date.now() - 10 * DAY));
    await page.getByRole("button", { name: "表示" }).click();
    await page.locator("#state-heading", { hasText: "までの記録による" }).waitFor();
    expect(await page.locator("#consents-table tr[data-purpose='location']").textContent()).toContain("同意済み");

    await page.getByRole("button", { name: "現在に戻す" }).click();
    await page.locator("#consents-table tr[data-purpose='location']", { hasText: "撤回済み" }).waitFor();
  });

  it("sees who must consent again after a new version", async () => {
    await publishVersion2(srv);
    await page.getByRole("button", { name: "再同意待ち" }).click();
    const list = page.locator("#reconsent-list-clavis-privacy");
    await list.waitFor();
    expect(await list.textContent()).toContain(erin);
    expect(await page.locator("#view").textContent()).toContain("現行 第2版");
  });

  it("checks the ledger's integrity and shows the signed head", async () => {
    await page.getByRole("button", { name: "台帳の完全性" }).click();
    await page.locator("#integrity-result", { hasText: "正常" }).waitFor();
    expect(Number(await page.locator("#event-count").textContent())).toBeGreaterThan(5);
    expect(await page.locator("#view").textContent()).toContain("署名付きヘッド");
    // The transparency log's latest checkpoint covers events already written.
    const size = await page.locator("#checkpoint-size").textContent();
    expect(Number(/(\d+) 件/.exec(size ?? "")?.[1])).toBeGreaterThan(0);
    expect(await page.locator("#checkpoint pre").textContent()).toMatch(/^\S+\n\d+\n[A-Za-z0-9+/=]+\n\n— /);
    expect(problemsOf(page)).toEqual([]);
    await page.context().close();
  });

  it("fits a phone-sized screen and passes the accessibility check there", async () => {
    const { context, page: phone } = await newPage(browser, PHONE);
    await phone.goto(pageUrl(srv, "/console", officer));
    await queueRows(phone).first().waitFor();
    const overflow = (await phone.evaluate("document.documentElement.scrollWidth - window.innerWidth")) as number;
    expect(overflow).toBeLessThanOrEqual(0);
    const axe = await runAxe(phone, "console-phone");
    expect(axe.violations.filter((v) => v.impact === "serious" || v.impact === "critical"), JSON.stringify(axe.violations, null, 1)).toEqual([]);
    await screenshot(phone, "console-phone");
    await context.close();
  });

  it("sends an expired token back to sign-in with a clear message", async () => {
    const { context, page: p } = await newPage(browser);
    await p.goto(pageUrl(srv, "/console", await expiredToken(srv, "officer-1", OFFICER_SCOPES)));
    await p.getByRole("alert").getByText(/有効期限が切れています/).waitFor();
    expect(await queueRows(p).count()).toBe(0);
    await context.close();
  });
});
