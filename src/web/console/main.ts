// The officer console (/console): the data-request queue (overdue first), a subject's timeline with
// time travel, the re-consent queue, integrity and the signed head, all following the ledger live.
import "../common/style.css";
import { Api, ApiError, isSignInNeeded } from "../common/api.js";
import { byId, h, replace } from "../common/dom.js";
import {
  EVENT_TYPE_LABEL,
  REASON_LABEL,
  REQUEST_KIND_LABEL,
  REQUEST_STATUS_LABEL,
  STATUS_LABEL,
  SUBJECT_STATUS_LABEL,
  errorMessage,
  formatDate,
  formatDateTime,
  label,
} from "../common/format.js";
import { Session, isExpired, readClaims, takeTokenFromFragment } from "../common/session.js";
import { signInView } from "../common/sign-in.js";
import type { CheckpointQuery as CheckpointData, DataRequestQueueQuery as QueueData, LiveEventsSubscription as LiveData, SubjectTimelineQuery as TimelineData } from "../gql/graphql.js";
import {
  CheckpointQuery,
  DataRequestQueueQuery,
  IntegrityQuery,
  LiveEventsSubscription,
  PoliciesQuery,
  ReconsentQueueQuery,
  SubjectTimelineQuery,
} from "./queries.js";
import { fromLocalInput, sortQueue, toLocalInput } from "./queue.js";

type View = "requests" | "timeline" | "reconsent" | "integrity";
const VIEWS: { id: View; title: string }[] = [
  { id: "requests", title: "開示等の請求" },
  { id: "timeline", title: "対象者のタイムライン" },
  { id: "reconsent", title: "再同意待ち" },
  { id: "integrity", title: "台帳の完全性" },
];

const session = new Session("consent-ledger.console.token");
const api = new Api(() => session.token);
const main = byId("main");
const nav = byId("nav");
const account = byId("account");
const announcer = byId("status");

let view: View = "requests";
let timelineSubject = "";
let timelineAt = "";
let timelineKnownAt = "";
let stopLive: (() => void) | null = null;
const live: LiveData["ledgerEvents"][] = [];
let liveState: "connecting" | "connected" | "closed" = "connecting";

function announce(text: string): void {
  announcer.textContent = "";
  setTimeout(() => (announcer.textContent = text), 50);
}

function signOut(message: string | null): void {
  session.token = null;
  stopLive?.();
  stopLive = null;
  api.close();
  live.length = 0;
  replace(account);
  replace(nav);
  replace(
    main,
    signInView({
      heading: "担当者のサインイン",
      explanation: "ledger:read と consent:read を持つアクセストークンを貼り付けてください。トークンはこのタブの中だけに保存されます。",
      message,
      onToken: (token) => {
        session.token = token;
        start();
      },
    }),
  );
  document.title = "サインイン - 同意台帳 管理コンソール";
}

function failed(e: unknown, slot: HTMLElement): void {
  if (isSignInNeeded(e)) return signOut(errorMessage("UNAUTHENTICATED", ""));
  const err = e instanceof ApiError ? e : new ApiError("ERROR", String(e));
  replace(slot, h("p", { class: "notice error", role: "alert" }, errorMessage(err.code, err.message)));
}

function start(): void {
  const token = session.token;
  if (!token) return signOut(null);
  const claims = readClaims(token);
  if (isExpired(claims)) return signOut("トークンの有効期限が切れています。新しいトークンでもう一度サインインしてください。");
  replace(
    account,
    h("span", {}, "担当者: ", h("strong", {}, claims?.sub ?? "—")),
    h("span", { id: "live-state", class: "live-state" }),
    h("button", { type: "button", class: "link", onclick: () => signOut(null) }, "サインアウト"),
  );
  renderNav();
  followLive();
  void show(view);
}

function renderNav(): void {
  replace(
    nav,
    VIEWS.map((v) =>
      h("button", { type: "button", "aria-current": v.id === view ? "page" : false, onclick: () => void show(v.id) }, v.title),
    ),
  );
}

async function show(next: View): Promise<void> {
  view = next;
  renderNav();
  const title = VIEWS.find((v) => v.id === next)!.title;
  document.title = `${title} - 同意台帳 管理コンソール`;
  replace(main, h("h2", { class: "visually-hidden" }, title), h("div", { id: "view" }, h("p", {}, "読み込み中…")), liveCard());
  const slot = byId("view");
  try {
    if (next === "requests") await renderRequests(slot);
    else if (next === "timeline") await renderTimeline(slot);
    else if (next === "reconsent") await renderReconsent(slot);
    else await renderIntegrity(slot);
  } catch (e) {
    failed(e, slot);
  }
}

