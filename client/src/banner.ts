// <consent-banner> and <consent-opt-out>: custom elements, no framework, backed by the consent ledger.
// The banner opens a visitor session, shows the policy's OPT_IN and OPT_OUT purposes once per version,
// records that it was shown and what was chosen, signals Google Consent Mode v2 and honours GPC.
import { type ConsentModeType, type ConsentState, ConsentClient, type EvidenceInput, type PurposeState, type VisitorSession, consentModeState, openVisitorSession } from "./core.js";

type Lang = "ja" | "en";
const TEXT = {
  ja: {
    title: "クッキーと外部送信の設定",
    intro: "当サイトは、サービスの改善と利用状況の分析のため、次の目的で情報を利用し、一部を外部の事業者に送信します。目的ごとの選択は「設定」からできます。",
    OPT_IN: "同意いただいた場合のみ利用します",
    OPT_OUT: "停止を求められるまで利用します",
    all: "すべて同意",
    necessary: "必要なもののみ",
    settings: "設定",
    save: "選択を保存",
    notice: "外部送信についての公表事項",
    data: "利用する情報",
    gpc: "ブラウザのグローバル・プライバシー・コントロール（GPC）の設定に従い、次の利用を停止しました：",
    failed: "選択を記録できませんでした。時間をおいてもう一度お試しください。",
    saved: "選択を記録しました。",
    stop: "送信を停止する",
    stopped: "この端末からの送信は停止しています。",
    sending: "この端末からの送信は停止されていません。",
  },
  en: {
    title: "Cookies and data sent to others",
    intro: "We use information for the purposes below to improve the service and understand how it is used, and send some of it to other companies. Choose per purpose under Settings.",
    OPT_IN: "Used only with your consent",
    OPT_OUT: "Used until you object",
    all: "Accept all",
    necessary: "Necessary only",
    settings: "Settings",
    save: "Save my choices",
    notice: "What we send to other companies",
    data: "Information used",
    gpc: "Following your browser's Global Privacy Control (GPC) signal, we stopped:",
    failed: "Your choice could not be recorded. Please try again later.",
    saved: "Your choice has been recorded.",
    stop: "Stop sending",
    stopped: "Sending from this device is stopped.",
    sending: "Sending from this device is not stopped.",
  },
} as const;

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const store = (() => {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
})();
const read = <T,>(key: string): T | null => {
  try {
    return JSON.parse(store?.getItem(key) ?? "null") as T | null;
  } catch {
    return null;
  }
};
const write = (key: string, v: unknown) => {
  try {
    store?.setItem(key, JSON.stringify(v));
  } catch {
    // Storage full or blocked: the visitor is asked again next time, nothing worse.
  }
};

/** The visitor's session for an endpoint, opened or renewed when missing or within three days of expiry. */
async function visitorSession(endpoint: string): Promise<VisitorSession> {
  const key = `consent-ledger:session:${endpoint}`;
  const held = read<VisitorSession>(key);
  if (held && Date.parse(held.expiresAt) - Date.now() > 3 * 86_400_000) return held;
  const fresh = await openVisitorSession(endpoint, held ? { renew: held.token } : {});
  // Sec-GPC reaches only the service: keep what it saw for the pages that follow.
  write(key, { ...fresh, gpc: fresh.gpc || !!held?.gpc });
  return fresh;
}

const gpcOn = (s: VisitorSession) => s.gpc || (navigator as { globalPrivacyControl?: boolean }).globalPrivacyControl === true;
const evidence = (channel: string, lang: Lang, signal?: string): EvidenceInput => ({
  channel,
  locale: lang === "ja" ? "ja-JP" : "en",
  userAgent: navigator.userAgent.slice(0, 1024),
  ...(signal ? { signal } : {}),
});

/** Google Consent Mode: through the page's gtag when it has one, else as gtag would push it. */
function signal(kind: "default" | "update", state: Partial<Record<ConsentModeType, "granted" | "denied">>): void {
  if (Object.keys(state).length === 0) return;
  const w = window as unknown as { dataLayer?: unknown[]; gtag?: (...a: unknown[]) => void };
  if (typeof w.gtag === "function") return w.gtag("consent", kind, state);
  (w.dataLayer ??= []).push(["consent", kind, state]);
}

const STYLE = `:host{all:initial;font:15px/1.6 system-ui,"Hiragino Sans","Noto Sans CJK JP",sans-serif;color:#1a1a1a}
[hidden]{display:none!important}
section{position:fixed;inset:auto 0 0 0;z-index:2147483000;max-height:90vh;overflow:auto;background:#fff;border-top:3px solid #1d4ed8;box-shadow:0 -4px 16px rgba(0,0,0,.2);padding:16px 20px}
h2{font-size:17px;margin:0 0 8px}p{margin:0 0 8px}ul{margin:0 0 8px;padding-left:20px}
.mode,.data{color:#444;font-size:13px}
a{color:#1d4ed8}
.row{display:flex;flex-wrap:wrap;gap:8px;margin-top:8px}
button{font:inherit;padding:8px 16px;border-radius:6px;border:2px solid #1d4ed8;background:#fff;color:#1d4ed8;cursor:pointer;min-height:44px}
button.primary{background:#1d4ed8;color:#fff}
button:focus-visible,a:focus-visible,input:focus-visible{outline:3px solid #f59e0b;outline-offset:2px}
fieldset{border:1px solid #999;border-radius:6px;margin:8px 0;padding:8px 12px}
label{display:flex;gap:8px;align-items:flex-start;margin:4px 0}input{width:20px;height:20px;margin-top:3px}
.status{font-weight:600}`;

