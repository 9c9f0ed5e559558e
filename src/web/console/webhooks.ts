// The console's webhook view: every webhook with its state, and the deliveries still failing
// (being retried, or given up when the webhook was disabled). Needs a token with webhook:admin.
import type { Api } from "../common/api.js";
import { h, replace } from "../common/dom.js";
import { formatDateTime } from "../common/format.js";
import { graphql } from "../gql/index.js";

export const WebhooksQuery = graphql(`
  query ConsoleWebhooks {
    webhooks { id url description enabled disabledReason createdAt }
  }
`);

export const WebhookDeliveriesQuery = graphql(`
  query ConsoleWebhookDeliveries($id: ID!) {
    webhookDeliveries(id: $id, first: 50) {
      edges { node { messageId position state attempts lastStatusCode lastError lastAttemptAt nextAttemptAt } }
    }
  }
`);

const STATE_LABEL: Record<string, string> = { PENDING: "再送待ち", FAILED: "断念", DELIVERED: "配信済み" };

export async function renderWebhooks(slot: HTMLElement, api: Api): Promise<void> {
  const { webhooks } = await api.request(WebhooksQuery, {});
  const failing = await Promise.all(
    webhooks.map(async (w) => (await api.request(WebhookDeliveriesQuery, { id: w.id })).webhookDeliveries.edges.map((e) => e.node).filter((d) => d.state !== "DELIVERED")),
  );
  replace(
    slot,
    h(
      "section",
      { class: "card", "aria-labelledby": "webhooks-heading" },
      h("h3", { id: "webhooks-heading" }, `Webhook（${webhooks.length} 件）`),
      webhooks.length === 0
        ? h("p", {}, "登録された Webhook はありません。")
        : webhooks.map((w, i) =>
            h(
              "article",
              { class: "webhook", "data-webhook-id": w.id },
              h("h4", { class: "mono" }, w.url),
              h("p", {}, w.enabled ? "有効" : `停止中: ${w.disabledReason ?? ""}`, w.description ? ` — ${w.description}` : "", ` （登録 ${formatDateTime(w.createdAt)}）`),
              failing[i]!.length === 0
                ? h("p", {}, "失敗中の配信はありません。")
                : h(
                    "div",
                    { class: "table-wrap", role: "region", "aria-label": `${w.url} の失敗中の配信`, tabindex: 0 },
                    h(
                      "table",
                      {},
                      h("thead", {}, h("tr", {}, ["メッセージID", "状態", "試行回数", "最後の応答", "最後の試行", "次の試行"].map((t) => h("th", { scope: "col" }, t)))),
                      h(
                        "tbody",
                        {},
                        failing[i]!.map((d) =>
                          h(
                            "tr",
                            {},
                            h("td", { class: "mono" }, d.messageId),
                            h("td", {}, STATE_LABEL[d.state] ?? d.state),
                            h("td", {}, d.attempts),
                            h("td", {}, d.lastStatusCode !== null && d.lastStatusCode !== undefined ? `HTTP ${d.lastStatusCode}` : (d.lastError ?? "")),
                            h("td", {}, d.lastAttemptAt ? formatDateTime(d.lastAttemptAt) : ""),
                            h("td", {}, d.nextAttemptAt ? formatDateTime(d.nextAttemptAt) : ""),
                          ),
                        ),
                      ),
                    ),
                  ),
            ),
          ),
    ),
  );
}
