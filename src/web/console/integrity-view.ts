// The whole hash chain verified, the signed head, and the transparency log's latest checkpoint.
import { ApiError } from "../common/api.js";
import { h, replace } from "../common/dom.js";
import { formatDateTime } from "../common/format.js";
import type { CheckpointQuery as CheckpointData } from "../gql/graphql.js";
import type { ConsoleApp, ConsoleView } from "./app.js";
import { CheckpointQuery, IntegrityQuery } from "./queries.js";

export function integrityView(app: ConsoleApp): ConsoleView {
  return { id: "integrity", title: "台帳の完全性", render: (slot) => renderIntegrity(app, slot) };
}

async function renderIntegrity(app: ConsoleApp, slot: HTMLElement): Promise<void> {
  replace(slot, h("p", {}, "台帳全体のハッシュ連鎖を検証しています…"));
  // The checkpoint is asked for on its own: before the first one is published it is an error, which must not hide the chain's result.
  const [{ ledgerIntegrity: i, ledgerHead: head }, checkpoint] = await Promise.all([
    app.api.request(IntegrityQuery, {}),
    app.api.request(CheckpointQuery, {}).then(
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
        h("dd", {}, h("span", { class: "position" }, i.headPosition ?? "—")),
        h("dt", {}, "先頭のハッシュ"),
        h("dd", { class: "mono" }, i.headHash ?? "—"),
      ),
    ),
    h(
      "section",
      { class: "card", "aria-labelledby": "head-heading" },
      h("h3", { id: "head-heading" }, "署名付きヘッド"),
      h("dl", { class: "facts" }, h("dt", {}, "位置"), h("dd", {}, h("span", { class: "position" }, head.position)), h("dt", {}, "署名時刻"), h("dd", {}, formatDateTime(head.signedAt))),
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