abstract class LedgerElement extends HTMLElement {
  protected root = this.attachShadow({ mode: "open" });
  protected get lang2(): Lang {
    return this.getAttribute("lang") === "en" ? "en" : "ja";
  }
  protected get t() {
    return TEXT[this.lang2];
  }
  protected get endpoint(): string {
    return (this.getAttribute("endpoint") ?? location.origin).replace(/\/+$/, "");
  }
  protected get policy(): string | undefined {
    return this.getAttribute("policy") ?? undefined;
  }
  protected session!: VisitorSession;
  protected client = new ConsentClient({ endpoint: "", token: () => this.session.token });
  protected async open(): Promise<ConsentState> {
    this.session = await visitorSession(this.endpoint);
    this.client = new ConsentClient({ endpoint: this.endpoint, token: () => this.session.token });
    return this.client.state(this.policy);
  }
  protected emit(state: ConsentState): void {
    this.dispatchEvent(new CustomEvent("consent-change", { detail: state, bubbles: true, composed: true }));
  }
}

/** `<consent-banner endpoint="https://consent.example.jp" policy="clavis-privacy" lang="ja">` */
export class ConsentBanner extends LedgerElement {
  private state: ConsentState | null = null;
  private gpcStopped: PurposeState[] = [];
  /** Resolves once the banner has decided whether to show itself (for pages and tests). */
  ready: Promise<void> = Promise.resolve();

  connectedCallback(): void {
    const cached = read<ConsentModeType[]>(`consent-ledger:types:${this.endpoint}`);
    // Until the ledger answers, every type the catalogue lists (or, on a first visit, every type) is denied.
    signal("default", Object.fromEntries((cached ?? ["ad_storage", "ad_user_data", "ad_personalization", "analytics_storage"]).map((t) => [t, "denied"])));
    this.ready = this.start().catch((e: unknown) => console.warn("consent-banner:", e));
  }

  private async start(): Promise<void> {
    let state = await this.open();
    write(`consent-ledger:types:${this.endpoint}`, [...new Set(state.purposes.flatMap((p) => p.consentModeTypes))]);
    if (gpcOn(this.session)) {
      const stop = state.purposes.filter((p) => p.gpcApplies && p.mode === "OPT_OUT" && p.status !== "WITHDRAWN");
      if (stop.length > 0) {
        await this.client.record({ policyId: state.policyId, policyVersion: state.version, withdraw: stop.map((p) => p.id), evidence: evidence("banner", this.lang2, "GPC") });
        this.gpcStopped = stop;
        state = await this.client.state(this.policy);
      }
    }
    this.apply(state);
    if (!state.answered || this.gpcStopped.length > 0) this.show(state.answered);
  }

  private apply(state: ConsentState): void {
    this.state = state;
    signal("update", consentModeState(state.purposes));
    this.emit(state);
  }

