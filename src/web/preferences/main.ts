// The preference centre (/preferences): a person reads the policy that applies to them, sets each
// optional purpose, accepts a new version, opens a data request or leaves, and keeps a receipt of each save.
import "../common/style.css";
import { Api, ApiError, isSignInNeeded } from "../common/api.js";
import { byId, h, replace } from "../common/dom.js";
import {
  MODE_LABEL,
  RECIPIENT_KIND_LABEL,
  REQUEST_KIND_LABEL,
  REQUEST_STATUS_LABEL,
  STATUS_LABEL,
  SUBJECT_STATUS_LABEL,
  countryName,
  errorMessage,
  formatDate,
  formatDateTime,
  label,
} from "../common/format.js";
import { Session, isExpired, readClaims, takeTokenFromFragment } from "../common/session.js";
import { signInView } from "../common/sign-in.js";
import { diffPurposes } from "../common/version-diff.js";
import type { DataRequestKind, PreferencesQuery } from "../gql/graphql.js";
import { LeaveServiceMutation, OpenDataRequestMutation, PreferencesQuery as PreferencesDocument, SaveChoicesMutation } from "./queries.js";
import { type PurposeChoice, planSave } from "./save-plan.js";

type Me = PreferencesQuery["me"];
type Standing = Me["policyStandings"][number];
type Version = NonNullable<Standing["applicableVersion"]>;
type Purpose = Version["purposes"][number];

const session = new Session("consent-ledger.preferences.token");
const api = new Api(() => session.token);
const main = byId("main");
const account = byId("account");

/** Receipts of the saves made in this tab, newest first. */
const receipts: { jws: string; savedAt: string; summary: string }[] = [];
/** A message to show at the top after the next render (saved, conflict, …). */
let flash: { kind: "ok" | "error"; text: string } | null = null;

function signOut(message: string | null): void {
  session.token = null;
  api.close();
  receipts.length = 0;
  replace(account);
  replace(
    main,
    signInView({
      heading: "サインイン",
      explanation: "ご利用のサービスから受け取ったアクセストークンを貼り付けてください。トークンはこのタブの中だけに保存されます。",
      message,
      onToken: (token) => {
        session.token = token;
        void load();
      },
    }),
  );
  document.title = "サインイン - プライバシー設定";
}

/** Handles any failed call: back to sign-in for a refused token, else a visible message. */
function failed(e: unknown): void {
  if (isSignInNeeded(e)) return signOut(errorMessage("UNAUTHENTICATED", ""));
  const err = e instanceof ApiError ? e : new ApiError("ERROR", String(e));
  flash = { kind: "error", text: errorMessage(err.code, err.message) };
  showFlash();
}

function showFlash(): void {
  const slot = document.getElementById("flash");
  if (!slot || !flash) return;
  // The notice is itself a live region (status, or alert for an error): screen readers read it out.
  replace(slot, h("p", { class: `notice ${flash.kind}`, role: flash.kind === "error" ? "alert" : "status" }, flash.text));
  flash = null;
}

async function load(): Promise<void> {
  const token = session.token;
  if (!token) return signOut(null);
  if (isExpired(readClaims(token))) return signOut("トークンの有効期限が切れています。新しいトークンでもう一度サインインしてください。");
  main.setAttribute("aria-busy", "true");
  try {
    const { me } = await api.request(PreferencesDocument, {});
    render(me);
  } catch (e) {
    failed(e);
  } finally {
    main.removeAttribute("aria-busy");
  }
}

function render(me: Me): void {
  document.title = "プライバシー設定";
  replace(
    account,
    h("span", {}, "利用者ID: ", h("strong", {}, me.id)),
    h("button", { type: "button", class: "link", onclick: () => signOut(null) }, "サインアウト"),
  );
  const active = me.status === "ACTIVE" || me.status === "SUSPENDED";
  replace(
    main,
    h("div", { id: "flash" }),
    me.status !== "ACTIVE"
      ? h("p", { class: "notice" }, `現在の状態：${label(SUBJECT_STATUS_LABEL, me.status)}。`, me.status === "LEFT" ? "任意の目的での利用はすべて停止しています。" : "")
      : null,
    ...me.policyStandings.map((s) => policySection(me, s, active)),
    receiptsSection(),
    dataRequestSection(me, active),
    active ? leaveSection() : null,
  );
  showFlash();
}

