// A policy as the person reads it: each purpose with what it collects, who receives it and its state,
// switches for the optional ones, what a new version changes, and the text behind each version.
import { ApiError } from "../common/api.js";
import { h } from "../common/dom.js";
import {
  MODE_LABEL,
  RECIPIENT_KIND_LABEL,
  consentStatusText,
  countryName,
  errorMessage,
  formatDate,
  formatDateTime,
  japaneseText,
  label,
} from "../common/format.js";
import { diffPurposes } from "../common/version-diff.js";
import { type Me, type PageContext, type Purpose, type Standing, type Version, policyTextUrl } from "./context.js";
import { SaveChoicesMutation } from "./queries.js";
import { type PurposeChoice, planSave } from "./save-plan.js";

export function policySection(ctx: PageContext, standing: Standing, active: boolean): HTMLElement {
  const me = ctx.me;
  const accepting = standing.pendingVersion !== null;
  const version = standing.pendingVersion ?? standing.applicableVersion;
  const headingId = `policy-${standing.policy.id}`;
  if (!version) {
    return h("section", { class: "card", "aria-labelledby": headingId }, h("h2", { id: headingId }, standing.policy.title), h("p", {}, "まだ有効な版がありません。"));
  }
  const states = new Map(me.consents.filter((c) => c.policyId === standing.policy.id).map((c) => [c.purpose.id, c]));
  const choices: PurposeChoice[] = [];
  const switches = new Map<string, HTMLInputElement>();
  const list = h("ul", { class: "purposes" });
  for (const p of version.purposes) {
    const state = states.get(p.id);
    const initiallyOn = p.mode === "OPT_OUT" ? state?.status !== "WITHDRAWN" : p.mode === "OPT_IN" ? state?.status === "GRANTED" : true;
    choices.push({ id: p.id, mode: p.mode, initiallyOn, on: initiallyOn });
    list.append(purposeItem(p, state, initiallyOn, active, switches));
  }

  const save = async (button: HTMLButtonElement) => {
    for (const c of choices) c.on = switches.get(c.id)?.checked ?? c.on;
    const plan = planSave(choices, accepting);
    if (!plan) {
      return ctx.flash("ok", "変更はありません。");
    }
    button.disabled = true;
    try {
      const { recordConsent } = await ctx.api.request(SaveChoicesMutation, {
        input: {
          policyId: standing.policy.id,
          policyVersion: version.number,
          acceptPolicy: plan.acceptPolicy,
          grant: plan.grant,
          withdraw: plan.withdraw,
          expectedVersion: me.version,
          idempotencyKey: crypto.randomUUID(),
          evidence: { channel: "preference-centre", formId: "preferences", locale: "ja-JP", userAgent: navigator.userAgent },
        },
      });
      const savedAt = new Date().toISOString();
      const parts = [
        plan.acceptPolicy ? `第${version.number}版に同意` : null,
        plan.grant.length ? `同意 ${plan.grant.length} 件` : null,
        plan.withdraw.length ? `撤回 ${plan.withdraw.length} 件` : null,
      ].filter(Boolean);
      ctx.receipts.unshift({ jws: recordConsent.receipt, savedAt, summary: parts.join("、") });
      await ctx.reload();
      ctx.flash("ok", `保存しました（${parts.join("、")}）。同意の控え（レシート）をダウンロードできます。`);
    } catch (e) {
      if (e instanceof ApiError && e.code === "VERSION_CONFLICT") {
        await ctx.reload();
        return ctx.flash("error", errorMessage("VERSION_CONFLICT", e.message));
      }
      button.disabled = false;
      ctx.failed(e);
    }
  };

  const previous = standing.acceptedVersion ?? null;
  return h(
    "section",
    { class: "card", "aria-labelledby": headingId },
    h("h2", { id: headingId }, standing.policy.title),
    h(
      "p",
      { class: "meta" },
      `第${version.number}版（${formatDate(version.effectiveAt)} 施行）`,
      standing.acceptedVersion ? ` ・ 同意済みの版：第${standing.acceptedVersion.number}版（${formatDateTime(standing.acceptedAt)}）` : " ・ まだ同意していません",
      " ・ ",
      h("a", { href: policyTextUrl(standing.policy.id, version.number) }, `第${version.number}版の全文を読む`),
      version.documentUrl ? [" ・ ", h("a", { href: version.documentUrl }, "会社のウェブサイトで読む")] : null,
    ),
    accepting ? changesNotice(previous, version) : null,
    list,
    active
      ? h(
          "div",
          { class: "actions sticky" },
          accepting ? h("p", { class: "hint" }, `「保存」を押すと、第${version.number}版に同意し、上の選択を記録します。`) : null,
          h("button", { type: "button", class: "primary", onclick: (e: Event) => void save(e.currentTarget as HTMLButtonElement) }, "保存"),
        )
      : null,
  );
}

