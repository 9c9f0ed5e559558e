// The browser side of the e2e tests: Debian's Chromium through playwright-core, axe-core, screenshots,
// and the service started in-process on a free port with the built pages.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { type Browser, type BrowserContext, type Page, chromium } from "playwright-core";
import { type TestServer, type TestServerOptions, startTestServer } from "../test/support/harness.js";
export { expiredToken } from "../test/support/expired-token.js";

export const CHROMIUM = process.env["CHROMIUM_PATH"] ?? "/usr/bin/chromium";
export const SCREENSHOT_DIR = "docs/screenshots";
export const REPORT_DIR = "dist/e2e";
export const PHONE = { width: 390, height: 844 };
export const DESKTOP = { width: 1280, height: 900 };

/**
 * Chromium as the contract asks: headless, no sandbox (root in CI), nothing fetched from the network.
 * playwright's launch() gives every browser a fresh temporary profile (user-data-dir) and removes it on close.
 */
export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--no-first-run",
      "--disable-sync",
    ],
  });
}

/** A fresh context (own storage) with Japanese locale; phone-sized when asked. */
export async function newPage(browser: Browser, size: { width: number; height: number } = DESKTOP): Promise<{ context: BrowserContext; page: Page }> {
  const phone = size.width < 600;
  const context = await browser.newContext({
    viewport: size,
    locale: "ja-JP",
    timezoneId: "Asia/Tokyo",
    acceptDownloads: true,
    ...(phone ? { isMobile: true, hasTouch: true, deviceScaleFactor: 2 } : {}),
  });
  const page = await context.newPage();
  // Anything a page logs as an error (CSP violations, failed scripts) fails the test that reads it.
  const problems: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(m.text());
  });
  page.on("pageerror", (e) => problems.push(e.message));
  pageProblems.set(page, problems);
  return { context, page };
}

const pageProblems = new WeakMap<Page, string[]>();
/** Console errors and uncaught exceptions the page produced so far. */
export const problemsOf = (page: Page): string[] => pageProblems.get(page) ?? [];

