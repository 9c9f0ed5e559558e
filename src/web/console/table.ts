// Tables the console shows: scrollable by keyboard, and one card per row on a phone.
import { h } from "../common/dom.js";

/**
 * Wraps a table so it can be scrolled by keyboard, and lets it become one card per row on a phone:
 * each cell carries its column's name (shown before it there), and explicit roles keep the table's
 * semantics when CSS changes its display.
 */
export function tableWrap(labelText: string, table: HTMLTableElement): HTMLElement {
  const headers = [...table.querySelectorAll("thead th")].map((th) => th.textContent ?? "");
  table.classList.add("stack");
  table.setAttribute("role", "table");
  for (const tr of table.querySelectorAll("tr")) tr.setAttribute("role", "row");
  for (const th of table.querySelectorAll("th")) th.setAttribute("role", "columnheader");
  for (const tr of table.querySelectorAll("tbody tr"))
    [...tr.children].forEach((td, i) => {
      td.setAttribute("role", "cell");
      td.setAttribute("data-label", headers[i] ?? "");
    });
  return h("div", { class: "table-wrap", role: "region", "aria-label": labelText, tabindex: 0 }, table);
}

/** A table with one header row and the given body rows. */
export function table(attrs: Record<string, string>, caption: string | null, headers: readonly string[], rows: HTMLTableRowElement[]): HTMLTableElement {
  return h(
    "table",
    attrs,
    caption ? h("caption", { class: "visually-hidden" }, caption) : null,
    h("thead", {}, h("tr", {}, headers.map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, rows),
  );
}
