// The console's frame: the session, sign-in, the navigation between views, and what every view shares
// (the API, the officer's scopes, the catalogue's names, status messages). Views plug in by `register`.
import { Api, ApiError, isSignInNeeded } from "../common/api.js";
import { byId, h, replace } from "../common/dom.js";
import { EMPTY_NAMES, type NameBook, nameBook } from "../common/events.js";
import { errorMessage } from "../common/format.js";
import { NamesQuery } from "../common/queries.js";
import { Session, type TokenClaims, isExpired, readClaims } from "../common/session.js";
import { signInView } from "../common/sign-in.js";
import type { LiveEventsSubscription as LiveData } from "../gql/graphql.js";

export type LiveEvent = LiveData["ledgerEvents"];

/** One screen of the console, reached from the navigation. */
export interface ConsoleView {
  id: string;
  title: string;
  /** Fills the view's slot; errors thrown here are shown in the slot. */
  render(slot: HTMLElement): Promise<void>;
  /** An event arrived live while this view is on screen. */
  onLiveEvent?(e: LiveEvent): void;
}

/** The scopes that let a token use the console at all. */
export const OFFICER_SCOPES = ["ledger:read", "consent:read", "subject:admin"] as const;

export function scopesOf(claims: TokenClaims | null): Set<string> {
  const out = new Set<string>();
  const add = (v: unknown) => {
    if (typeof v === "string") for (const s of v.split(" ")) if (s) out.add(s);
  };
  add(claims?.scope);
  if (Array.isArray(claims?.scp)) claims.scp.forEach(add);
  return out;
}

export class ConsoleApp {
  readonly session = new Session("consent-ledger.console.token");
  readonly api = new Api(() => this.session.token);
  readonly views: ConsoleView[] = [];
  scopes = new Set<string>();
  names: NameBook = EMPTY_NAMES;
  private current = "";
  private readonly main = byId("main");
  private readonly nav = byId("nav");
  private readonly account = byId("account");
  private readonly announcer = byId("status");
  private readonly onStart: (() => void)[] = [];
  private readonly onStop: (() => void)[] = [];

  register(view: ConsoleView): void {
    this.views.push(view);
    this.current ||= view.id;
  }

  /** Called after each sign-in (start) and sign-out (stop): the live feed hooks in here. */
  lifecycle(start: () => void, stop: () => void): void {
    this.onStart.push(start);
    this.onStop.push(stop);
  }

  can(scope: string): boolean {
    return this.scopes.has(scope);
  }

  get view(): ConsoleView | undefined {
    return this.views.find((v) => v.id === this.current);
  }

  /** Reads a message out to screen readers (the page's polite status region). */
  announce(text: string): void {
    this.announcer.textContent = "";
    setTimeout(() => (this.announcer.textContent = text), 50);
  }

  signOut(message: string | null): void {
    this.session.token = null;
    for (const stop of this.onStop) stop();
    this.api.close();
    replace(this.account);
    replace(this.nav);
    replace(
      this.main,
      signInView({
        heading: "担当者のサインイン",
        explanation: "ledger:read と consent:read（請求の処理には subject:admin も）を持つアクセストークンを貼り付けてください。トークンはこのタブの中だけに保存されます。",
        message,
        onToken: (token) => {
          this.session.token = token;
          this.start();
        },
      }),
    );
    document.title = "サインイン - 同意台帳 管理コンソール";
  }

  /** Shows a failed call in `slot`, or goes back to sign-in when the token was refused. */
  failed(e: unknown, slot: HTMLElement): void {
    if (isSignInNeeded(e)) return this.signOut(errorMessage("UNAUTHENTICATED", ""));
    const err = e instanceof ApiError ? e : new ApiError("ERROR", String(e));
    replace(slot, h("p", { class: "notice error", role: "alert" }, errorMessage(err.code, err.message)));
  }

  start(): void {
    for (const stop of this.onStop) stop();
    const token = this.session.token;
    if (!token) return this.signOut(null);
    const claims = readClaims(token);
    if (isExpired(claims)) return this.signOut("トークンの有効期限が切れています。新しいトークンでもう一度サインインしてください。");
    this.scopes = scopesOf(claims);
    replace(
      this.account,
      h("span", {}, "担当者: ", h("strong", {}, claims?.sub ?? "—")),
      h("span", { id: "live-state", class: "live-state" }),
      h("button", { type: "button", class: "link", onclick: () => this.signOut(null) }, "サインアウト"),
    );
    if (!OFFICER_SCOPES.some((s) => this.can(s))) return this.forbidden();
    this.renderNav();
    for (const start of this.onStart) start();
    void this.loadNames().then(() => this.show(this.current));
  }

  /** A token without any officer scope (e.g. a person's own consent:self): say so, and nothing else. */
  private forbidden(): void {
    replace(this.nav);
    replace(
      this.main,
      h(
        "section",
        { class: "card", "aria-labelledby": "forbidden-heading" },
        h("h2", { id: "forbidden-heading" }, "権限がありません"),
        h("p", { role: "alert", class: "notice error" }, "このトークンでは管理コンソールを利用できません。ledger:read、consent:read または subject:admin を持つ担当者のトークンでサインインしてください。"),
        h("div", { class: "actions" }, h("button", { type: "button", onclick: () => this.signOut(null) }, "別のトークンでサインイン")),
      ),
    );
    document.title = "権限がありません - 同意台帳 管理コンソール";
  }

  private async loadNames(): Promise<void> {
    try {
      const { policies } = await this.api.request(NamesQuery, {});
      this.names = nameBook(policies);
    } catch {
      // Without names the pages show ids; the view itself reports the failure.
    }
  }

  private renderNav(): void {
    replace(
      this.nav,
      this.views.map((v) => h("button", { type: "button", "aria-current": v.id === this.current ? "page" : false, onclick: () => void this.show(v.id) }, v.title)),
    );
  }

  async show(id: string): Promise<void> {
    const view = this.views.find((v) => v.id === id) ?? this.views[0]!;
    this.current = view.id;
    this.renderNav();
    document.title = `${view.title} - 同意台帳 管理コンソール`;
    replace(this.main, h("h2", { class: "visually-hidden" }, view.title), h("div", { id: "view" }, h("p", {}, "読み込み中…")), h("div", { id: "live-slot" }));
    for (const start of this.afterShow) start();
    const slot = byId("view");
    try {
      await view.render(slot);
    } catch (e) {
      this.failed(e, slot);
    }
  }

  /** Run after each view is laid out (the live card puts itself under it). */
  readonly afterShow: (() => void)[] = [];

  /** Renders the current view again in place, e.g. after a live event; a failure shows in the view. */
  async refresh(render: (slot: HTMLElement) => Promise<void>): Promise<void> {
    const slot = document.getElementById("view");
    if (!slot) return;
    try {
      await render(slot);
    } catch (e) {
      this.failed(e, slot);
    }
  }
}
