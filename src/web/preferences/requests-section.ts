// The person's data requests (open one, follow its state) and leaving the service.
import { h, inPageForm, replace } from "../common/dom.js";
import { REQUEST_KIND_LABEL, REQUEST_STATUS_LABEL, formatDate, label } from "../common/format.js";
import type { DataRequestKind } from "../gql/graphql.js";
import type { PageContext } from "./context.js";
import { LeaveServiceMutation, OpenDataRequestMutation } from "./queries.js";

export function dataRequestSection(ctx: PageContext, active: boolean): HTMLElement {
  const me = ctx.me;
  const kind = h(
    "select",
    { id: "request-kind", name: "kind" },
    Object.entries(REQUEST_KIND_LABEL).map(([value, text]) => h("option", { value }, text)),
  );
  const note = h("textarea", { id: "request-note", name: "note", rows: 3, maxlength: 2000 });
  const form = inPageForm(
    { "aria-labelledby": "requests-heading" },
    async () => {
      const submit = form.querySelector("button")!;
      submit.disabled = true;
      try {
        const { openDataRequest } = await ctx.api.request(OpenDataRequestMutation, {
          input: { kind: kind.value as DataRequestKind, note: note.value.trim() || null },
        });
        await ctx.reload();
        ctx.flash("ok", `請求（${label(REQUEST_KIND_LABEL, openDataRequest.kind)}）を受け付けました。回答期限は ${formatDate(openDataRequest.dueAt)} です。`);
      } catch (err) {
        submit.disabled = false;
        ctx.failed(err);
      }
    },
    h("label", { for: "request-kind" }, "請求の種類"),
    kind,
    h("label", { for: "request-note" }, "内容（任意）"),
    note,
    h("div", { class: "actions" }, h("button", { type: "submit" }, "請求を送信")),
  );
  return h(
    "section",
    { class: "card", "aria-labelledby": "requests-heading" },
    h("h2", { id: "requests-heading" }, "開示・訂正・利用停止などの請求"),
    me.dataRequests.length
      ? h(
          "ul",
          { class: "requests" },
          me.dataRequests.map((r) =>
            h(
              "li",
              {},
              h("strong", {}, label(REQUEST_KIND_LABEL, r.kind)),
              `：${label(REQUEST_STATUS_LABEL, r.status)}（受付 ${formatDate(r.openedAt)}、回答期限 ${formatDate(r.dueAt)}${r.closedAt ? `、完了 ${formatDate(r.closedAt)}` : ""}）`,
            ),
          ),
        )
      : h("p", {}, "これまでの請求はありません。"),
    active ? form : null,
  );
}

export function leaveSection(ctx: PageContext): HTMLElement {
  const confirmBox = h("div", { class: "confirm", hidden: true });
  const start = h(
    "button",
    {
      type: "button",
      class: "danger",
      onclick: () => {
        confirmBox.hidden = false;
        start.hidden = true;
        confirmBox.querySelector("button")?.focus();
      },
    },
    "退会する",
  );
  replace(
    confirmBox,
    h("p", { role: "alert" }, "本当に退会しますか？退会すると、任意の目的での利用はすべて停止し、元に戻すには新たにポリシーへ同意する必要があります。"),
    h(
      "button",
      {
        type: "button",
        class: "danger",
        onclick: async (e: Event) => {
          (e.currentTarget as HTMLButtonElement).disabled = true;
          try {
            await ctx.api.request(LeaveServiceMutation, {});
            await ctx.reload();
            ctx.flash("ok", "退会の手続きが完了しました。");
          } catch (err) {
            ctx.failed(err);
          }
        },
      },
      "退会を確定する",
    ),
    h(
      "button",
      {
        type: "button",
        onclick: () => {
          confirmBox.hidden = true;
          start.hidden = false;
          start.focus();
        },
      },
      "キャンセル",
    ),
  );
  return h(
    "section",
    { class: "card", "aria-labelledby": "leave-heading" },
    h("h2", { id: "leave-heading" }, "サービスの利用をやめる"),
    h("p", {}, "必須の目的への同意は個別に撤回できません。利用をやめる場合は退会してください。"),
    start,
    confirmBox,
  );
}
