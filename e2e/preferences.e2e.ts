// The preference centre in a real Chromium: what a person can do at /preferences, and what goes wrong well.
import { readFileSync } from "node:fs";
import { compactVerify, createLocalJWKSet, type JSONWebKeySet } from "jose";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freshId } from "../test/api/helpers.js";
import type { TestServer } from "../test/support/harness.js";
import { JAPAN_DATE_TIME, PHONE, expectAxeClean, expiredToken, launchBrowser, newPage, pageUrl, problemsOf, publishVersion2, screenshot, startService } from "./support.js";

const LOCATION = /位置情報の収集/;
const EXTERNAL = /Google アナリティクス/;
const LINKED = /他のサービスとの連携/;
const TRAFFIC = /ネットワーク通信量の測定/;
const LOCATION_TITLE = "利用者の個別同意に基づく位置情報の収集";

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

interface MeState {
  me: {
    status: string;
    version: number;
    consents: { purpose: { id: string }; status: string; permitted: boolean }[];
    policyStandings: { acceptedVersion: { number: number } | null; needsReconsent: boolean }[];
    dataRequests: { kind: string; status: string; note: string | null }[];
  };
}
const ME = `{ me { status version consents { purpose { id } status permitted } policyStandings { acceptedVersion { number } needsReconsent } dataRequests { kind status note } } }`;

async function meOf(token: string): Promise<MeState["me"]> {
  const r = await srv.gql<MeState>(ME, {}, token);
  if (!r.data) throw new Error(JSON.stringify(r.errors));
  return r.data.me;
}
const statusOf = (me: MeState["me"], purposeId: string) => me.consents.find((c) => c.purpose.id === purposeId)?.status;

/** Opens the preference centre signed in through the URL fragment and waits for the policy. */
async function openSignedIn(page: Page, token: string): Promise<void> {
  await page.goto(pageUrl(srv, "/preferences", token));
  await page.getByRole("button", { name: "保存" }).waitFor();
}

/** Counts the recordConsent calls the page sends. */
function countSaves(page: Page): () => number {
  let n = 0;
  page.on("request", (r) => {
    if (r.method() === "POST" && r.url().endsWith("/graphql") && (r.postData() ?? "").includes("recordConsent")) n += 1;
  });
  return () => n;
}

