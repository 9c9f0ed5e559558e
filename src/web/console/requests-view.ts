// The data-request queue (overdue first) and the request selected in it, with what an officer can do to it.
// The queue follows the ledger live; an action's form stays as typed while the queue around it updates.
import { h, replace } from "../common/dom.js";
import { REQUEST_KIND_LABEL, REQUEST_STATUS_LABEL, formatDate, formatDateTime, label } from "../common/format.js";
import type { DataRequestQueueQuery as QueueData } from "../gql/graphql.js";
import type { ConsoleApp, ConsoleView } from "./app.js";
import { DataRequestQueueQuery } from "./queries.js";
import { sortQueue } from "./queue.js";
import { type QueueRequest, actionsPanel } from "./request-actions.js";
import { table, tableWrap } from "./table.js";

/** What the last action did, shown (and focused) once above the queue. */
interface Outcome {
  kind: "ok" | "error";
  text: string;
}

export function requestsView(app: ConsoleApp, openTimeline: (subjectId: string) => void): ConsoleView {
  let selected: string | null = null;
  let outcome: Outcome | null = null;
  /** The status the panel was drawn for: the panel is drawn again only when the request changed. */
  let panelFor = "";

  const render = async (slot: HTMLElement): Promise<void> => {
    const data: QueueData = await app.api.request(DataRequestQueueQuery, {});
    const queue = sortQueue([...data.open, ...data.verified]);
    const chosen = queue.find((r) => r.id === selected) ?? null;
    if (!chosen) selected = null;

    let resultSlot = slot.querySelector<HTMLElement>("#action-result");
    let queueSlot = slot.querySelector<HTMLElement>("#queue-slot");
    let panelSlot = slot.querySelector<HTMLElement>("#panel-slot");
    if (!resultSlot || !queueSlot || !panelSlot) {
      resultSlot = h("div", { id: "action-result" });
      queueSlot = h("div", { id: "queue-slot" });
      panelSlot = h("div", { id: "panel-slot" });
      replace(slot, resultSlot, queueSlot, panelSlot);
      panelFor = "";
    }

    replace(queueSlot, queueCard(queue));
    const key = chosen ? `${chosen.id}\u0000${chosen.status}\u0000${chosen.dueAt}` : "";
    if (key !== panelFor) {
      panelFor = key;
      replace(panelSlot, chosen ? actionsPanel(app, chosen, { done, openTimeline }) : null);
    }
    if (outcome) {
      const message = h("p", { class: `notice ${outcome.kind}`, role: outcome.kind === "error" ? "alert" : "status", tabindex: -1, id: "action-message" }, outcome.text);
      replace(resultSlot, message);
      outcome = null;
      // Focus goes to what happened, so a keyboard or screen-reader user hears it and continues from there.
      message.focus();
    }
  };

  /** After an action: say what it did, and show the queue as it now stands. */
  const done = (text: string, keepSelected: boolean) => {
    outcome = { kind: "ok", text };
    if (!keepSelected) selected = null;
    panelFor = "";
    void app.refresh(render);
  };

  const select = (r: QueueRequest) => {
    selected = r.id;
    panelFor = "";
    // The last action's message was about another request.
    document.getElementById("action-result")?.replaceChildren();
    void app.refresh(render).then(() => document.getElementById("panel-heading")?.focus());
  };

  const queueCard = (queue: QueueRequest[]) => {
    const overdue = queue.filter((r) => r.overdue).length;
    return h(
      "section",
      { class: "card", "aria-labelledby": "queue-heading" },
      h("h3", { id: "queue-heading" }, `未完了の請求（${queue.length} 件、うち期限超過 ${overdue} 件）`),
      queue.length === 0
        ? h("p", {}, "未完了の請求はありません。")
        : tableWrap(
            "未完了の請求",
            table(
              {},
              "未完了の請求。期限超過を先頭に、回答期限の早い順",
              ["回答期限", "対象者ID", "種類", "状態", "受付日", "メモ", "操作"],
              queue.map((r) =>
                h(
                  "tr",
                  { class: [r.overdue ? "overdue" : "", r.id === selected ? "selected" : ""].join(" ").trim() || false, "data-request-id": r.id },
                  h("td", { class: "when" }, h("span", {}, formatDate(r.dueAt), r.overdue ? h("span", { class: "tag-overdue" }, "（期限超過）") : null)),
                  h("td", {}, h("button", { type: "button", class: "link mono", onclick: () => openTimeline(r.subjectId) }, r.subjectId)),
                  h("td", {}, label(REQUEST_KIND_LABEL, r.kind)),
                  h("td", {}, label(REQUEST_STATUS_LABEL, r.status)),
                  h("td", { class: "when", title: formatDateTime(r.openedAt) }, formatDate(r.openedAt)),
                  h("td", {}, r.note ?? ""),
                  h(
                    "td",
                    {},
                    h(
                      "button",
                      { type: "button", class: "link select", "aria-pressed": r.id === selected ? "true" : "false", onclick: () => select(r) },
                      "選択",
                      h("span", { class: "visually-hidden" }, `（${r.subjectId} の${label(REQUEST_KIND_LABEL, r.kind)}の請求）`),
                    ),
                  ),
                ),
              ),
            ),
          ),
      queue.length > 0 && !selected ? h("p", { class: "meta" }, "請求の「選択」を押すと、本人確認・延長・対応完了・却下などの操作が表示されます。") : null,
    );
  };

  return {
    id: "requests",
    title: "開示等の請求",
    render,
    onLiveEvent: (e) => {
      if (e.type.startsWith("DataRequest") || e.type === "SubjectErased") void app.refresh(render);
    },
  };
}

export type { QueueData };