/** What the version to accept changes: its summary and the purposes added, removed or changed. */
function changesNotice(previous: Version | null, next: Version): HTMLElement {
  const changes = diffPurposes(previous?.purposes ?? null, next.purposes);
  const aspectLabel = { title: "内容", mode: "同意の方式", dataCategories: "取得する情報", recipients: "提供先" } as const;
  return h(
    "div",
    { class: "notice warn", role: "note", "aria-labelledby": "changes-heading" },
    h("h3", { id: "changes-heading" }, previous ? `新しい版（第${next.number}版）への同意をお願いします` : "ご利用の前にプライバシーポリシーへの同意をお願いします"),
    japaneseText(next.changeSummary) ? h("p", {}, previous ? "変更の概要：" : "この版について：", japaneseText(next.changeSummary)) : null,
    previous ? h("p", {}, "これまで同意していた版の全文：", h("a", { href: policyTextUrl(previous.policyId, previous.number) }, `第${previous.number}版`)) : null,
    changes.length > 0
      ? h(
          "ul",
          { class: "changes" },
          changes.map((c) =>
            h(
              "li",
              {},
              h("strong", {}, c.kind === "added" ? "追加：" : c.kind === "removed" ? "削除：" : "変更："),
              c.title,
              c.kind === "changed" ? `（${c.aspects.map((a) => aspectLabel[a]).join("・")}）` : "",
              c.addedRecipients.length ? ` 新しい提供先：${c.addedRecipients.map((r) => `${r.name}（${countryName(r.country)}）`).join("、")}` : "",
              c.kind !== "removed" && c.removedRecipients.length ? ` 削除された提供先：${c.removedRecipients.map((r) => r.name).join("、")}` : "",
            ),
          ),
        )
      : previous
        ? h("p", {}, "利用目的の一覧に変更はありません。")
        : null,
  );
}

/**
 * What a person is told of a recipient before agreeing (APPI Art. 28(2) for a recipient abroad):
 * its purpose, the country's system for protecting personal information, and the recipient's measures.
 */
function recipientFacts(r: Purpose["recipients"][number]): HTMLElement | null {
  const facts = [
    ["提供先での利用目的", r.recipientPurpose],
    ["提供先の国の個人情報保護制度", r.countryProtectionSystem],
    ["提供先が講じている措置", r.measures],
  ].filter((f): f is [string, string] => typeof f[1] === "string" && f[1] !== "");
  return facts.length === 0 ? null : h("dl", { class: "recipient-facts" }, facts.flatMap(([term, text]) => [h("dt", {}, term), h("dd", {}, text)]));
}

function purposeItem(
  p: Purpose,
  state: Me["consents"][number] | undefined,
  on: boolean,
  active: boolean,
  switches: Map<string, HTMLInputElement>,
): HTMLElement {
  const id = `purpose-${p.id}`;
  const countries = [...new Set(p.recipients.map((r) => countryName(r.country)))];
  const details = h(
    "dl",
    { class: "facts" },
    h("dt", {}, "同意の方式"),
    h("dd", {}, label(MODE_LABEL, p.mode)),
    h("dt", {}, "取得する情報"),
    h("dd", {}, p.dataCategoryLabels.join("、") || "—"),
    h("dt", {}, "提供先"),
    h(
      "dd",
      {},
      p.recipients.length === 0
        ? "この版に記載された提供先はありません"
        : h(
            "ul",
            { class: "recipients" },
            p.recipients.map((r) =>
              h(
                "li",
                {},
                r.privacyPolicyUrl ? h("a", { href: r.privacyPolicyUrl }, r.name) : r.name,
                `（${label(RECIPIENT_KIND_LABEL, r.kind)}、${countryName(r.country)}）`,
                recipientFacts(r),
              ),
            ),
          ),
    ),
    h("dt", {}, "提供先の国"),
    h("dd", {}, countries.length ? countries.join("、") : "—"),
    p.consentTtlDays ? [h("dt", {}, "同意の有効期間"), h("dd", {}, `${p.consentTtlDays}日`)] : null,
    state ? [h("dt", {}, "現在の状態"), h("dd", { class: "current-state" }, consentStatusText(p.mode, state.status, state.reason), state.expiresAt ? `（${formatDate(state.expiresAt)} まで）` : "")] : null,
  );
  // The page is Japanese: a description the catalogue gives only in English is left out, not mixed in.
  const description = japaneseText(p.description);
  const body = [description ? h("p", { class: "description" }, description) : null, details];
  if (p.mode === "REQUIRED") {
    return h(
      "li",
      { class: "purpose required" },
      h("div", { class: "purpose-head" }, h("span", { class: "title", id }, p.title), h("span", { class: "badge" }, "必須")),
      body,
    );
  }
  const input = h("input", {
    type: "checkbox",
    role: "switch",
    id: `${id}-switch`,
    checked: on,
    disabled: !active,
    "aria-describedby": `${id}-mode`,
  });
  switches.set(p.id, input);
  return h(
    "li",
    { class: "purpose" },
    h(
      "div",
      { class: "purpose-head" },
      h("label", { for: `${id}-switch`, class: "switch" }, input, h("span", { class: "title" }, p.title)),
      h("span", { class: "badge optional", id: `${id}-mode` }, p.mode === "OPT_IN" ? "任意（オプトイン）" : "任意（オプトアウト）"),
    ),
    body,
  );
}

