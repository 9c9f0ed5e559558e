// The officer console in a real Chromium: the request queue and its actions, a timeline with time
// travel and events as sentences, the re-consent queue, integrity, and updates arriving live over graphql-ws.
// axe-core finds no violation at any step.
import { readFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freshId, onboard } from "../test/api/helpers.js";
import type { TestServer } from "../test/support/harness.js";
import {
  JAPAN_DATE_TIME,
  PHONE,
  allOnOneLine,
  expectAxeClean,
  expiredToken,
  launchBrowser,
  newPage,
  pageUrl,
  problemsOf,
  publishVersion2,
  screenshot,
  startService,
} from "./support.js";

const DAY = 86_400_000;
const OFFICER_SCOPES = "ledger:read consent:read subject:admin";
const LOCATION_TITLE = "利用者の個別同意に基づく位置情報の収集";
const erin = freshId("erin");
const frank = freshId("frank");
const gina = freshId("gina");

let srv: TestServer;
let browser: Browser;
let dataDir: string;
let officer: string;

async function openRequest(server: TestServer, subject: string, kind: string): Promise<string> {
  const r = await server.gql<{ openDataRequest: { id: string } }>(
    `mutation($input: OpenDataRequestInput!) { openDataRequest(input: $input) { id } }`,
    { input: { kind } },
    await server.token(subject, "consent:self"),
  );
  if (!r.data) throw new Error(JSON.stringify(r.errors));
  return r.data.openDataRequest.id;
}

