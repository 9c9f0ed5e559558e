// The console's confirm-first actions: a row of buttons, each opening a short form that says what will
// happen, asks what it needs, and calls the API only when its confirm button is pressed.
import { ApiError, isSignInNeeded } from "../common/api.js";
import { h, inPageForm, replace } from "../common/dom.js";
import { errorMessage } from "../common/format.js";
import type { ConsoleApp } from "./app.js";

export interface Field {
  label: string;
  input: HTMLInputElement | HTMLTextAreaElement;
  required?: string;
}

export interface Action {
  name: string;
  /** The sentences shown before anything happens. */
  explain: string[];
  fields: Field[];
  confirm: string;
  danger?: boolean;
  /** Whether the confirm button may be pressed (e.g. the subject id typed matches). */
  ready?: () => boolean;
  /** Does it; answers what was done, and whether the selection (e.g. a request still open) stays. */
  run: () => Promise<{ text: string; keepSelected: boolean }>;
}

let fieldSeq = 0;
export const textField = (labelText: string, attrs: Record<string, string | number | boolean> = {}, required?: string): Field => ({
  label: labelText,
  input: h("input", { type: "text", id: `action-field-${++fieldSeq}`, autocomplete: "off", ...attrs }),
  ...(required ? { required } : {}),
});
export const areaField = (labelText: string, required?: string): Field => ({
  label: labelText,
  input: h("textarea", { id: `action-field-${++fieldSeq}`, rows: 3, maxlength: 1000 }),
  ...(required ? { required } : {}),
});

/** The actions' buttons and the slot where the chosen one's form opens; `done` gets what an action did. */
export function actionBar(app: ConsoleApp, groupLabel: string, actions: Action[], done: (text: string, keepSelected: boolean) => void): HTMLElement[] {
  const formSlot = h("div", { id: "action-form" });
  const buttons = actions.map((a) =>
    h("button", { type: "button", class: a.danger ? "danger" : false, "aria-controls": "action-form", onclick: () => open(a) }, a.name),
  );

  function open(a: Action): void {
    const error = h("div", { class: "action-error" });
    const confirm = h("button", { type: "submit", class: a.danger ? "danger" : "primary" }, a.confirm);
    const refreshReady = () => {
      if (a.ready) confirm.disabled = !a.ready();
    };
    refreshReady();
    const form = inPageForm(
      { class: "action", "aria-labelledby": "action-heading", novalidate: true, oninput: refreshReady },
      async () => {
        replace(error);
        const missing = a.fields.find((f) => f.required && f.input.value.trim() === "");
        if (missing) {
          missing.input.setAttribute("aria-invalid", "true");
          replace(error, h("p", { class: "notice error", role: "alert" }, missing.required!));
          return missing.input.focus();
        }
        if (a.ready && !a.ready()) return;
        confirm.disabled = true;
        try {
          const { text, keepSelected } = await a.run();
          done(text, keepSelected);
        } catch (err) {
          confirm.disabled = false;
          if (isSignInNeeded(err)) return app.failed(err, formSlot);
          const ae = err instanceof ApiError ? err : new ApiError("ERROR", String(err));
          replace(error, h("p", { class: "notice error", role: "alert" }, ae.code === "BAD_USER_INPUT" ? `入力を確認してください：${ae.message}` : errorMessage(ae.code, ae.message)));
        }
      },
      h("h4", { id: "action-heading", tabindex: -1 }, `${a.name}：実行する前に確認してください`),
      a.explain.filter(Boolean).map((t) => h("p", {}, t)),
      a.fields.flatMap((f) => {
        // The label is the field's name alone; "required" is said by the attribute and a visible hint.
        if (f.required) {
          f.input.required = true;
          f.input.setAttribute("aria-describedby", `${f.input.id}-hint`);
        }
        return [h("label", { for: f.input.id }, f.label), f.required ? h("p", { class: "hint", id: `${f.input.id}-hint` }, "必須") : null, f.input];
      }),
      error,
      h(
        "div",
        { class: "actions" },
        confirm,
        h(
          "button",
          {
            type: "button",
            onclick: () => {
              replace(formSlot);
              buttons[actions.indexOf(a)]?.focus();
            },
          },
          "キャンセル",
        ),
      ),
    );
    replace(formSlot, form);
    (a.fields[0]?.input ?? form.querySelector<HTMLElement>("#action-heading"))?.focus();
  }

  return [h("div", { class: "actions", role: "group", "aria-label": groupLabel }, buttons), formSlot];
}
