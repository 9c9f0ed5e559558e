// Ledger-Min-Position on the HTTP fast path, checked inside the serving process: a spy on its fast path
// shows the request took it, and its fast path is turned off between two requests to read Apollo's
// answer. The rules themselves, on every transport and with WORKERS=2, are in read-your-writes.test.ts.
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { ANSWERED, FastPath } from "../../src/http/fast-path.js";
import { backend } from "../support/backend.js";
import { TestClock } from "../support/clock.js";
import { eventually } from "../support/common.js";
import { sendWithHeaders as send } from "../support/send-with-headers.js";
import { type TestServer, startTestServer } from "../support/harness.js";
import { freshId, onboard } from "./helpers.js";

const PERMISSION = `query($s: ID!) { permission(subjectId: $s, purposeId: "location") { permitted } }`;
const HEAD = `{ ledgerHead { position } }`;

describe(`Ledger-Min-Position on the fast path, in the serving process (${backend})`, () => {
  let srv: TestServer;
  let reader: string;
  let auditor: string;
  const clock = new TestClock();

  beforeAll(async () => {
    srv = await startTestServer({ clock });
    reader = await srv.token("svc", "consent:read");
    auditor = await srv.token("auditor", "ledger:read");
  });
  afterAll(() => srv.close());

  it("answers Ledger-Min-Position on the fast path byte for byte as through Apollo: applied, malformed, and past the wait", async () => {
    const subjectId = freshId();
    await onboard(srv, subjectId, ["location"]);
    const head = Number((await send<{ ledgerHead: { position: string } }>(srv, HEAD, {}, auditor)).data!.ledgerHead.position);
    const raw = async (value: string, stale: boolean) => {
      const res = fetch(srv.url, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${reader}`, "Ledger-Min-Position": value },
        body: JSON.stringify({ query: PERMISSION, variables: { s: subjectId } }),
      });
      if (stale) {
        await eventually("the read waits", () => srv.app.services.applied.waiting > 0);
        clock.advance(2_000);
      }
      const r = await res;
      return { status: r.status, type: r.headers.get("content-type"), cache: r.headers.get("cache-control"), retry: r.headers.get("retry-after"), body: await r.text() };
    };
    const fastPath = vi.spyOn(FastPath.prototype, "post");
    const settings = srv.app.services.config.trustedDocuments;
    try {
      for (const [value, stale] of [[String(head).padStart(16, "0"), false], ["12", false], [String(head + 1_000_000).padStart(16, "0"), true]] as const) {
        await raw(value, stale); // the text is validated once, then known to the fast path
        settings.fastPath = false;
        const apollo = await raw(value, stale);
        settings.fastPath = true;
        fastPath.mockClear();
        expect({ value, ...(await raw(value, stale)) }).toEqual({ value, ...apollo });
        expect(await fastPath.mock.results[0]!.value).toBe(ANSWERED);
      }
    } finally {
      settings.fastPath = true;
      fastPath.mockRestore();
    }
  });

});
