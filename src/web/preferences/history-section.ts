// The person's own record, read from the ledger on every load: each save with its receipt number and
// its signed receipt (issued again by the API on request), the receipts issued in this tab, and every
// event of their history as a Japanese sentence.
import { h } from "../common/dom.js";
import { describeEvent } from "../common/events.js";
import { formatDateTime } from "../common/format.js";
import { readClaims } from "../common/session.js";
import { type Me, type PageContext, policyTextUrl } from "./context.js";
import { MyReceiptQuery } from "./queries.js";
import { type SavedChoice, savedChoices } from "./saved-choices.js";

type HistoryEvent = Me["history"]["edges"][number]["node"];

function saveSummary(s: SavedChoice<HistoryEvent>): string {
  const count = (type: string) => s.events.filter((e) => e.type === type).length;
  const accepted = s.events.find((e) => e.type === "PolicyAccepted");
  const version = (accepted?.data as { version?: number } | undefined)?.version;
  return [
    accepted ? `第${version ?? "?"}版に同意` : null,
    count("ConsentGranted") ? `同意 ${count("ConsentGranted")} 件` : null,
    count("ConsentWithdrawn") ? `撤回 ${count("ConsentWithdrawn")} 件` : null,
  ]
    .filter(Boolean)
    .join("、");
}

/** Hands the browser a receipt to save as a file. */
function downloadReceipt(jws: string, receiptId: string): void {
  const href = URL.createObjectURL(new Blob([jws], { type: "application/jose" }));
  const a = h("a", { href, download: `consent-receipt-${receiptId}.jws`, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(href), 60_000);
}

/** One earlier save: what it recorded, its receipt number, and a button that fetches its signed receipt from the API. */
function savedChoiceItem(ctx: PageContext, s: SavedChoice<HistoryEvent>): HTMLElement {
  const labelId = `save-${s.receiptId}`;
  const fetchReceipt = async (event: Event) => {
    const button = event.currentTarget as HTMLButtonElement;
    button.disabled = true;
    try {
      const { me } = await ctx.api.request(MyReceiptQuery, { eventId: s.receiptId });
      downloadReceipt(me.receipt, s.receiptId);
    } catch (e) {
      ctx.failed(e);
    } finally {
      button.disabled = false;
    }
  };
  return h(
    "li",
    {},
    h("span", { id: labelId }, `${formatDateTime(s.recordedAt)}：${saveSummary(s)}（控えの番号 `, h("span", { class: "mono" }, s.receiptId), "）"),
    h("button", { type: "button", class: "button", "aria-describedby": labelId, onclick: fetchReceipt }, "控えをダウンロード"),
  );
}

export function receiptsSection(ctx: PageContext): HTMLElement | null {
  const saves = savedChoices(ctx.me.history.edges.map((e) => e.node));
  if (saves.length === 0 && ctx.receipts.length === 0) return null;
  return h(
    "section",
    { class: "card", "aria-labelledby": "receipts-heading" },
    h("h2", { id: "receipts-heading" }, "同意の控え（レシート）"),
    h(
      "p",
      {},
      "設定を保存するたびに、電子署名付きの控えが発行されます。ダウンロードして保管しておくと、いつ、何に同意したかを後から確かめられます。これまでに保存した設定の控えも、いつでもダウンロードし直せます（内容と番号は保存したときと同じで、署名だけがダウンロードのときに付け直されます）。",
    ),
    ctx.receipts.length
      ? h(
          "ul",
          { class: "receipts", id: "tab-receipts" },
          ctx.receipts.map((r, i) => {
            const payload = readClaims(r.jws) as Record<string, unknown> | null;
            const receiptId = typeof payload?.["consentReceiptID"] === "string" ? payload["consentReceiptID"] : `receipt-${i + 1}`;
            const href = URL.createObjectURL(new Blob([r.jws], { type: "application/jose" }));
            return h(
              "li",
              {},
              h("span", {}, `${formatDateTime(r.savedAt)}：${r.summary}（控えの番号 `, h("span", { class: "mono" }, receiptId), "）"),
              h("a", { href, download: `consent-receipt-${receiptId}.jws`, class: "button" }, "控えをダウンロード"),
              h("details", {}, h("summary", {}, "控えの内容"), h("pre", { tabindex: 0, "aria-label": "控えの内容" }, JSON.stringify(payload, null, 2))),
            );
          }),
        )
      : null,
    saves.length
      ? [
          h("h3", { id: "saves-heading" }, "これまでに保存した設定"),
          h(
            "ul",
            { class: "receipts", id: "saved-choices", "aria-labelledby": "saves-heading" },
            saves.map((s) => savedChoiceItem(ctx, s)),
          ),
        ]
      : null,
  );
}

export function historySection(ctx: PageContext): HTMLElement {
  const events = ctx.me.history.edges.map((e) => e.node);
  return h(
    "section",
    { class: "card", "aria-labelledby": "history-heading" },
    h("h2", { id: "history-heading" }, "これまでの記録"),
    events.length === 0
      ? h("p", {}, "まだ記録はありません。")
      : [
          h("p", { class: "meta" }, "新しい順に表示しています。", ctx.me.history.pageInfo.hasNextPage ? "古い記録の一部は省略しています。" : ""),
          h(
            "ol",
            { class: "history", id: "my-history" },
            [...events].reverse().map((e) => {
              const d = (e.data ?? {}) as { policyId?: string; version?: number };
              const byOther = e.actor.kind !== "SUBJECT" || e.actor.id !== ctx.me.id;
              return h(
                "li",
                {},
                h("span", { class: "sentence" }, `${formatDateTime(e.occurredAt)}、${describeEvent(e, ctx.names)}`),
                e.type === "PolicyAccepted" && d.policyId && typeof d.version === "number" ? [" ", h("a", { href: policyTextUrl(d.policyId, d.version) }, `第${d.version}版の全文`)] : null,
                byOther ? h("span", { class: "who" }, e.actor.kind === "SYSTEM" ? "（自動の記録）" : "（サービスの担当者による記録）") : null,
              );
            }),
          ),
        ],
  );
}
