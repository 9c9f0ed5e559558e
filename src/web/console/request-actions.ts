// What an officer (subject:admin) can do to a selected data request: verify identity, extend, close as
// fulfilled or rejected, download the subject's export, erase the subject. Each action first says what
// it will do, then calls the public API when confirmed.
import { ApiError, isSignInNeeded } from "../common/api.js";
import { h, replace } from "../common/dom.js";
import { REQUEST_KIND_LABEL, REQUEST_STATUS_LABEL, errorMessage, formatDate, formatDateTime, label } from "../common/format.js";
import type { QueueItemFragment } from "../gql/graphql.js";
import type { ConsoleApp } from "./app.js";
import { CloseRequestMutation, EraseSubjectMutation, ExtendRequestMutation, SubjectExportQuery, VerifyIdentityMutation } from "./queries.js";

export type QueueRequest = QueueItemFragment;

export interface PanelHooks {
  /** The action succeeded: `text` says what it did; the request stays selected when it is still open. */
  done(text: string, keepSelected: boolean): void;
  openTimeline(subjectId: string): void;
}

interface Field {
  label: string;
  input: HTMLInputElement | HTMLTextAreaElement;
  required?: string;
}

interface Action {
  name: string;
  /** The sentences shown before anything happens. */
  explain: string[];
  fields: Field[];
  confirm: string;
  danger?: boolean;
  /** Whether the confirm button may be pressed (e.g. the subject id typed matches). */
  ready?: () => boolean;
  run: () => Promise<{ text: string; keepSelected: boolean }>;
}

let fieldSeq = 0;
const textField = (labelText: string, attrs: Record<string, string | number | boolean> = {}, required?: string): Field => ({
  label: labelText,
  input: h("input", { type: "text", id: `action-field-${++fieldSeq}`, autocomplete: "off", ...attrs }),
  ...(required ? { required } : {}),
});
const areaField = (labelText: string, required?: string): Field => ({
  label: labelText,
  input: h("textarea", { id: `action-field-${++fieldSeq}`, rows: 3, maxlength: 1000 }),
  ...(required ? { required } : {}),
});

/** Saves a JSON document as a file through the browser's download. */
function saveJson(name: string, value: unknown): void {
  const href = URL.createObjectURL(new Blob([JSON.stringify(value, null, 2)], { type: "application/json" }));
  const a = h("a", { href, download: name, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(href), 60_000);
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
  const formSlot = h("div", { id: "action-form" });

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
  const fileName = `subject-export-${r.subjectId}.json`;
  actions.push({
    name: "開示データをダウンロード",
    explain: [`${r.subjectId} の記録の全体（同意の状態、履歴と証跡、請求、第三者提供の記録）を JSON ファイル（${fileName}）として保存します。`, "取得したことは、対象者の履歴に記録されます。"],
    fields: [],
    confirm: "ダウンロードする",
    run: async () => {
      const { subjectExport } = await app.api.request(SubjectExportQuery, { subjectId: r.subjectId });
      saveJson(fileName, subjectExport);
      return { text: `${r.subjectId} の開示データを ${fileName} として保存しました。`, keepSelected: true };
    },
  });
  const typed = textField("確認のため対象者IDを入力", { spellcheck: "false" }, "確認のため対象者IDを入力してください。");
  const eraseReason = areaField("消去の理由（任意）");
  actions.push({
    name: "消去",
    explain: [
      `${r.subjectId} の個人データ（同意の証跡、請求の内容など）を消去します。元に戻せません。`,
      "同意の事実とハッシュ連鎖は検証できる形で残ります。実行するには、確認のため対象者IDをそのまま入力してください。",
    ],
    fields: [typed, eraseReason],
    confirm: "消去する",
    danger: true,
    ready: () => typed.input.value.trim() === r.subjectId,
    run: async () => {
      await app.api.request(EraseSubjectMutation, { subjectId: r.subjectId, reason: eraseReason.input.value.trim() || null });
      return { text: `${r.subjectId} の個人データを消去しました。`, keepSelected: true };
    },
  });

  const buttons = actions.map((a) =>
    h("button", { type: "button", class: a.danger ? "danger" : false, "aria-controls": "action-form", onclick: () => open(a) }, a.name),
  );

  function open(a: Action): void {
    const error = h("div", { class: "action-error" });
    const confirm = h("button", { type: "submit", class: a.danger ? "danger" : "primary" }, a.confirm);
    const refreshReady = () => {
      if (a.ready) confirm.disabled = !a.ready();
    };
    refreshReady();
    const form = h(
      "form",
      {
        class: "action",
        "aria-labelledby": "action-heading",
        novalidate: true,
        oninput: refreshReady,
        onsubmit: async (e: Event) => {
          e.preventDefault();
          replace(error);
          const missing = a.fields.find((f) => f.required && f.input.value.trim() === "");
          if (missing) {
            missing.input.setAttribute("aria-invalid", "true");
            replace(error, h("p", { class: "notice error", role: "alert" }, missing.required!));
            return missing.input.focus();
          }
          if (a.ready && !a.ready()) return;
          confirm.disabled = true;
          try {
            const { text, keepSelected } = await a.run();
            hooks.done(text, keepSelected);
          } catch (err) {
            confirm.disabled = false;
            if (isSignInNeeded(err)) return app.failed(err, formSlot);
            const ae = err instanceof ApiError ? err : new ApiError("ERROR", String(err));
            replace(error, h("p", { class: "notice error", role: "alert" }, ae.code === "BAD_USER_INPUT" ? `入力を確認してください：${ae.message}` : errorMessage(ae.code, ae.message)));
          }
        },
      },
      h("h4", { id: "action-heading", tabindex: -1 }, `${a.name}：実行する前に確認してください`),
      a.explain.filter(Boolean).map((t) => h("p", {}, t)),
      a.fields.flatMap((f) => {
        // The label is the field's name alone; "required" is said by the attribute and a visible hint.
        if (f.required) {
          f.input.required = true;
          f.input.setAttribute("aria-describedby", `${f.input.id}-hint`);
        }
        return [h("label", { for: f.input.id }, f.label), f.required ? h("p", { class: "hint", id: `${f.input.id}-hint` }, "必須") : null, f.input];
      }),
      error,
      h(
        "div",
        { class: "actions" },
        confirm,
        h(
          "button",
          {
            type: "button",
            onclick: () => {
              replace(formSlot);
              buttons[actions.indexOf(a)]?.focus();
            },
          },
          "キャンセル",
        ),
      ),
    );
    replace(formSlot, form);
    (a.fields[0]?.input ?? form.querySelector<HTMLElement>("#action-heading"))?.focus();
  }

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
          h("div", { class: "actions", role: "group", "aria-label": "この請求への操作" }, buttons),
          r.status === "OPEN" ? h("p", { class: "meta" }, "対応完了は、本人確認を記録した後で選べます。") : null,
          formSlot,
        ]
      : h("p", { class: "notice" }, "請求を処理するには subject:admin の権限が必要です。"),
  );
}
