// A subject's consent state and the events behind it, now or at an instant (valid time `at`, as
// recorded by `knownAt`), with each event as a Japanese sentence. An id the ledger has never seen says so.
import { h, inPageForm, replace } from "../common/dom.js";
import { describeEvent } from "../common/events.js";
import { REASON_LABEL, SUBJECT_STATUS_LABEL, actorText, consentStatusText, formatDate, formatDateTime, label } from "../common/format.js";
import type { SubjectTimelineQuery as TimelineData } from "../gql/graphql.js";
import type { ConsoleApp, ConsoleView } from "./app.js";
import { isKnownAt, pointInTime } from "./point-in-time.js";
import { actionBar } from "./action-form.js";
import { SubjectTimelineQuery } from "./queries.js";
import { fromLocalInput, toLocalInput } from "./queue.js";
import { subjectActions } from "./subject-actions.js";
import { table, tableWrap } from "./table.js";

type Subject = TimelineData["subject"];
type TimelineEvent = Subject["history"]["edges"][number]["node"];

export interface TimelineView extends ConsoleView {
  open(subjectId: string): void;
}

export function timelineView(app: ConsoleApp): TimelineView {
  let subject = "";
  let at = "";
  let knownAt = "";

  const render = async (slot: HTMLElement): Promise<void> => {
    const subjectInput = h("input", { type: "text", id: "subject-id", name: "subject", value: subject, required: true, autocomplete: "off", spellcheck: "false" });
    const atInput = h("input", { type: "datetime-local", id: "at", name: "at", step: 1, value: at });
    const knownInput = h("input", { type: "datetime-local", id: "known-at", name: "knownAt", step: 1, value: knownAt });
    const result = h("div", { id: "timeline-result" });
    const message = h("div", { id: "action-result" });
    const form = inPageForm(
      { class: "card", "aria-labelledby": "timeline-heading" },
      () => {
        replace(message);
        subject = subjectInput.value.trim();
        at = atInput.value;
        knownAt = knownInput.value;
        void load(result);
      },
      h("h3", { id: "timeline-heading" }, "対象者の状態と履歴"),
      h("label", { for: "subject-id" }, "対象者ID"),
      subjectInput,
      h(
        "div",
        { class: "grid2" },
        h("div", {}, h("label", { for: "at" }, "この時点の状態（日本時間、空欄は現在）"), atInput),
        h("div", {}, h("label", { for: "known-at" }, "この時点までに記録された内容で（日本時間、空欄は現在）"), knownInput),
      ),
      h(
        "div",
        { class: "actions" },
        h("button", { type: "submit", class: "primary" }, "表示"),
        h(
          "button",
          {
            type: "button",
            onclick: () => {
              atInput.value = "";
              knownInput.value = "";
              form.requestSubmit();
            },
          },
          "現在に戻す",
        ),
      ),
    );
    replace(slot, form, message, result);
    if (subject) await load(result);
  };

  async function load(result: HTMLElement): Promise<void> {
    if (!subject) return;
    const atIso = fromLocalInput(at);
    const knownIso = fromLocalInput(knownAt);
    replace(result, h("p", {}, "読み込み中…"));
    try {
      const data = await app.api.request(SubjectTimelineQuery, { id: subject, at: atIso, knownAt: knownIso, after: null });
      show(result, data.subject, atIso, knownIso);
      app.announce(`${subject} の状態を表示しました`);
    } catch (e) {
      app.failed(e, result);
    }
  }

  function show(result: HTMLElement, s: Subject, atIso: string | null, knownIso: string | null, earlier: TimelineEvent[] = []): void {
    const events = [...earlier, ...s.history.edges.map((e) => e.node)];
    const { hasNextPage, endCursor } = s.history.pageInfo;
    if (s.version === 0 && events.length === 0) {
      // subject(id) answers any id; one with no event at all is a person the ledger does not know.
      return replace(
        result,
        h(
          "section",
          { class: "card", "aria-labelledby": "state-heading", id: "subject-not-found" },
          h("h3", { id: "state-heading" }, "対象者が見つかりません"),
          h("p", { role: "status" }, `対象者ID「${s.id}」の記録は台帳にありません。同意も請求も記録されていません。IDに誤りがないか確認してください。`),
        ),
      );
    }
    const timeTravel = atIso !== null || knownIso !== null;
    const past = pointInTime(events, atIso, knownIso);
    const asOf = `${atIso ? formatDateTime(atIso) : "現在"} 時点${knownIso ? `（${formatDateTime(knownIso)} までの記録による）` : ""}`;
    const more = async (button: HTMLButtonElement) => {
      button.disabled = true;
      try {
        const next = await app.api.request(SubjectTimelineQuery, { id: s.id, at: atIso, knownAt: knownIso, after: endCursor ?? null });
        show(result, next.subject, atIso, knownIso, events);
      } catch (e) {
        app.failed(e, result);
      }
    };
    /** After an action on this subject: say what it did (focused), and show the subject as it now is. */
    const done = (text: string) => {
      const slot = document.getElementById("action-result");
      const note = h("p", { class: "notice ok", role: "status", tabindex: -1, id: "action-message" }, text);
      if (slot) replace(slot, note);
      note.focus();
      void load(result);
    };
    const jump = (e: TimelineEvent) => {
      at = toLocalInput(e.occurredAt);
      knownAt = toLocalInput(e.recordedAt);
      void app.show("timeline");
    };
    replace(
      result,
      h(
        "section",
        { class: "card", "aria-labelledby": "state-heading" },
        h("h3", { id: "state-heading" }, `${s.id} の同意状態：${asOf}`),
        h(
          "p",
          { class: "meta", id: "subject-summary" },
          timeTravel
            ? `この時点の状態：${label(SUBJECT_STATUS_LABEL, past.status)} ・ この時点までの記録 ${past.known.length} 件${hasNextPage ? "以上" : ""}`
            : `現在の状態：${label(SUBJECT_STATUS_LABEL, s.status)} ・ 記録 ${s.version} 件`,
        ),
        timeTravel && past.known.length === 0 ? h("p", { class: "notice" }, "この時点では、この対象者の記録はまだありません。") : null,
        s.policyStandings.map((p) =>
          h(
            "p",
            {},
            `${p.policy.title}：`,
            p.acceptedVersion ? `第${p.acceptedVersion.number}版に同意済み（${formatDateTime(p.acceptedAt)}）` : "まだ同意していません",
            p.applicableVersion ? `、適用される版は第${p.applicableVersion.number}版` : "",
            p.needsReconsent ? h("strong", {}, `（第${p.pendingVersion?.number ?? "?"}版への再同意待ち）`) : "",
          ),
        ),
        tableWrap(
          "目的ごとの状態",
          table(
            { id: "consents-table" },
            null,
            ["目的", "状態", "利用可否", "理由", "選択の時点", "期限"],
            s.consents.map((c) =>
              h(
                "tr",
                { "data-purpose": c.purpose.id },
                h("td", {}, c.purpose.title),
                h("td", {}, consentStatusText(c.purpose.mode, c.status, c.reason)),
                h("td", {}, c.permitted ? h("span", { class: "ok-text" }, "可") : h("span", { class: "err-text" }, "不可")),
                h("td", {}, label(REASON_LABEL, c.reason)),
                h("td", { class: "when" }, formatDateTime(c.since)),
                h("td", { class: "when" }, formatDate(c.expiresAt)),
              ),
            ),
          ),
        ),
      ),
      app.can("subject:admin")
        ? h(
            "section",
            { class: "card", "aria-labelledby": "subject-actions-heading", id: "subject-actions" },
            h("h3", { id: "subject-actions-heading" }, "この対象者への操作"),
            actionBar(app, "この対象者への操作", subjectActions(app, s.id), done),
          )
        : null,
      h(
        "section",
        { class: "card", "aria-labelledby": "history-heading" },
        h("h3", { id: "history-heading" }, `根拠となるイベント（${events.length} 件${hasNextPage ? "、古い順に先頭から" : ""}）`),
        timeTravel ? h("p", { class: "meta" }, "この時点より後の記録には「この時点より後」と表示しています。") : null,
        tableWrap(
          "イベントの履歴",
          table(
            { id: "history-table" },
            null,
            ["位置", "内容", "発生時刻", "記録時刻", "実行者", "操作"],
            events.map((e) => {
              const later = timeTravel && !isKnownAt(e, atIso, knownIso);
              return h(
                "tr",
                { class: later ? "later" : false, "data-event-type": e.type },
                h("td", {}, h("span", { class: "position" }, e.position)),
                h("td", {}, describeEvent(e, app.names), later ? h("span", { class: "tag-later" }, "（この時点より後）") : null),
                h("td", { class: "when" }, formatDateTime(e.occurredAt)),
                h("td", { class: "when" }, formatDateTime(e.recordedAt)),
                h("td", {}, actorText(e.actor, s.id)),
                h(
                  "td",
                  {},
                  h("button", { type: "button", class: "link", onclick: () => jump(e) }, "この時点へ", h("span", { class: "visually-hidden" }, `（位置 ${e.position} の時点の状態を見る）`)),
                ),
              );
            }),
          ),
        ),
        hasNextPage ? h("div", { class: "actions" }, h("button", { type: "button", onclick: (e: Event) => void more(e.currentTarget as HTMLButtonElement) }, "さらに読み込む")) : null,
      ),
    );
  }

  return {
    id: "timeline",
    title: "対象者のタイムライン",
    render,
    open(subjectId: string) {
      subject = subjectId;
      at = "";
      knownAt = "";
      void app.show("timeline");
    },
    onLiveEvent: (e) => {
      if (e.subjectId === subject && !at && !knownAt) {
        const result = document.getElementById("timeline-result");
        if (result) void load(result);
      }
    },
  };
}
