// What an officer (subject:admin) can do to a selected data request: verify identity, extend, close as
// fulfilled or rejected, download the subject's export, erase the subject. Each action first says what
// it will do, then calls the public API when confirmed.
import { ApiError } from "../common/api.js";
import { h } from "../common/dom.js";
import { REQUEST_KIND_LABEL, REQUEST_STATUS_LABEL, formatDate, formatDateTime, label } from "../common/format.js";
import type { QueueItemFragment } from "../gql/graphql.js";
import type { ConsoleApp } from "./app.js";
import { type Action, actionBar, areaField, textField } from "./action-form.js";
import { CloseRequestMutation, ExtendRequestMutation, VerifyIdentityMutation } from "./queries.js";
import { subjectActions } from "./subject-actions.js";

export type QueueRequest = QueueItemFragment;

export interface PanelHooks {
  /** The action succeeded: `text` says what it did; the request stays selected when it is still open. */
  done(text: string, keepSelected: boolean): void;
  openTimeline(subjectId: string): void;
}

const fulfilExplain: Record<string, string> = {
  DISCLOSURE: "開示データを本人に渡したことを確かめてから実行してください。",
  CORRECTION: "訂正・追加・削除を行ったことを確かめてから実行してください。",
  DELETION: "同時に、対象者の個人データ（同意の証跡など）を消去します。元に戻せません。",
  SUSPENSION: "同時に、請求された目的での利用を停止します（目的の指定がなければすべての目的）。",
};

export function actionsPanel(app: ConsoleApp, r: QueueRequest, hooks: PanelHooks): HTMLElement {
  const kind = label(REQUEST_KIND_LABEL, r.kind);
  const what = `${r.subjectId} の${kind}の請求`;

  const actions: Action[] = [];
  if (r.status === "OPEN") {
    const method = textField("確認方法", { maxlength: 256, placeholder: "例：運転免許証の写しを確認" }, "確認方法を入力してください。");
    actions.push({
      name: "本人確認",
      explain: [`${what}について、請求者が本人であることを確かめた方法を記録します。`, "記録すると状態が「本人確認済み」になり、対応完了にできるようになります。確認方法は本人の個人データとして暗号化して保存されます。"],
      fields: [method],
      confirm: "本人確認を記録する",
      run: async () => {
        await app.api.request(VerifyIdentityMutation, { id: r.id, method: method.input.value.trim() });
        return { text: `${what}の本人確認を記録しました。`, keepSelected: true };
      },
    });
  }
  const days = textField("延長する日数", { inputmode: "numeric", pattern: "[0-9]*", value: "14" }, "延長する日数を入力してください。");
  const extendReason = areaField("延長の理由", "延長の理由を入力してください。");
  actions.push({
    name: "延長",
    explain: [`${what}の回答期限（現在 ${formatDate(r.dueAt)}）を、入力した日数だけ延長し、理由を記録します。`, "延長したことと理由は、本人にも伝えてください。延長の合計には上限があります。"],
    fields: [days, extendReason],
    confirm: "回答期限を延長する",
    run: async () => {
      const n = Number(days.input.value.trim());
      if (!Number.isInteger(n) || n < 1) throw new ApiError("BAD_USER_INPUT", "延長する日数は 1 以上の整数で入力してください。");
      const { extendDataRequest } = await app.api.request(ExtendRequestMutation, { id: r.id, days: n, reason: extendReason.input.value.trim() });
      return { text: `${what}の回答期限を ${n} 日延長しました（新しい期限 ${formatDate(extendDataRequest.dueAt)}）。`, keepSelected: true };
    },
  });
  if (r.status === "IDENTITY_VERIFIED") {
    const note = areaField("対応の内容（任意）");
    actions.push({
      name: "対応完了",
      explain: [`${what}を対応完了として閉じます。`, fulfilExplain[r.kind] ?? ""],
      fields: [note],
      confirm: "対応完了として閉じる",
      danger: r.kind === "DELETION",
      run: async () => {
        await app.api.request(CloseRequestMutation, { id: r.id, fulfilled: true, note: note.input.value.trim() || null });
        return { text: `${what}を対応完了として閉じました。`, keepSelected: false };
      },
    });
  }
  const reason = areaField("理由", "却下する理由を入力してください。理由は本人に伝えられます。");
  actions.push({
    name: "却下",
    explain: [`${what}を却下として閉じます（請求には応じません）。`, "理由は必須です。本人に伝える内容として記録されます。"],
    fields: [reason],
    confirm: "却下として閉じる",
    danger: true,
    run: async () => {
      await app.api.request(CloseRequestMutation, { id: r.id, fulfilled: false, note: reason.input.value.trim() });
      return { text: `${what}を却下しました。`, keepSelected: false };
    },
  });
  actions.push(...subjectActions(app, r.subjectId));

  return h(
    "section",
    { class: "card", id: "request-panel", "aria-labelledby": "panel-heading" },
    h("h3", { id: "panel-heading", tabindex: -1 }, `選択中の請求：${what}`),
    h(
      "dl",
      { class: "facts" },
      h("dt", {}, "状態"),
      h("dd", { id: "panel-status" }, label(REQUEST_STATUS_LABEL, r.status), r.identityCheck ? `（確認方法：${r.identityCheck}）` : ""),
      h("dt", {}, "受付"),
      h("dd", {}, formatDateTime(r.openedAt)),
      h("dt", {}, "回答期限"),
      h("dd", { id: "panel-due" }, formatDateTime(r.dueAt), r.overdue ? h("span", { class: "tag-overdue" }, "（期限超過）") : null),
      r.note ? [h("dt", {}, "請求の内容"), h("dd", {}, r.note)] : null,
    ),
    h("div", { class: "actions" }, h("button", { type: "button", class: "link", onclick: () => hooks.openTimeline(r.subjectId) }, "対象者のタイムラインを見る")),
    app.can("subject:admin")
      ? [
          r.status === "OPEN" ? h("p", { class: "meta" }, "対応完了は、本人確認を記録した後で選べます。") : null,
          ...actionBar(app, "この請求への操作", actions, hooks.done),
        ]
      : h("p", { class: "notice" }, "請求を処理するには subject:admin の権限が必要です。"),
  );
}
