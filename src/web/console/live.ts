// The ledger followed live (graphql-ws): the connection state in the header, the latest events under
// every view, and each event handed to the view on screen so it can update itself.
import { isSignInNeeded } from "../common/api.js";
import { h, replace } from "../common/dom.js";
import { describeEvent } from "../common/events.js";
import { errorMessage, formatDateTime } from "../common/format.js";
import type { ConsoleApp, LiveEvent } from "./app.js";
import { LiveEventsSubscription } from "./queries.js";

type LiveState = "connecting" | "connected" | "closed" | "forbidden";
const STATE_TEXT: Record<LiveState, string> = {
  connecting: "○ 接続しています…",
  connected: "● ライブ接続中",
  closed: "○ 再接続しています…",
  forbidden: "ライブ更新なし（ledger:read が必要です）",
};

export function followLive(app: ConsoleApp): void {
  const recent: LiveEvent[] = [];
  let stop: (() => void) | null = null;
  let state: LiveState = "connecting";

  const setState = (next: LiveState) => {
    // A refused subscription stays refused: later socket closes do not turn it into "reconnecting".
    if (state === "forbidden" && next !== "connecting") return;
    state = next;
    const el = document.getElementById("live-state");
    if (el) el.textContent = STATE_TEXT[state];
  };

  const item = (e: LiveEvent) =>
    h(
      "li",
      {},
      `${formatDateTime(e.recordedAt)}、${e.subjectId ? `${e.subjectId}：` : ""}${describeEvent(e, app.names)}`,
      h("span", { class: "meta" }, `（位置 `, h("span", { class: "position" }, e.position), "）"),
    );

  const card = () => {
    const slot = document.getElementById("live-slot");
    if (!slot) return;
    replace(
      slot,
      h(
        "section",
        { class: "card", "aria-labelledby": "live-heading" },
        h("h3", { id: "live-heading" }, "ライブ更新"),
        state === "forbidden"
          ? h("p", { class: "meta" }, "このトークンには ledger:read がないため、新しいイベントは自動では表示されません。")
          : [
              h("ol", { class: "live", id: "live-events", "aria-live": "polite" }, recent.slice(0, 8).map(item)),
              recent.length === 0 ? h("p", { class: "meta", id: "live-empty" }, "新しいイベントが記録されると、ここに表示されます。") : null,
            ],
      ),
    );
  };
  app.afterShow.push(card);

  app.lifecycle(
    () => {
      stop?.();
      recent.length = 0;
      state = "connecting";
      setState("connecting");
      if (!app.can("ledger:read")) {
        setState("forbidden");
        return;
      }
      stop = app.api.subscribe(LiveEventsSubscription, () => ({}), {
        connected: () => setState("connected"),
        closed: () => setState("closed"),
        next: ({ ledgerEvents: e }) => {
          recent.unshift(e);
          recent.length = Math.min(recent.length, 50);
          const list = document.getElementById("live-events");
          if (list) {
            list.prepend(item(e));
            while (list.children.length > 8) list.lastElementChild?.remove();
            document.getElementById("live-empty")?.remove();
          }
          app.view?.onLiveEvent?.(e);
        },
        error: (e) => {
          if (isSignInNeeded(e)) return app.signOut(errorMessage("UNAUTHENTICATED", ""));
          if (e.code === "FORBIDDEN") {
            stop?.();
            setState("forbidden");
            return card();
          }
          setState("closed");
        },
      });
    },
    () => {
      stop?.();
      stop = null;
    },
  );
}