/**
 * Wraps a table so it can be scrolled by keyboard, and lets it become one card per row on a phone:
 * each cell carries its column's name (shown before it there), and explicit roles keep the table's
 * semantics when CSS changes its display.
 */
function tableWrap(labelText: string, table: HTMLTableElement): HTMLElement {
  const headers = [...table.querySelectorAll("thead th")].map((th) => th.textContent ?? "");
  table.classList.add("stack");
  table.setAttribute("role", "table");
  for (const tr of table.querySelectorAll("tr")) tr.setAttribute("role", "row");
  for (const th of table.querySelectorAll("th")) th.setAttribute("role", "columnheader");
  for (const tr of table.querySelectorAll("tbody tr"))
    [...tr.children].forEach((td, i) => {
      td.setAttribute("role", "cell");
      td.setAttribute("data-label", headers[i] ?? "");
    });
  return h("div", { class: "table-wrap", role: "region", "aria-label": labelText, tabindex: 0 }, table);
}

async function renderRequests(slot: HTMLElement): Promise<void> {
  const data: QueueData = await api.request(DataRequestQueueQuery, {});
  const queue = sortQueue([...data.open, ...data.verified]);
  const overdue = queue.filter((r) => r.overdue).length;
  replace(
    slot,
    h(
      "section",
      { class: "card", "aria-labelledby": "queue-heading" },
      h("h3", { id: "queue-heading" }, `未完了の請求（${queue.length} 件、うち期限超過 ${overdue} 件）`),
      queue.length === 0
        ? h("p", {}, "未完了の請求はありません。")
        : tableWrap(
            "未完了の請求",
            h(
              "table",
              {},
              h("caption", { class: "visually-hidden" }, "未完了の請求。期限超過を先頭に、回答期限の早い順"),
              h("thead", {}, h("tr", {}, ["回答期限", "対象者ID", "種類", "状態", "受付日", "メモ"].map((t) => h("th", { scope: "col" }, t)))),
              h(
                "tbody",
                {},
                queue.map((r) =>
                  h(
                    "tr",
                    { class: r.overdue ? "overdue" : false, "data-request-id": r.id },
                    h("td", {}, h("span", {}, formatDate(r.dueAt), r.overdue ? h("span", { class: "tag-overdue" }, "（期限超過）") : null)),
                    h("td", {}, h("button", { type: "button", class: "link mono", onclick: () => openTimeline(r.subjectId) }, r.subjectId)),
                    h("td", {}, label(REQUEST_KIND_LABEL, r.kind)),
                    h("td", {}, label(REQUEST_STATUS_LABEL, r.status)),
                    h("td", {}, formatDate(r.openedAt)),
                    h("td", {}, r.note ?? ""),
                  ),
                ),
              ),
            ),
          ),
    ),
  );
}

function openTimeline(subjectId: string): void {
  timelineSubject = subjectId;
  timelineAt = "";
  timelineKnownAt = "";
  void show("timeline");
}