  private show(answered: boolean): void {
    const s = this.state!;
    const t = this.t;
    const asked = s.purposes.filter((p) => p.mode !== "REQUIRED");
    const item = (p: PurposeState) =>
      `<li><strong>${esc(p.title)}</strong><br><span class="mode">${t[p.mode as "OPT_IN" | "OPT_OUT"]}</span>` +
      (p.dataCategoryLabels.length ? `<br><span class="data">${t.data}: ${esc(p.dataCategoryLabels.join(this.lang2 === "ja" ? "、" : ", "))}</span>` : "") +
      `</li>`;
    const box = (p: PurposeState) => `<label><input type="checkbox" name="${esc(p.id)}"${p.mode === "OPT_OUT" && p.status !== "WITHDRAWN" ? " checked" : p.permitted ? " checked" : ""}><span>${esc(p.title)}</span></label>`;
    const gpc = this.gpcStopped.length ? `<p class="status" role="status">${t.gpc} ${esc(this.gpcStopped.map((p) => p.title).join("、"))}</p>` : "";
    this.root.innerHTML =
      `<style>${STYLE}</style><section aria-labelledby="h" lang="${this.lang2}">` +
      `<h2 id="h" tabindex="-1">${t.title}</h2>${gpc}` +
      (answered
        ? `<div class="row"><button type="button" data-a="close">OK</button></div>`
        : `<p>${t.intro}</p><ul>${asked.map(item).join("")}</ul>` +
          `<p><a href="${esc(this.endpoint)}/notices/external-transmission" target="_blank" rel="noopener">${t.notice}</a></p>` +
          `<form hidden><fieldset><legend>${t.settings}</legend>${asked.map(box).join("")}</fieldset><button type="submit" class="primary">${t.save}</button></form>` +
          `<div class="row"><button type="button" class="primary" data-a="all">${t.all}</button><button type="button" data-a="necessary">${t.necessary}</button>` +
          `<button type="button" data-a="settings" aria-expanded="false">${t.settings}</button></div>`) +
      `<p class="msg" role="alert"></p></section>`;
    // For pages measuring how soon after load the banner appears (performance.getEntriesByName).
    performance.mark("consent-banner-shown");
    const form = this.root.querySelector("form");
    this.root.querySelectorAll("button[data-a]").forEach((b) => b.addEventListener("click", () => this.act((b as HTMLElement).dataset["a"]!, b as HTMLButtonElement)));
    form?.addEventListener("submit", (e) => {
      e.preventDefault();
      const on = new Set([...form.querySelectorAll("input:checked")].map((i) => (i as HTMLInputElement).name));
      void this.choose(asked.filter((p) => on.has(p.id)), asked.filter((p) => !on.has(p.id)));
    });
    if (!answered)
      this.client
        .recordNotice({ ...(s.policyId ? { policyId: s.policyId } : {}), policyVersion: s.version, channel: "banner", locale: this.lang2 === "ja" ? "ja-JP" : "en", noticeId: "consent-banner" })
        .catch((e: unknown) => console.warn("consent-banner: the notice could not be recorded", e));
  }

  private act(action: string, button: HTMLButtonElement): void {
    const asked = this.state!.purposes.filter((p) => p.mode !== "REQUIRED");
    if (action === "close") return this.hide();
    if (action === "settings") {
      const form = this.root.querySelector("form")!;
      form.hidden = !form.hidden;
      button.setAttribute("aria-expanded", String(!form.hidden));
      if (!form.hidden) (form.querySelector("input") as HTMLInputElement | null)?.focus();
      return;
    }
    // "Accept all" leaves alone what the browser's GPC signal asked to stop; Settings can still turn it on.
    const gpc = gpcOn(this.session);
    if (action === "all") void this.choose(asked.filter((p) => !(gpc && p.gpcApplies)), asked.filter((p) => gpc && p.gpcApplies && p.mode === "OPT_OUT"));
    else void this.choose([], asked.filter((p) => p.mode === "OPT_OUT"));
  }

  /** One recordConsent: accept the version, grant `on`, withdraw `off` (OPT_IN ones never granted need no withdrawal). */
  private async choose(on: PurposeState[], off: PurposeState[]): Promise<void> {
    const s = this.state!;
    try {
      await this.client.record({
        policyId: s.policyId,
        policyVersion: s.version,
        acceptPolicy: true,
        grant: on.map((p) => p.id),
        withdraw: off.filter((p) => p.permitted || (p.mode === "OPT_OUT" && p.status !== "WITHDRAWN")).map((p) => p.id),
        evidence: evidence("banner", this.lang2),
      });
      this.apply(await this.client.state(this.policy));
      this.hide();
    } catch (e) {
      console.warn("consent-banner:", e);
      this.root.querySelector(".msg")!.textContent = this.t.failed;
    }
  }

  private hide(): void {
    this.root.innerHTML = "";
  }
}

/** `<consent-opt-out purpose="external-analytics" policy="…" label="…">`: stops one OPT_OUT purpose for this visitor. */
export class ConsentOptOut extends LedgerElement {
  connectedCallback(): void {
    void this.render().catch((e: unknown) => console.warn("consent-opt-out:", e));
  }

  private async render(): Promise<void> {
    const state = await this.open();
    const id = this.getAttribute("purpose");
    const p = state.purposes.find((x) => x.id === id);
    if (!p) return;
    const t = this.t;
    const stopped = p.status === "WITHDRAWN";
    const name = esc(this.getAttribute("label") ?? p.title);
    this.root.innerHTML =
      `<style>${STYLE}</style><p class="status" role="status">${stopped ? t.stopped : t.sending}</p>` +
      (stopped ? "" : `<button type="button" class="primary" aria-label="${name}: ${t.stop}">${t.stop}</button>`);
    this.root.querySelector("button")?.addEventListener("click", async () => {
      try {
        await this.client.record({ policyId: state.policyId, policyVersion: state.version, withdraw: [p.id], evidence: evidence("notice", this.lang2) });
        await this.render();
      } catch (e) {
        console.warn("consent-opt-out:", e);
        this.root.querySelector(".status")!.textContent = t.failed;
      }
    });
  }
}

if (!customElements.get("consent-banner")) customElements.define("consent-banner", ConsentBanner);
if (!customElements.get("consent-opt-out")) customElements.define("consent-opt-out", ConsentOptOut);
