// The sign-in form both pages share: paste an access token; a refused or expired one comes back here with a message.
import { h, inPageForm } from "./dom.js";

export interface SignInOptions {
  heading: string;
  explanation: string;
  /** Shown above the form, e.g. why the person is back here. */
  message?: string | null;
  onToken: (token: string) => void;
}

export function signInView(opts: SignInOptions): HTMLElement {
  const input = h("textarea", {
    id: "token",
    name: "token",
    rows: 3,
    required: true,
    autocomplete: "off",
    spellcheck: "false",
    "aria-describedby": "token-help",
  });
  const form = inPageForm(
    { class: "card sign-in", "aria-labelledby": "sign-in-heading" },
    () => {
      const token = input.value.trim();
      if (token) opts.onToken(token);
    },
    h("h2", { id: "sign-in-heading" }, opts.heading),
    opts.message ? h("p", { class: "notice error", role: "alert" }, opts.message) : null,
    h("p", { id: "token-help" }, opts.explanation),
    h("label", { for: "token" }, "アクセストークン"),
    input,
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "サインイン")),
  );
  queueMicrotask(() => input.focus());
  return form;
}
