// Who still has to accept each policy's latest version that requires consent.
import { h, replace } from "../common/dom.js";
import type { ConsoleApp, ConsoleView } from "./app.js";
import { PoliciesQuery, ReconsentQueueQuery } from "./queries.js";

export function reconsentView(app: ConsoleApp, openTimeline: (subjectId: string) => void): ConsoleView {
  return {
    id: "reconsent",
    title: "再同意待ち",
    async render(slot) {
      const { policies } = await app.api.request(PoliciesQuery, {});
      const sections: HTMLElement[] = [];
      for (const p of policies) {
        const { reconsentPending } = await app.api.request(ReconsentQueueQuery, { policyId: p.id, after: null });
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
    },
  };
}