describe("a person at /preferences", () => {
  const alice = freshId("alice");
  let aliceToken: string;

  it("accepts the policy, grants one purpose and withdraws another with one save, and downloads a verifiable receipt", async () => {
    aliceToken = await srv.token(alice, "consent:self");
    const { context, page } = await newPage(browser);
    const saves = countSaves(page);
    await openSignedIn(page, aliceToken);
    // The token left the address bar at once.
    expect(page.url()).not.toContain("access_token");
    expect(await page.getAttribute("html", "lang")).toBe("ja");
    await page.getByText("ご利用の前にプライバシーポリシーへの同意をお願いします").waitFor();
    await expectAxeClean(page, "preferences-first-visit");

    // Japanese only: the catalogue's English descriptions are not shown under the Japanese titles,
    // and the first version's summary has no English aside.
    const main = (await page.locator("main").textContent()) ?? "";
    expect(main).not.toMatch(/Providing, maintaining|Collecting location|permitted until the user objects/);
    expect(main).not.toMatch(/first version/);
    expect(await page.getByRole("note").textContent()).toContain("この版について：初版");
    // Each version links to its text, served by the ledger.
    expect(await page.getByRole("link", { name: "第1版の全文を読む" }).getAttribute("href")).toBe("/policies/clavis-privacy/1");
    // An OPT_OUT purpose is ticked, and its state says so: in use by default, not "unanswered".
    expect(await page.getByRole("switch", { name: TRAFFIC }).isChecked()).toBe(true);
    const traffic = page.locator("li.purpose", { has: page.getByRole("switch", { name: TRAFFIC }) });
    expect(await traffic.locator(".current-state").textContent()).toBe("同意（既定）");
    expect(main).not.toContain("未回答");
    // The third-party purpose does not claim there is no provision to third parties.
    const thirdParty = page.locator("li.purpose", { has: page.getByRole("switch", { name: /第三者（日本国外にある者を含む）/ }) });
    expect(await thirdParty.textContent()).not.toContain("第三者への提供・外部送信はありません");

    // Six optional purposes are switches named by their titles; the four required ones are not controls.
    expect(await page.getByRole("switch").count()).toBe(6);
    expect(await page.getByRole("switch", { name: /本サービスの提供、維持/ }).count()).toBe(0);
    expect(await page.locator("li.purpose.required").count()).toBe(4);
    expect(await page.locator("li.purpose.required .badge").first().textContent()).toBe("必須");
    // Recipients and their countries are shown with the purpose.
    const external = page.locator("li.purpose", { has: page.getByRole("switch", { name: EXTERNAL }) });
    expect(await external.textContent()).toContain("アメリカ合衆国 (US)");
    expect(await external.textContent()).toContain("外部送信モジュール");
    // What APPI Art. 28(2) asks to be told before agreeing to a recipient abroad, from the catalogue.
    const facts = external.locator("dl.recipient-facts");
    expect(await facts.locator("dt").allTextContents()).toEqual(["提供先での利用目的", "提供先の国の個人情報保護制度", "提供先が講じている措置"]);
    expect(await facts.locator("dd").nth(1).textContent()).toMatch(/^米国：包括的な連邦の個人情報保護法はなく/);
    // A purpose without recipients says so, and tells nothing of recipients it does not have.
    const location = page.locator("li.purpose", { has: page.getByRole("switch", { name: LOCATION }) });
    expect(await location.textContent()).toContain("この版に記載された提供先はありません");
    expect(await location.locator("dl.recipient-facts").count()).toBe(0);

    await page.getByRole("switch", { name: LOCATION }).check();
    await page.getByRole("switch", { name: EXTERNAL }).uncheck();
    await page.getByRole("button", { name: "保存" }).click();
    await page.locator("#flash-message", { hasText: /保存しました/ }).waitFor();
    expect(saves()).toBe(1);
    // Focus moves to the message that says what happened, not to <body>.
    expect(await page.evaluate("document.activeElement && document.activeElement.id")).toBe("flash-message");
    expect(await traffic.locator(".current-state").textContent()).toBe("同意（既定）");
    // The note on receipts is plain Japanese, without the signature format's jargon.
    const receiptsCard = page.locator("section", { has: page.getByRole("heading", { name: "同意の控え（レシート）" }) });
    expect(await receiptsCard.locator("p").first().textContent()).not.toMatch(/JWS|jwks|\.well-known/);
    await expectAxeClean(page, "preferences-saved");

    const me = await meOf(aliceToken);
    expect(me.policyStandings[0]!.acceptedVersion?.number).toBe(1);
    expect(statusOf(me, "location")).toBe("GRANTED");
    expect(statusOf(me, "external-analytics")).toBe("WITHDRAWN");
    // The page shows what the ledger now holds.
    expect(await page.getByRole("switch", { name: LOCATION }).isChecked()).toBe(true);
    expect(await page.getByRole("switch", { name: EXTERNAL }).isChecked()).toBe(false);

    const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: "控えをダウンロード" }).click()]);
    const jws = readFileSync((await download.path())!, "utf8");
    const jwks = (await (await fetch(new URL("/.well-known/jwks.json", srv.url))).json()) as JSONWebKeySet;
    const { payload } = await compactVerify(jws, createLocalJWKSet(jwks));
    const receipt = JSON.parse(new TextDecoder().decode(payload)) as { piiPrincipalId: string; grants: string[]; withdrawals: string[] };
    expect(receipt.piiPrincipalId).toBe(alice);
    expect(receipt.grants).toContain("location");
    expect(receipt.withdrawals).toContain("external-analytics");
    expect(problemsOf(page)).toEqual([]);
    await context.close();

    // After a reload (a new tab), the person's own record comes from the ledger: the events as
    // sentences in Japan time, and the save with the receipt's number.
    const again = await newPage(browser);
    await openSignedIn(again.page, aliceToken);
    const history = again.page.locator("#my-history");
    await history.waitFor();
    const sentences = await history.locator("li").allTextContents();
    expect(sentences.some((t) => JAPAN_DATE_TIME.test(t) && t.includes(`「${LOCATION_TITLE}」に同意しました（第1版`))).toBe(true);
    expect(sentences.some((t) => t.includes("への同意を撤回しました（第1版）"))).toBe(true);
    expect(sentences.some((t) => t.includes("「プライバシーポリシー」第1版に同意しました"))).toBe(true);
    expect(await history.getByRole("link", { name: "第1版の全文" }).first().getAttribute("href")).toBe("/policies/clavis-privacy/1");
    const saved = (await again.page.locator("#saved-choices").textContent()) ?? "";
    expect(saved).toContain("第1版に同意、同意 1 件、撤回 1 件");
    const receiptId = (JSON.parse(new TextDecoder().decode(payload)) as { consentReceiptID: string }).consentReceiptID;
    expect(saved).toContain(receiptId);
    // The earlier save's receipt is fetched from the API: signed again, with the same number and content.
    const save = again.page.locator("#saved-choices li", { hasText: receiptId });
    const [later] = await Promise.all([again.page.waitForEvent("download"), save.getByRole("button", { name: "控えをダウンロード" }).click()]);
    expect(later.suggestedFilename()).toBe(`consent-receipt-${receiptId}.jws`);
    const reissued = await compactVerify(readFileSync((await later.path())!, "utf8"), createLocalJWKSet(jwks));
    expect(JSON.parse(new TextDecoder().decode(reissued.payload))).toEqual(JSON.parse(new TextDecoder().decode(payload)));
    expect(problemsOf(again.page)).toEqual([]);
    await expectAxeClean(again.page, "preferences-desktop");
    await screenshot(again.page, "preferences-desktop");
    await again.context.close();
  });

  it("sees what a new version changes and accepts it", async () => {
    await publishVersion2(srv);
    const { context, page } = await newPage(browser);
    await openSignedIn(page, aliceToken);
    const notice = page.getByRole("note");
    await notice.getByText("新しい版（第2版）への同意をお願いします").waitFor();
    const text = (await notice.textContent()) ?? "";
    expect(text).toContain("メールマガジンの配信を追加し");
    expect(text).toContain("追加：メールマガジンの配信");
    expect(text).toMatch(/変更：第三者.*提供先.*ACME Analytics Pte\. Ltd\.（シンガポール \(SG\)）/);
    // Earlier choices carry over to the new version's switches.
    expect(await page.getByRole("switch", { name: LOCATION }).isChecked()).toBe(true);
    expect(await page.getByRole("switch", { name: /メールマガジン/ }).isChecked()).toBe(false);
    // The third-party purpose lists the recipients the new version provides to.
    const thirdParty = page.locator("li.purpose", { has: page.getByRole("switch", { name: /第三者（日本国外にある者を含む）/ }) });
    expect(await thirdParty.locator("ul.recipients").textContent()).toContain("ACME Analytics Pte. Ltd.");
    expect(await page.getByRole("link", { name: "第1版", exact: true }).getAttribute("href")).toBe("/policies/clavis-privacy/1");
    await expectAxeClean(page, "preferences-new-version");
    await page.getByRole("button", { name: "保存" }).click();
    await page.locator("#flash-message", { hasText: /第2版に同意/ }).waitFor();
    expect(await page.evaluate("document.activeElement && document.activeElement.id")).toBe("flash-message");
    const me = await meOf(aliceToken);
    expect(me.policyStandings[0]!.acceptedVersion?.number).toBe(2);
    expect(me.policyStandings[0]!.needsReconsent).toBe(false);
    expect(statusOf(me, "location")).toBe("GRANTED");
    await context.close();
  });

  it("is told when another tab saved first: the current choices are reloaded and nothing is lost", async () => {
    const { context, page } = await newPage(browser);
    await openSignedIn(page, aliceToken);
    // Another tab grants linked accounts meanwhile.
    const version = (await meOf(aliceToken)).version;
    const other = await srv.gql(
      `mutation($input: RecordConsentInput!) { recordConsent(input: $input) { subject { version } } }`,
      { input: { policyVersion: 2, grant: ["linked-accounts"], expectedVersion: version } },
      aliceToken,
    );
    expect(other.errors).toBeUndefined();
    expect(await page.getByRole("switch", { name: LINKED }).isChecked()).toBe(false);
    await page.getByRole("switch", { name: LOCATION }).uncheck();
    await page.getByRole("button", { name: "保存" }).click();
    const alert = page.getByRole("alert");
    await alert.getByText(/別の画面で設定が変更されていました/).waitFor();
    // The page now shows the other tab's choice, and the refused change was not recorded.
    expect(await page.getByRole("switch", { name: LINKED }).isChecked()).toBe(true);
    expect(await page.getByRole("switch", { name: LOCATION }).isChecked()).toBe(true);
    const me = await meOf(aliceToken);
    expect(statusOf(me, "linked-accounts")).toBe("GRANTED");
    expect(statusOf(me, "location")).toBe("GRANTED");
    await expectAxeClean(page, "preferences-conflict");
    await context.close();
  });

  it("opens a data request and sees it with its due date", async () => {
    const { context, page } = await newPage(browser);
    await openSignedIn(page, aliceToken);
    await page.getByLabel("請求の種類").selectOption("DISCLOSURE");
    await page.getByLabel("内容（任意）").fill("保有個人データの開示をお願いします。");
    await page.getByRole("button", { name: "請求を送信" }).click();
    await page.getByText(/請求（開示）を受け付けました。回答期限は/).waitFor();
    expect(await page.locator("ul.requests").textContent()).toMatch(/開示：受付済み（受付 .*回答期限 /);
    const me = await meOf(aliceToken);
    expect(me.dataRequests).toEqual([{ kind: "DISCLOSURE", status: "OPEN", note: "保有個人データの開示をお願いします。" }]);
    expect(await page.locator("#my-history").textContent()).toContain("開示の請求を受け付けました");
    await expectAxeClean(page, "preferences-request");
    await context.close();
  });

  it("leaves the service after confirming", async () => {
    const { context, page } = await newPage(browser);
    await openSignedIn(page, aliceToken);
    await page.getByRole("button", { name: "退会する" }).click();
    await page.getByRole("button", { name: "退会を確定する" }).click();
    await page.getByText("退会の手続きが完了しました。").waitFor();
    expect((await meOf(aliceToken)).status).toBe("LEFT");
    // No switch is offered any more, and no save.
    expect(await page.getByRole("button", { name: "保存" }).count()).toBe(0);
    expect(await page.locator("#my-history").textContent()).toContain("退会しました");
    await expectAxeClean(page, "preferences-left");
    await context.close();
  });

  it("works with the keyboard alone", async () => {
    const bob = freshId("bob");
    const token = await srv.token(bob, "consent:self");
    const { context, page } = await newPage(browser);
    await openSignedIn(page, token);
    const focused = () => page.evaluate(`document.activeElement && (document.activeElement.getAttribute("aria-label") || document.activeElement.labels?.[0]?.textContent || document.activeElement.textContent || "")`) as Promise<string>;
    const tabTo = async (match: RegExp) => {
      for (let i = 0; i < 80; i++) {
        await page.keyboard.press("Tab");
        if (match.test(await focused())) return;
      }
      throw new Error(`never reached ${match} with Tab`);
    };
    await tabTo(LOCATION);
    await page.keyboard.press("Space");
    await tabTo(/^保存$/);
    await page.keyboard.press("Enter");
    await page.getByText(/保存しました/).waitFor();
    expect(statusOf(await meOf(token), "location")).toBe("GRANTED");
    await context.close();
  });

  it("fits a phone-sized screen and passes the accessibility check there", async () => {
    const carol = freshId("carol");
    const token = await srv.token(carol, "consent:self");
    const { context, page } = await newPage(browser, PHONE);
    await openSignedIn(page, token);
    const overflow = (await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")) as number;
    expect(overflow).toBeLessThanOrEqual(0);
    await expectAxeClean(page, "preferences-phone");
    await screenshot(page, "preferences-phone");
    await context.close();
  });

  it("sends an expired or refused token back to sign-in with a clear message, and signs in from the field", async () => {
    const dave = freshId("dave");
    const { context, page } = await newPage(browser);
    await page.goto(pageUrl(srv, "/preferences", await expiredToken(srv, dave, "consent:self")));
    await page.getByRole("alert").getByText(/有効期限が切れています/).waitFor();
    expect(await page.getByRole("button", { name: "保存" }).count()).toBe(0);
    await expectAxeClean(page, "preferences-sign-in");

    // A token the server refuses (not signed by a trusted key) also ends at sign-in, saying so.
    const good = await srv.token(dave, "consent:self");
    const [head, body] = good.split(".");
    await page.getByLabel("アクセストークン").fill(`${head}.${body}.${"A".repeat(86)}`);
    await page.getByRole("button", { name: "サインイン" }).click();
    await page.getByRole("alert").getByText(/トークンが無効です/).waitFor();

    await page.getByLabel("アクセストークン").fill(good);
    await page.getByRole("button", { name: "サインイン" }).click();
    await page.getByRole("button", { name: "保存" }).waitFor();
    await context.close();
  });

  it("picks up a new #access_token on an open page", async () => {
    const first = freshId("erika");
    const second = freshId("fumi");
    const { context, page } = await newPage(browser);
    await openSignedIn(page, await srv.token(first, "consent:self"));
    await page.locator("#account", { hasText: first }).waitFor();
    const token = await srv.token(second, "consent:self");
    await page.evaluate(`location.hash = ${JSON.stringify(`access_token=${encodeURIComponent(token)}`)}`);
    await page.locator("#account", { hasText: second }).waitFor();
    expect(page.url()).not.toContain("access_token");
    await expectAxeClean(page, "preferences-new-token");
    await context.close();
  });
});
