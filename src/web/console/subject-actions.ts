// What an officer can do for a subject, from a request or a timeline: download the export, erase.
import { h } from "../common/dom.js";
import type { Action } from "./action-form.js";
import { areaField, textField } from "./action-form.js";
import type { ConsoleApp } from "./app.js";
import { EraseSubjectMutation, SubjectExportQuery } from "./queries.js";

/** Saves a JSON document as a file through the browser's download. */
function saveJson(name: string, value: unknown): void {
  const href = URL.createObjectURL(new Blob([JSON.stringify(value, null, 2)], { type: "application/json" }));
  const a = h("a", { href, download: name, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(href), 60_000);
}

export function subjectActions(app: ConsoleApp, subjectId: string): Action[] {
  const actions: Action[] = [];
  const fileName = `subject-export-${subjectId}.json`;
  actions.push({
    name: "開示データをダウンロード",
    explain: [`${subjectId} の記録の全体（同意の状態、履歴と証跡、請求、第三者提供の記録）を JSON ファイル（${fileName}）として保存します。`, "取得したことは、対象者の履歴に記録されます。"],
    fields: [],
    confirm: "ダウンロードする",
    run: async () => {
      const { subjectExport } = await app.api.request(SubjectExportQuery, { subjectId: subjectId });
      saveJson(fileName, subjectExport);
      return { text: `${subjectId} の開示データを ${fileName} として保存しました。`, keepSelected: true };
    },
  });
  const typed = textField("確認のため対象者IDを入力", { spellcheck: "false" }, "確認のため対象者IDを入力してください。");
  const eraseReason = areaField("消去の理由（任意）");
  actions.push({
    name: "消去",
    explain: [
      `${subjectId} の個人データ（同意の証跡、請求の内容など）を消去します。元に戻せません。`,
      "同意の事実とハッシュ連鎖は検証できる形で残ります。実行するには、確認のため対象者IDをそのまま入力してください。",
    ],
    fields: [typed, eraseReason],
    confirm: "消去する",
    danger: true,
    ready: () => typed.input.value.trim() === subjectId,
    run: async () => {
      await app.api.request(EraseSubjectMutation, { subjectId: subjectId, reason: eraseReason.input.value.trim() || null });
      return { text: `${subjectId} の個人データを消去しました。`, keepSelected: true };
    },
  });

  return actions;
}