interface RequestState {
  id: string;
  status: string;
  dueAt: string;
  note: string | null;
  identityCheck: string | null;
}
async function requestsOf(subject: string): Promise<{ status: string; requests: RequestState[] }> {
  const r = await srv.gql<{ subject: { status: string; dataRequests: RequestState[] } }>(
    `query($id: ID!) { subject(id: $id) { status dataRequests { id status dueAt note identityCheck } } }`,
    { id: subject },
    officer,
  );
  if (!r.data) throw new Error(JSON.stringify(r.errors));
  return { status: r.data.subject.status, requests: r.data.subject.dataRequests };
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
const rowOf = (page: Page, subject: string) => queueRows(page).filter({ hasText: subject });
const button = (page: Page, name: string) => page.getByRole("button", { name, exact: true });

/** Selects a subject's request in the queue; the panel of actions appears. */
async function select(page: Page, subject: string): Promise<void> {
  await rowOf(page, subject).getByRole("button", { name: /^選択/ }).click();
  await page.locator("#panel-heading", { hasText: subject }).waitFor();
}

/** The focused status message after an action, which must say `text`. */
async function outcome(page: Page, text: RegExp): Promise<void> {
  await page.locator("#action-message", { hasText: text }).waitFor();
  expect(await page.evaluate("document.activeElement && document.activeElement.id")).toBe("action-message");
}

/** A wall-clock instant as a datetime-local value in Japan time (the browser's zone in these tests). */
const tokyoLocal = (ms: number) => new Date(ms + 9 * 3_600_000).toISOString().slice(0, 19);

describe("an officer at /console", () => {
  let page: Page;

  it("first sees the open data requests with subject ids and due dates in Japan time, overdue ones first", async () => {
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
    expect(rows[0]).toMatch(/\d{4}年\d{1,2}月\d{1,2}日/);
    expect(await page.locator("table tbody tr.overdue").count()).toBe(2);
    await expectAxeClean(page, "console-queue");
  });

  it("sees a new request arrive live, described in Japanese, without reloading", async () => {
    const henry = freshId("henry");
    await openRequest(srv, henry, "SUSPENSION");
    await rowOf(page, henry).waitFor();
    const live = page.locator("#live-events li", { hasText: henry }).first();
    await live.waitFor();
    expect(await live.textContent()).toMatch(/利用停止・第三者提供の停止の請求を受け付けました（回答期限 \d{4}年/);
    expect(await live.textContent()).toMatch(JAPAN_DATE_TIME);
  });

  it("verifies the requester's identity, after being told what that records", async () => {
    await select(page, frank);
    await button(page, "本人確認").click();
    await page.locator("#action-form", { hasText: "本人であることを確かめた方法を記録します" }).waitFor();
    await expectAxeClean(page, "console-verify-form");
    await page.getByLabel("確認方法", { exact: true }).fill("運転免許証の写しを確認");
    await button(page, "本人確認を記録する").click();
    await outcome(page, /本人確認を記録しました/);
    // The queue shows the new status without a reload, and the ledger holds it.
    await rowOf(page, frank).filter({ hasText: "本人確認済み" }).waitFor();
    const { requests } = await requestsOf(frank);
    expect(requests[0]!.status).toBe("IDENTITY_VERIFIED");
    expect(requests[0]!.identityCheck).toBe("運転免許証の写しを確認");
    await expectAxeClean(page, "console-verified");
  });

  it("extends the due date by the days given, with the reason", async () => {
    const before = Date.parse((await requestsOf(frank)).requests[0]!.dueAt);
    await button(page, "延長").click();
    await page.locator("#action-form", { hasText: "回答期限" }).waitFor();
    await page.getByLabel("延長する日数").fill("10");
    await page.getByLabel("延長の理由").fill("対象データが多く、調査に時間を要するため");
    await button(page, "回答期限を延長する").click();
    await outcome(page, /10 日延長しました/);
    expect(Date.parse((await requestsOf(frank)).requests[0]!.dueAt) - before).toBe(10 * DAY);
  });

  it("downloads the subject's export as a JSON file", async () => {
    await button(page, "開示データをダウンロード").click();
    await page.locator("#action-form", { hasText: `subject-export-${frank}.json` }).waitFor();
    const [download] = await Promise.all([page.waitForEvent("download"), button(page, "ダウンロードする").click()]);
    expect(download.suggestedFilename()).toBe(`subject-export-${frank}.json`);
    const exported = JSON.parse(readFileSync((await download.path())!, "utf8")) as { header: { piiPrincipalId: string }; dataRequests: unknown[] };
    expect(exported.header.piiPrincipalId).toBe(frank);
    expect(exported.dataRequests).toHaveLength(1);
    await outcome(page, /開示データを .* として保存しました/);
  });

  it("closes a verified request as fulfilled: it leaves the queue", async () => {
    await button(page, "対応完了").click();
    await page.locator("#action-form", { hasText: "対応完了として閉じます" }).waitFor();
    await button(page, "対応完了として閉じる").click();
    await outcome(page, /対応完了として閉じました/);
    expect(await rowOf(page, frank).count()).toBe(0);
    expect((await requestsOf(frank)).requests[0]!.status).toBe("FULFILLED");
  });

  it("cannot reject without a reason; with one, the request is rejected and leaves the queue", async () => {
    let closes = 0;
    page.on("request", (r) => {
      if (r.method() === "POST" && (r.postData() ?? "").includes("closeDataRequest")) closes += 1;
    });
    await select(page, gina);
    // 対応完了 is not offered before identity is verified.
    expect(await button(page, "対応完了").count()).toBe(0);
    await button(page, "却下").click();
    await button(page, "却下として閉じる").click();
    await page.getByRole("alert").getByText("却下する理由を入力してください").waitFor();
    expect(await page.getByLabel("理由", { exact: true }).getAttribute("aria-invalid")).toBe("true");
    expect(closes).toBe(0);
    await expectAxeClean(page, "console-reject-missing-reason");
    await page.getByLabel("理由", { exact: true }).fill("ご本人であることを確認できなかったため");
    await button(page, "却下として閉じる").click();
    await outcome(page, /却下しました/);
    expect(await rowOf(page, gina).count()).toBe(0);
    const { requests } = await requestsOf(gina);
    expect(requests[0]).toMatchObject({ status: "REJECTED", note: "ご本人であることを確認できなかったため" });
  });

  it("erases a subject only after the subject id is typed", async () => {
    await select(page, erin);
    await button(page, "消去").click();
    const confirm = button(page, "消去する");
    expect(await page.locator("#action-form").textContent()).toContain("元に戻せません");
    expect(await confirm.isDisabled()).toBe(true);
    await page.getByLabel("確認のため対象者IDを入力").fill(`${erin}x`);
    expect(await confirm.isDisabled()).toBe(true);
    await page.getByLabel("確認のため対象者IDを入力").fill(erin);
    expect(await confirm.isDisabled()).toBe(false);
    await expectAxeClean(page, "console-erase-form");
    await screenshot(page, "console-desktop");
    await confirm.click();
    await outcome(page, /個人データを消去しました/);
    expect((await requestsOf(erin)).status).toBe("ERASED");
  });

  it("sees another officer's action update the queue live", async () => {
    const ivy = freshId("ivy");
    const id = await openRequest(srv, ivy, "DISCLOSURE");
    await rowOf(page, ivy).waitFor();
    const r = await srv.gql(`mutation { verifyDataRequestIdentity(id: "${id}", method: "電話で確認") { status } }`, {}, officer);
    expect(r.errors).toBeUndefined();
    await rowOf(page, ivy).filter({ hasText: "本人確認済み" }).waitFor();
  });

  it("reads a subject's events as Japanese sentences with titles, actors, Japan time and unbroken positions", async () => {
    await button(page, "対象者のタイムライン").click();
    await page.getByLabel("対象者ID").fill(erin);
    await button(page, "表示").click();
    const history = page.locator("#history-table");
    await history.waitFor();
    const text = (await history.textContent()) ?? "";
    expect(text).toMatch(new RegExp(`「${LOCATION_TITLE}」に同意しました（第1版、\\d{4}年\\d+月\\d+日まで有効）`));
    expect(text).toContain(`「${LOCATION_TITLE}」への同意を撤回しました（第1版）`);
    expect(text).toContain("「プライバシーポリシー」第1版に同意しました");
    expect(text).toContain("消去の請求を受け付けました");
    expect(text).toContain("個人データを消去しました");
    expect(text).toMatch(JAPAN_DATE_TIME);
    expect(text).toContain("本人");
    expect(text).toContain("担当者（officer-1）");
    expect(text).not.toMatch(/policyId=|purposeId=|SUBJECT |OFFICER /);
    // An erased person's opt-out purposes are not shown as consented by default.
    expect(await page.locator("#consents-table tr[data-purpose='traffic-analysis']").textContent()).not.toContain("同意（既定）");
    const positions = await allOnOneLine(page, "#history-table .position");
    expect(positions.count).toBeGreaterThanOrEqual(5);
    expect(positions.wrapped).toEqual([]);
    expect(await page.locator("#history-table .position").first().textContent()).toMatch(/^\d{16}$/);
    await expectAxeClean(page, "console-timeline");
    await screenshot(page, "console-timeline");
  });

  it("shows the state at an instant, not today's (at and knownAt)", async () => {
    await page.locator("#subject-summary", { hasText: "現在の状態：消去済み" }).waitFor();
    const now = (await page.locator("#subject-summary").textContent()) ?? "";
    const total = Number(/記録 (\d+) 件/.exec(now)?.[1]);
    // As of the grant's instant, location was granted and the subject was in use, with fewer events.
    await page.locator("#history-table tbody tr", { hasText: `「${LOCATION_TITLE}」に同意しました` }).getByRole("button", { name: /この時点へ/ }).click();
    await page.locator("#state-heading", { hasText: "時点" }).waitFor();
    await page.locator("#consents-table tr[data-purpose='location']", { hasText: "同意済み" }).waitFor();
    const then = (await page.locator("#subject-summary").textContent()) ?? "";
    expect(then).not.toContain("現在の状態");
    expect(then).toContain("この時点の状態：利用中");
    expect(Number(/この時点までの記録 (\d+) 件/.exec(then)?.[1])).toBeLessThan(total);
    expect(await page.locator("#history-table tr.later", { hasText: "この時点より後" }).count()).toBeGreaterThan(0);
    await expectAxeClean(page, "console-point-in-time");

    // Now, but only with what had been recorded ten days ago: the withdrawal is not known yet.
    await page.getByLabel(/この時点の状態/).fill("");
    await page.getByLabel(/までに記録された内容/).fill(tokyoLocal(Date.now() - 10 * DAY));
    await button(page, "表示").click();
    await page.locator("#state-heading", { hasText: "までの記録による" }).waitFor();
    expect(await page.locator("#consents-table tr[data-purpose='location']").textContent()).toContain("同意済み");
    expect(await page.locator("#subject-summary").textContent()).toContain("この時点の状態：利用中");

    await button(page, "現在に戻す").click();
    await page.locator("#subject-summary", { hasText: "現在の状態：消去済み" }).waitFor();
  });

  it("says an unknown subject id is not found instead of showing a consenting person", async () => {
    await page.getByLabel("対象者ID").fill("nobody-xyz");
    await button(page, "表示").click();
    await page.locator("#subject-not-found", { hasText: "対象者が見つかりません" }).waitFor();
    const result = (await page.locator("#timeline-result").textContent()) ?? "";
    expect(result).toContain("nobody-xyz");
    expect(result).not.toMatch(/利用中|同意済み|版数/);
    expect(await page.locator("#consents-table").count()).toBe(0);
    expect(await page.locator("#subject-actions").count()).toBe(0);
    await expectAxeClean(page, "console-not-found");
  });

  it("downloads a subject's export from the timeline too", async () => {
    await page.getByLabel("対象者ID").fill(gina);
    await button(page, "表示").click();
    await page.locator("#subject-actions").waitFor();
    await button(page, "開示データをダウンロード").click();
    const [download] = await Promise.all([page.waitForEvent("download"), button(page, "ダウンロードする").click()]);
    expect(download.suggestedFilename()).toBe(`subject-export-${gina}.json`);
    const exported = JSON.parse(readFileSync((await download.path())!, "utf8")) as { header: { piiPrincipalId: string } };
    expect(exported.header.piiPrincipalId).toBe(gina);
    await outcome(page, /開示データを .* として保存しました/);
    await expectAxeClean(page, "console-timeline-export");
  });

  it("sees who must consent again after a new version", async () => {
    await publishVersion2(srv);
    await page.getByRole("button", { name: "再同意待ち" }).click();
    const list = page.locator("#reconsent-list-clavis-privacy");
    await list.waitFor();
    expect(await page.locator("#view").textContent()).toContain("現行 第2版");
    await expectAxeClean(page, "console-reconsent");
  });

  it("checks the ledger's integrity and shows the signed head", async () => {
    await page.getByRole("button", { name: "台帳の完全性" }).click();
    await page.locator("#integrity-result", { hasText: "正常" }).waitFor();
    expect(Number(await page.locator("#event-count").textContent())).toBeGreaterThan(5);
    expect(await page.locator("#view").textContent()).toContain("署名付きヘッド");
    expect(await page.locator("#view").textContent()).toMatch(JAPAN_DATE_TIME);
    // The transparency log's latest checkpoint covers events already written.
    const size = await page.locator("#checkpoint-size").textContent();
    expect(Number(/(\d+) 件/.exec(size ?? "")?.[1])).toBeGreaterThan(0);
    expect(await page.locator("#checkpoint pre").textContent()).toMatch(/^\S+\n\d+\n[A-Za-z0-9+/=]+\n\n— /);
    await expectAxeClean(page, "console-integrity");
    expect(problemsOf(page)).toEqual([]);
    await page.context().close();
  });

  it("fits a phone-sized screen, keeps positions on one line and passes the accessibility check there", async () => {
    const { context, page: phone } = await newPage(browser, PHONE);
    await phone.goto(pageUrl(srv, "/console", officer));
    await queueRows(phone).first().waitFor();
    const overflow = (await phone.evaluate("document.documentElement.scrollWidth - window.innerWidth")) as number;
    expect(overflow).toBeLessThanOrEqual(0);
    await expectAxeClean(phone, "console-phone");
    await screenshot(phone, "console-phone");
    await phone.locator("table tbody tr").first().getByRole("button", { name: /^選択/ }).click();
    await phone.locator("#request-panel").waitFor();
    await expectAxeClean(phone, "console-phone-panel");
    await button(phone, "対象者のタイムライン").click();
    await phone.getByLabel("対象者ID").fill(erin);
    await button(phone, "表示").click();
    await phone.locator("#history-table").waitFor();
    const positions = await allOnOneLine(phone, "#history-table .position");
    expect(positions.count).toBeGreaterThanOrEqual(5);
    expect(positions.wrapped).toEqual([]);
    await expectAxeClean(phone, "console-phone-timeline");
    await context.close();
  });

  it("tells a person's consent:self token only that it has no permission, then takes an officer token from a new #access_token", async () => {
    const { context, page: p } = await newPage(browser);
    await p.goto(pageUrl(srv, "/console", await srv.token(freshId("visitor"), "consent:self")));
    await p.getByRole("heading", { name: "権限がありません" }).waitFor();
    const body = (await p.locator("body").textContent()) ?? "";
    expect(body).not.toMatch(/再接続|接続しています|ライブ接続中/);
    expect(await queueRows(p).count()).toBe(0);
    await expectAxeClean(p, "console-forbidden");
    // The same open page picks up a token handed over later in the address.
    await p.evaluate(`location.hash = ${JSON.stringify(`access_token=${encodeURIComponent(officer)}`)}`);
    await queueRows(p).first().waitFor();
    expect(p.url()).not.toContain("access_token");
    await context.close();
  });

  it("sends an expired token back to sign-in with a clear message", async () => {
    const { context, page: p } = await newPage(browser);
    await p.goto(pageUrl(srv, "/console", await expiredToken(srv, "officer-1", OFFICER_SCOPES)));
    await p.getByRole("alert").getByText(/有効期限が切れています/).waitFor();
    expect(await queueRows(p).count()).toBe(0);
    await expectAxeClean(p, "console-sign-in");
    await context.close();
  });
});
