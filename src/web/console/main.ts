// The officer console (/console): the data-request queue with its actions, a subject's timeline with
// time travel, the re-consent queue, integrity and the signed head, all following the ledger live.
// Each screen is a view module registered here; a new screen plugs in with one `register` call.
import "../common/style.css";
import { takeTokenFromFragment } from "../common/session.js";
import { ConsoleApp } from "./app.js";
import { integrityView } from "./integrity-view.js";
import { followLive } from "./live.js";
import { reconsentView } from "./reconsent-view.js";
import { requestsView } from "./requests-view.js";
import { timelineView } from "./timeline-view.js";
import { renderWebhooks } from "./webhooks.js";

const app = new ConsoleApp();
const timeline = timelineView(app);
const openTimeline = (subjectId: string) => timeline.open(subjectId);
app.register(requestsView(app, openTimeline));
app.register(timeline);
app.register(reconsentView(app, openTimeline));
app.register(integrityView(app));
app.register({ id: "webhooks", title: "Webhook", render: (slot) => renderWebhooks(slot, app.api) });
followLive(app);

/** A token handed over in the address (#access_token=…), on load or later on an open page. */
function takeToken(): void {
  const token = takeTokenFromFragment();
  if (token) app.session.token = token;
}
takeToken();
app.start();
window.addEventListener("hashchange", () => {
  if (!/access_token=/.test(location.hash)) return;
  takeToken();
  app.start();
});