function policySection(me: Me, standing: Standing, active: boolean): HTMLElement {
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
      flash = { kind: "ok", text: "変更はありません。" };
      return showFlash();
    }
    button.disabled = true;
    try {
      const { recordConsent } = await api.request(SaveChoicesMutation, {
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
      receipts.unshift({ jws: recordConsent.receipt, savedAt, summary: parts.join("、") });
      flash = { kind: "ok", text: `保存しました（${parts.join("、")}）。同意の控え（レシート）をダウンロードできます。` };
      await load();
    } catch (e) {
      if (e instanceof ApiError && e.code === "VERSION_CONFLICT") {
        flash = { kind: "error", text: errorMessage("VERSION_CONFLICT", e.message) };
        return void (await load());
      }
      button.disabled = false;
      failed(e);
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
      version.documentUrl ? [" ・ ", h("a", { href: version.documentUrl }, "全文を読む")] : null,
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
    next.changeSummary ? h("p", {}, "変更の概要：", next.changeSummary) : null,
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
        ? "第三者への提供・外部送信はありません"
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
    state ? [h("dt", {}, "現在の状態"), h("dd", {}, label(STATUS_LABEL, state.status), state.expiresAt ? `（${formatDate(state.expiresAt)} まで）` : "")] : null,
  );
  const body = [p.description ? h("p", { class: "description" }, p.description) : null, details];
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

function receiptsSection(): HTMLElement | null {
  if (receipts.length === 0) return null;
  return h(
    "section",
    { class: "card", "aria-labelledby": "receipts-heading" },
    h("h2", { id: "receipts-heading" }, "同意の控え（レシート）"),
    h("p", {}, "保存するたびに、署名付きの控えが発行されます。ダウンロードして保管できます（JWS 形式。/.well-known/jwks.json の鍵で検証できます）。"),
    h(
      "ul",
      { class: "receipts" },
      receipts.map((r, i) => {
        const payload = readClaims(r.jws) as Record<string, unknown> | null;
        const receiptId = typeof payload?.["consentReceiptID"] === "string" ? payload["consentReceiptID"] : `receipt-${i + 1}`;
        const href = URL.createObjectURL(new Blob([r.jws], { type: "application/jose" }));
        return h(
          "li",
          {},
          h("span", {}, `${formatDateTime(r.savedAt)}：${r.summary}`),
          h("a", { href, download: `consent-receipt-${receiptId}.jws`, class: "button" }, "控えをダウンロード"),
          h(
            "details",
            {},
            h("summary", {}, "控えの内容"),
            h("pre", { tabindex: 0, "aria-label": "控えの内容" }, JSON.stringify(payload, null, 2)),
          ),
        );
      }),
    ),
  );
}

function dataRequestSection(me: Me, active: boolean): HTMLElement {
  const kind = h(
    "select",
    { id: "request-kind", name: "kind" },
    Object.entries(REQUEST_KIND_LABEL).map(([value, text]) => h("option", { value }, text)),
  );
  const note = h("textarea", { id: "request-note", name: "note", rows: 3, maxlength: 2000 });
  const form = h(
    "form",
    {
      "aria-labelledby": "requests-heading",
      onsubmit: async (e: Event) => {
        e.preventDefault();
        const submit = form.querySelector("button")!;
        submit.disabled = true;
        try {
          const { openDataRequest } = await api.request(OpenDataRequestMutation, {
            input: { kind: kind.value as DataRequestKind, note: note.value.trim() || null },
          });
          flash = { kind: "ok", text: `請求（${label(REQUEST_KIND_LABEL, openDataRequest.kind)}）を受け付けました。回答期限は ${formatDate(openDataRequest.dueAt)} です。` };
          await load();
        } catch (err) {
          submit.disabled = false;
          failed(err);
        }
      },
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

function leaveSection(): HTMLElement {
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
            await api.request(LeaveServiceMutation, {});
            flash = { kind: "ok", text: "退会の手続きが完了しました。" };
            await load();
          } catch (err) {
            failed(err);
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

const fromFragment = takeTokenFromFragment();
if (fromFragment) session.token = fromFragment;
void load();
