// The preference centre (/preferences): a person reads the policy that applies to them, sets each
// optional purpose, accepts a new version, sees their own record and receipts, opens a data request or leaves.
import "../common/style.css";
import { Api, ApiError, isSignInNeeded } from "../common/api.js";
import { byId, h, replace } from "../common/dom.js";
import { nameBook } from "../common/events.js";
import { SUBJECT_STATUS_LABEL, errorMessage, label } from "../common/format.js";
import { NamesQuery } from "../common/queries.js";
import { Session, isExpired, readClaims, takeTokenFromFragment } from "../common/session.js";
import { signInView } from "../common/sign-in.js";
import type { Me, PageContext, TabReceipt } from "./context.js";
import { historySection, receiptsSection } from "./history-section.js";
import { policySection } from "./policy-section.js";
import { PreferencesQuery } from "./queries.js";
import { dataRequestSection, leaveSection } from "./requests-section.js";

const session = new Session("consent-ledger.preferences.token");
const api = new Api(() => session.token);
const main = byId("main");
const account = byId("account");

/** Receipts of the saves made in this tab, newest first. */
const receipts: TabReceipt[] = [];
/** A message to show at the top after the next render (saved, conflict, …). */
let pending: { kind: "ok" | "error"; text: string } | null = null;

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

function flash(kind: "ok" | "error", text: string): void {
  pending = { kind, text };
  showFlash();
}

/** Handles any failed call: back to sign-in for a refused token, else a visible message. */
function failed(e: unknown): void {
  if (isSignInNeeded(e)) return signOut(errorMessage("UNAUTHENTICATED", ""));
  const err = e instanceof ApiError ? e : new ApiError("ERROR", String(e));
  flash("error", errorMessage(err.code, err.message));
}

function showFlash(): void {
  if (!pending) return;
  // Before the first render there is no message slot: the message takes the page's place.
  const slot = document.getElementById("flash") ?? (replace(main, h("div", { id: "flash" })), byId("flash"));
  // The notice is itself a live region (status, or alert for an error), and focus moves to it, so the
  // person hears what happened and continues from there instead of from the top of the page.
  const notice = h("p", { class: `notice ${pending.kind}`, role: pending.kind === "error" ? "alert" : "status", tabindex: -1, id: "flash-message" }, pending.text);
  replace(slot, notice);
  pending = null;
  notice.focus();
}

async function load(): Promise<void> {
  const token = session.token;
  if (!token) return signOut(null);
  if (isExpired(readClaims(token))) return signOut("トークンの有効期限が切れています。新しいトークンでもう一度サインインしてください。");
  main.setAttribute("aria-busy", "true");
  try {
    const [{ me }, { policies }] = await Promise.all([api.request(PreferencesQuery, {}), api.request(NamesQuery, {})]);
    render({ api, me, names: nameBook(policies), receipts, flash, reload: load, failed });
  } catch (e) {
    failed(e);
  } finally {
    main.removeAttribute("aria-busy");
  }
}

function render(ctx: PageContext): void {
  const me: Me = ctx.me;
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
    ...me.policyStandings.map((s) => policySection(ctx, s, active)),
    receiptsSection(ctx),
    historySection(ctx),
    dataRequestSection(ctx, active),
    active ? leaveSection(ctx) : null,
  );
  showFlash();
}

/** A token handed over in the address (#access_token=…), on load or later on an open page. */
function takeToken(): boolean {
  const token = takeTokenFromFragment();
  if (!token) return false;
  if (token !== session.token) receipts.length = 0;
  session.token = token;
  return true;
}
takeToken();
void load();
window.addEventListener("hashchange", () => {
  if (takeToken()) void load();
});