export interface AxeViolation {
  id: string;
  impact: "minor" | "moderate" | "serious" | "critical" | null;
  help: string;
  nodes: { target: string[] }[];
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

/** Runs axe-core (WCAG 2.x A/AA rules) in the page; writes the full result under dist/e2e. */
export async function runAxe(page: Page, name: string): Promise<{ violations: AxeViolation[]; counts: Record<string, number> }> {
  // Evaluated through the DevTools protocol: the pages' CSP (rightly) refuses an injected <script>.
  await page.evaluate(axeSource);
  const { violations, passes } = (await page.evaluate(
    `axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"] } }).then((r) => ({ violations: r.violations, passes: r.passes.length }))`,
  )) as { violations: AxeViolation[]; passes: number };
  const counts: Record<string, number> = { critical: 0, serious: 0, moderate: 0, minor: 0 };
  for (const v of violations) counts[v.impact ?? "minor"] = (counts[v.impact ?? "minor"] ?? 0) + 1;
  mkdirSync(REPORT_DIR, { recursive: true });
  writeFileSync(join(REPORT_DIR, `axe-${name}.json`), JSON.stringify({ counts, rulesPassed: passes, violations }, null, 2));
  console.log(`axe ${name}: ${JSON.stringify(counts)}, ${passes} rules passed` + (violations.length ? " " + violations.map((v) => `${v.id}(${v.impact})`).join(", ") : ""));
  return { violations, counts };
}

/**
 * Saves a PNG for the README under docs/screenshots (`npm run screenshots`, which sets E2E_SCREENSHOTS):
 * the whole page on a desktop, the first two screens on a phone. Install fonts-noto-cjk first, or the
 * Japanese text renders as boxes.
 */
export async function screenshot(page: Page, name: string): Promise<string | null> {
  if (!process.env["E2E_SCREENSHOTS"]) return null;
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name}.png`);
  const phone = (page.viewportSize()?.width ?? DESKTOP.width) < 600;
  await page.screenshot({
    path,
    animations: "disabled",
    ...(phone ? { clip: { x: 0, y: 0, width: PHONE.width, height: PHONE.height * 2 }, fullPage: true } : { fullPage: true }),
  });
  return path;
}

/** The service in dev mode on a free loopback port, serving the built pages from dist/web. */
export async function startService(opts: TestServerOptions = {}): Promise<TestServer> {
  if (!existsSync("dist/web/preferences/index.html")) throw new Error("dist/web is missing: run npm run build first (npm run test:e2e does)");
  return startTestServer({ ...opts, env: { WEB_DIR: "dist/web", ...opts.env } });
}

/** The address of a page with the token in the fragment (never sent to the server). */
export const pageUrl = (srv: TestServer, path: "/preferences" | "/console", token?: string): string =>
  new URL(path, srv.url).href + (token ? `#access_token=${encodeURIComponent(token)}` : "");

/** Publishes version 2 of the seed policy: requires consent, adds a purpose, adds a recipient abroad. */
export async function publishVersion2(srv: TestServer): Promise<void> {
  const officer = await srv.token("policy-officer", "policy:write consent:read");
  const current = await srv.gql<{ policy: { title: string; currentVersion: { purposes: PurposeIn[] } } }>(
    `{ policy(id: "clavis-privacy") { title currentVersion { purposes { id title description mode basis dataCategories consentTtlDays recipients { id name kind country privacyPolicyUrl } } } } }`,
    {},
    officer,
  );
  if (!current.data) throw new Error(JSON.stringify(current.errors));
  const purposes = current.data.policy.currentVersion.purposes.map((p) =>
    p.id === "third-party-provision"
      ? { ...p, recipients: [...p.recipients, { id: "acme-sg", name: "ACME Analytics Pte. Ltd.", kind: "THIRD_PARTY", country: "SG", privacyPolicyUrl: null }] }
      : p,
  );
  purposes.push({ id: "newsletter", title: "メールマガジンの配信", description: "新機能やキャンペーンのお知らせ", mode: "OPT_IN", basis: "CONSENT", dataCategories: ["contact"], consentTtlDays: null, recipients: [] });
  const r = await srv.gql(
    `mutation($input: PublishPolicyVersionInput!) { publishPolicyVersion(input: $input) { number } }`,
    {
      input: {
        policyId: "clavis-privacy",
        title: current.data.policy.title,
        effectiveAt: new Date(Date.now() - 1000).toISOString(),
        requiresConsent: true,
        documentDigest: "e".repeat(64),
        changeSummary: "メールマガジンの配信を追加し、第三者提供先にシンガポールの1社を追加しました。",
        purposes,
      },
    },
    officer,
  );
  if (r.errors) throw new Error(JSON.stringify(r.errors));
}

interface PurposeIn {
  id: string;
  title: string;
  description: string | null;
  mode: string;
  basis: string;
  dataCategories: string[];
  consentTtlDays: number | null;
  recipients: { id: string; name: string; kind: string; country: string | null; privacyPolicyUrl: string | null }[];
}

/** Runs axe-core and fails on any violation, whatever its impact. */
export async function expectAxeClean(page: Page, name: string): Promise<void> {
  const { violations } = await runAxe(page, name);
  if (violations.length > 0) throw new Error(`axe ${name}: ${JSON.stringify(violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target) })), null, 1)}`);
}

/** Whether every element matching `selector` renders its text on one line (no wrapped digits). */
export async function allOnOneLine(page: Page, selector: string): Promise<{ count: number; wrapped: string[] }> {
  return (await page.evaluate(`(() => {
    const els = [...document.querySelectorAll(${JSON.stringify(selector)})];
    const wrapped = els.filter((el) => {
      const range = document.createRange();
      range.selectNodeContents(el);
      const tops = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
      return tops.size > 1;
    }).map((el) => el.textContent);
    return { count: els.length, wrapped };
  })()`)) as { count: number; wrapped: string[] };
}

/** A date and time as the pages write it: 2026年12月6日 14:02 JST. */
export const JAPAN_DATE_TIME = /\d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2} JST/;