async function renderTimeline(slot: HTMLElement): Promise<void> {
  const subjectInput = h("input", { type: "text", id: "subject-id", name: "subject", value: timelineSubject, required: true, autocomplete: "off" });
  const atInput = h("input", { type: "datetime-local", id: "at", name: "at", step: 1, value: timelineAt });
  const knownInput = h("input", { type: "datetime-local", id: "known-at", name: "knownAt", step: 1, value: timelineKnownAt });
  const result = h("div", { id: "timeline-result" });
  const form = h(
    "form",
    {
      class: "card",
      "aria-labelledby": "timeline-heading",
      onsubmit: (e: Event) => {
        e.preventDefault();
        timelineSubject = subjectInput.value.trim();
        timelineAt = atInput.value;
        timelineKnownAt = knownInput.value;
        void loadTimeline(result);
      },
    },
    h("h3", { id: "timeline-heading" }, "対象者の状態と履歴"),
    h("label", { for: "subject-id" }, "対象者ID"),
    subjectInput,
    h(
      "div",
      { class: "grid2" },
      h("div", {}, h("label", { for: "at" }, "この時点の状態（有効時刻 at、空欄は現在）"), atInput),
      h("div", {}, h("label", { for: "known-at" }, "この時点までに記録された内容で（knownAt、空欄は現在）"), knownInput),
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
  replace(slot, form, result);
  if (timelineSubject) await loadTimeline(result);
}

async function loadTimeline(result: HTMLElement): Promise<void> {
  if (!timelineSubject) return;
  const at = fromLocalInput(timelineAt);
  const knownAt = fromLocalInput(timelineKnownAt);
  replace(result, h("p", {}, "読み込み中…"));
  try {
    const data = await api.request(SubjectTimelineQuery, { id: timelineSubject, at, knownAt, after: null });
    renderSubject(result, data.subject, at, knownAt);
    announce(`${timelineSubject} の状態を表示しました`);
  } catch (e) {
    failed(e, result);
  }
}

type TimelineEvent = TimelineData["subject"]["history"]["edges"][number]["node"];

function renderSubject(result: HTMLElement, s: TimelineData["subject"], at: string | null, knownAt: string | null, earlier: TimelineEvent[] = []): void {
  const asOf = `${at ? formatDateTime(at) : "現在"} 時点${knownAt ? `（${formatDateTime(knownAt)} までの記録による）` : ""}`;
  const events = [...earlier, ...s.history.edges.map((e) => e.node)];
  const { hasNextPage, endCursor } = s.history.pageInfo;
  const more = async (button: HTMLButtonElement) => {
    button.disabled = true;
    try {
      const next = await api.request(SubjectTimelineQuery, { id: s.id, at, knownAt, after: endCursor ?? null });
      renderSubject(result, next.subject, at, knownAt, events);
    } catch (e) {
      failed(e, result);
    }
  };
  replace(
    result,
    h(
      "section",
      { class: "card", "aria-labelledby": "state-heading" },
      h("h3", { id: "state-heading" }, `${s.id} の同意状態：${asOf}`),
      h("p", { class: "meta" }, `現在の状態：${label(SUBJECT_STATUS_LABEL, s.status)} ・ 版数 ${s.version}`),
      s.policyStandings.map((p) =>
        h(
          "p",
          {},
          `${p.policy.title}：同意済み 第${p.acceptedVersion?.number ?? "—"}版、適用 第${p.applicableVersion?.number ?? "—"}版`,
          p.needsReconsent ? h("strong", {}, `（第${p.pendingVersion?.number ?? "?"}版への再同意待ち）`) : "",
        ),
      ),
      tableWrap(
        "目的ごとの状態",
        h(
          "table",
          { id: "consents-table" },
          h("thead", {}, h("tr", {}, ["目的", "状態", "利用可否", "理由", "時点", "期限"].map((t) => h("th", { scope: "col" }, t)))),
          h(
            "tbody",
            {},
            s.consents.map((c) =>
              h(
                "tr",
                { "data-purpose": c.purpose.id },
                h("td", {}, c.purpose.title),
                h("td", {}, label(STATUS_LABEL, c.status)),
                h("td", {}, c.permitted ? h("span", { class: "ok-text" }, "可") : h("span", { class: "err-text" }, "不可")),
                h("td", {}, label(REASON_LABEL, c.reason)),
                h("td", {}, formatDateTime(c.since)),
                h("td", {}, formatDate(c.expiresAt)),
              ),
            ),
          ),
        ),
      ),
    ),
    h(
      "section",
      { class: "card", "aria-labelledby": "history-heading" },
      h("h3", { id: "history-heading" }, `根拠となるイベント（${events.length} 件${hasNextPage ? "、古い順に先頭から" : ""}）`),
      tableWrap(
        "イベントの履歴",
        h(
          "table",
          { id: "history-table" },
          h("thead", {}, h("tr", {}, ["位置", "種類", "発生時刻", "記録時刻", "実行者", "内容", "操作"].map((t) => h("th", { scope: "col" }, t)))),
          h(
            "tbody",
            {},
            events.map((e) =>
              h(
                "tr",
                {},
                h("td", { class: "mono" }, e.position),
                h("td", {}, label(EVENT_TYPE_LABEL, e.type)),
                h("td", {}, formatDateTime(e.occurredAt)),
                h("td", {}, formatDateTime(e.recordedAt)),
                h("td", {}, `${e.actor.kind} ${e.actor.id}`),
                h("td", { class: "mono" }, summarize(e.data)),
                h(
                  "td",
                  {},
                  h(
                    "button",
                    {
                      type: "button",
                      class: "link",
                      "aria-label": `位置 ${e.position} の時点の状態を見る`,
                      onclick: () => {
                        timelineAt = toLocalInput(e.occurredAt);
                        timelineKnownAt = toLocalInput(e.recordedAt);
                        void show("timeline");
                      },
                    },
                    "この時点へ",
                  ),
                ),
              ),
            ),
          ),
        ),
      ),
      hasNextPage ? h("div", { class: "actions" }, h("button", { type: "button", onclick: (e: Event) => void more(e.currentTarget as HTMLButtonElement) }, "さらに読み込む")) : null,
    ),
  );
}

/** The few facts of an event's data worth a glance (purpose, policy version, request kind). */
function summarize(data: unknown): string {
  if (typeof data !== "object" || data === null) return "";
  const d = data as Record<string, unknown>;
  return ["purposeId", "policyId", "version", "kind", "requestId", "reason"]
    .filter((k) => typeof d[k] === "string" || typeof d[k] === "number")
    .map((k) => `${k}=${String(d[k])}`)
    .join(" ");
}

async function renderReconsent(slot: HTMLElement): Promise<void> {
  const { policies } = await api.request(PoliciesQuery, {});
  const sections: HTMLElement[] = [];
  for (const p of policies) {
    const { reconsentPending } = await api.request(ReconsentQueueQuery, { policyId: p.id, after: null });
    sections.push(
      h(
        "section",
        { class: "card", "aria-labelledby": `reconsent-${p.id}` },
        h("h3", { id: `reconsent-${p.id}` }, `${p.title}（現行 第${p.currentVersion?.number ?? "—"}版）：再同意待ち ${reconsentPending.length}${reconsentPending.length === 100 ? "+" : ""} 人`),
        p.currentVersion?.changeSummary ? h("p", { class: "meta" }, `変更の概要：${p.currentVersion.changeSummary}`) : null,
        reconsentPending.length === 0
          ? h("p", {}, "再同意を待っている対象者はいません。")
          : h("ul", { class: "requests", id: `reconsent-list-${p.id}` }, reconsentPending.map((id) => h("li", {}, h("button", { type: "button", class: "link mono", onclick: () => openTimeline(id) }, id)))),
      ),
    );
  }
  replace(slot, sections);
}

async function renderIntegrity(slot: HTMLElement): Promise<void> {
  replace(slot, h("p", {}, "台帳全体のハッシュ連鎖を検証しています…"));
  // The checkpoint is asked for on its own: before the first one is published it is an error, which must not hide the chain's result.
  const [{ ledgerIntegrity: i, ledgerHead: head }, checkpoint] = await Promise.all([
    api.request(IntegrityQuery, {}),
    api.request(CheckpointQuery, {}).then(
      (r) => r.ledgerCheckpoint,
      (e: unknown) => (e instanceof ApiError ? e : Promise.reject(e)),
    ),
  ]);
  replace(
    slot,
    h(
      "section",
      { class: "card", "aria-labelledby": "integrity-heading" },
      h("h3", { id: "integrity-heading" }, "ハッシュ連鎖の検証"),
      h("p", { id: "integrity-result" }, i.ok ? h("span", { class: "ok-text" }, "正常：改ざんは見つかりませんでした") : h("span", { class: "err-text" }, `異常：位置 ${i.firstInvalidPosition ?? "?"} で連鎖が一致しません`)),
      h(
        "dl",
        { class: "facts" },
        h("dt", {}, "イベント数"),
        h("dd", { id: "event-count" }, String(i.eventCount)),
        h("dt", {}, "先頭の位置"),
        h("dd", { class: "mono" }, i.headPosition ?? "—"),
        h("dt", {}, "先頭のハッシュ"),
        h("dd", { class: "mono" }, i.headHash ?? "—"),
      ),
    ),
    h(
      "section",
      { class: "card", "aria-labelledby": "head-heading" },
      h("h3", { id: "head-heading" }, "署名付きヘッド"),
      h("dl", { class: "facts" }, h("dt", {}, "位置"), h("dd", { class: "mono" }, head.position), h("dt", {}, "署名時刻"), h("dd", {}, formatDateTime(head.signedAt))),
      h("details", {}, h("summary", {}, "JWS（/.well-known/jwks.json で検証）"), h("pre", { tabindex: 0, "aria-label": "署名付きヘッドの JWS" }, head.jws)),
    ),
    h(
      "section",
      { class: "card", "aria-labelledby": "checkpoint-heading" },
      h("h3", { id: "checkpoint-heading" }, "透明性ログのチェックポイント"),
      checkpointFacts(checkpoint),
    ),
  );
}

/** The latest signed checkpoint of the transparency log, or why there is none to show. */
function checkpointFacts(c: CheckpointData["ledgerCheckpoint"] | ApiError): HTMLElement {
  if (c instanceof ApiError)
    return h(
      "p",
      { id: "checkpoint" },
      c.code === "NOT_YET_LOGGED" ? "最初のチェックポイントはまだ公開されていません。しばらくしてから開き直してください。" : `チェックポイントを取得できませんでした：${c.message}`,
    );
  return h(
    "div",
    { id: "checkpoint" },
    h(
      "dl",
      { class: "facts" },
      h("dt", {}, "ログの名前（origin）"),
      h("dd", { class: "mono" }, c.origin),
      h("dt", {}, "木の大きさ"),
      h("dd", { id: "checkpoint-size" }, `先頭から ${c.treeSize} 件のイベント`),
      h("dt", {}, "ルートハッシュ"),
      h("dd", { class: "mono" }, c.rootHash),
    ),
    h(
      "details",
      {},
      h("summary", {}, "署名付きノート（/.well-known/ledger-checkpoint-key で検証）"),
      h("pre", { tabindex: 0, "aria-label": "チェックポイントの署名付きノート" }, c.note),
    ),
  );
}

function liveCard(): HTMLElement {
  return h(
    "section",
    { class: "card", "aria-labelledby": "live-heading" },
    h("h3", { id: "live-heading" }, "ライブ更新"),
    h("ol", { class: "live", id: "live-events", "aria-live": "polite" }, live.slice(0, 8).map(liveItem)),
    live.length === 0 ? h("p", { class: "meta", id: "live-empty" }, "新しいイベントが記録されると、ここに表示されます。") : null,
  );
}

function liveItem(e: LiveData["ledgerEvents"]): HTMLElement {
  return h("li", {}, `${formatDateTime(e.recordedAt)} ${label(EVENT_TYPE_LABEL, e.type)}`, e.subjectId ? ` ・ ${e.subjectId}` : "", ` （位置 ${e.position}）`);
}

function setLiveState(state: typeof liveState): void {
  liveState = state;
  const el = document.getElementById("live-state");
  if (el) el.textContent = state === "connected" ? "● ライブ接続中" : state === "connecting" ? "○ 接続しています…" : "○ 再接続しています…";
}

function followLive(): void {
  stopLive?.();
  setLiveState("connecting");
  stopLive = api.subscribe(LiveEventsSubscription, () => ({}), {
    connected: () => setLiveState("connected"),
    closed: () => setLiveState("closed"),
    next: ({ ledgerEvents: e }) => {
      live.unshift(e);
      live.length = Math.min(live.length, 50);
      const list = document.getElementById("live-events");
      if (list) {
        list.prepend(liveItem(e));
        while (list.children.length > 8) list.lastElementChild?.remove();
        document.getElementById("live-empty")?.remove();
      }
      // Keep what is on screen current.
      if (view === "requests" && e.type.startsWith("DataRequest")) void refreshQuietly(renderRequests);
      // Reading the timeline is itself recorded (PersonalDataAccessed): that record alone does not reload it, or each read would cause the next.
      if (view === "timeline" && e.subjectId === timelineSubject && e.type !== "PersonalDataAccessed" && !timelineAt && !timelineKnownAt)
        void refreshQuietly(async () => loadTimeline(byId("timeline-result")));
    },
    error: (e) => {
      if (isSignInNeeded(e)) return signOut(errorMessage("UNAUTHENTICATED", ""));
      setLiveState("closed");
    },
  });
}

async function refreshQuietly(render: (slot: HTMLElement) => Promise<void>): Promise<void> {
  const slot = document.getElementById("view");
  if (!slot) return;
  try {
    await render(slot);
  } catch (e) {
    failed(e, slot);
  }
}

const fromFragment = takeTokenFromFragment();
if (fromFragment) session.token = fromFragment;
start();
