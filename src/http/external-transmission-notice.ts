// GET /notices/external-transmission: the Telecommunications Business Act Art. 27-12 notice, as JSON or a Japanese page.
import type { IncomingMessage, ServerResponse } from "node:http";
import { controllerOf } from "../domain/catalog.js";
import { type ExternalTransmission, externalTransmissions } from "../domain/external-transmissions.js";
import type { Ledger } from "../ledger.js";

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The notice as JSON: the same shape as the GraphQL field externalTransmissions. */
export function noticeJson(items: readonly ExternalTransmission[]) {
  return items.map((t) => ({
    purposeId: t.purposeId,
    recipient: {
      id: t.recipient.id,
      name: t.recipient.name,
      kind: t.recipient.kind,
      country: t.recipient.country,
      privacyPolicyUrl: t.recipient.privacyPolicyUrl,
      countryProtectionSystem: t.recipient.countryProtectionSystem ?? null,
      measures: t.recipient.measures ?? null,
      recipientPurpose: t.recipient.recipientPurpose ?? null,
    },
    dataCategories: t.dataCategories,
    dataCategoryLabels: t.dataCategoryLabels,
    recipientPurpose: t.recipientPurpose,
    optOutPurposeId: t.optOutPurposeId,
  }));
}

/** The notice as a page in Japanese: for each external module, what is sent, to whom, what for, and how to opt out. */
export function noticeHtml(items: readonly ExternalTransmission[], controllerName: string | null): string {
  const row = (label: string, value: string) => `<tr><th scope="row">${escapeHtml(label)}</th><td>${value}</td></tr>`;
  const link = (url: string | null) => (url && /^https?:\/\//.test(url) ? `<a href="${escapeHtml(url)}">${escapeHtml(url)}</a>` : "—");
  const sections = items.map((t) =>
    [
      `<section>`,
      `<h2>${escapeHtml(t.recipient.name)}</h2>`,
      `<table>`,
      row("送信される情報", escapeHtml(t.dataCategoryLabels.join("、"))),
      row("送信先", `${escapeHtml(t.recipient.name)}${t.recipient.country ? `（${escapeHtml(t.recipient.country)}）` : ""}`),
      row("利用目的", escapeHtml(t.recipientPurpose)),
      row("送信先のプライバシーポリシー", link(t.recipient.privacyPolicyUrl)),
      row(
        "送信を停止する方法（オプトアウト）",
        [
          `<p>このページの「送信を停止する」ボタンで、いつでも停止できます。会員の方は設定画面で「${escapeHtml(t.purposeTitle)}」への同意を撤回しても停止できます。</p>`,
          `<consent-opt-out policy="${escapeHtml(t.policyId)}" purpose="${escapeHtml(t.optOutPurposeId)}" label="${escapeHtml(t.recipient.name)}"></consent-opt-out>`,
          `<noscript><p>停止ボタンの表示には JavaScript が必要です。</p></noscript>`,
        ].join(""),
      ),
      `</table>`,
      `</section>`,
    ].join("\n"),
  );
  return [
    `<!doctype html>`,
    `<html lang="ja">`,
    `<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>利用者情報の外部送信について</title><link rel="icon" href="data:,">`,
    // The opt-out buttons: a visitor without an account stops the transmission here, recorded in the ledger.
    `<script src="/sdk/banner.js" defer></script></head>`,
    `<body>`,
    `<main>`,
    `<h1>利用者情報の外部送信について</h1>`,
    `<p>${controllerName ? `${escapeHtml(controllerName)}は、` : ""}電気通信事業法第27条の12に基づき、本サービスが利用者の端末から外部へ送信させる情報を次のとおり公表します。</p>`,
    sections.length > 0 ? sections.join("\n") : `<p>現在、外部送信を行う情報収集モジュールはありません。</p>`,
    `</main>`,
    `</body>`,
    `</html>`,
    ``,
  ].join("\n");
}

/** Answers the notice in the form the client accepts; needs no token. */
export function externalTransmissionNotice(req: IncomingMessage, res: ServerResponse, ledger: Ledger): void {
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.writeHead(405, { allow: "GET, HEAD", "content-type": "application/json; charset=utf-8" });
    res.end(JSON.stringify({ errors: [{ message: "use GET", extensions: { code: "BAD_REQUEST" } }] }));
    return;
  }
  const items = externalTransmissions(ledger.catalog, null, ledger.now());
  const wantsHtml = /\btext\/html\b/.test(String(req.headers.accept ?? ""));
  if (wantsHtml) {
    const base = ledger.defaultPolicy() ?? ledger.catalog.policies().find((p) => p.overrides === null);
    const controller = base ? controllerOf(base, base.versions.length) : null;
    res.writeHead(200, {
      "content-type": "text/html; charset=utf-8",
      "cache-control": "public, max-age=300",
      "content-language": "ja",
      vary: "accept",
      // Only this service's own script and API; the opt-out element styles its shadow root.
      "content-security-policy": "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
      "x-content-type-options": "nosniff",
    });
    res.end(req.method === "HEAD" ? undefined : noticeHtml(items, controller?.name ?? null));
    return;
  }
  res.writeHead(200, { "content-type": "application/json; charset=utf-8", "cache-control": "public, max-age=300", vary: "accept" });
  res.end(req.method === "HEAD" ? undefined : JSON.stringify(noticeJson(items)));
}
