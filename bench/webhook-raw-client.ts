// The throughput baseline of the webhook bench, in a child process like the service: `loops` loops
// each POSTing a signed message and waiting for the answer before the next (one in flight per loop,
// as a webhook delivers), over kept-alive node:http connections, `total` messages in all.
import { createHmac, randomBytes } from "node:crypto";
import http from "node:http";

const [url, totalArg, loopsArg] = process.argv.slice(2);
const total = Number(totalArg);
const loops = Number(loopsArg);
const agent = new http.Agent({ keepAlive: true, maxSockets: loops });
const secret = randomBytes(32);
const body = JSON.stringify({ type: "consent.changed", timestamp: new Date().toISOString(), data: { cursor: "0000000000000001-000000", position: "0000000000000001", subjectId: "s", policyId: "p", purposeId: "location", previous: null, current: { status: "GRANTED", permitted: true } } });

function post(i: number): Promise<void> {
  const id = `msg_${i}`;
  const ts = Math.floor(Date.now() / 1000);
  const signature = `v1,${createHmac("sha256", secret).update(`${id}.${ts}.${body}`).digest("base64")}`;
  return new Promise((resolve, reject) => {
    const req = http.request(url!, { method: "POST", agent, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body), "webhook-id": id, "webhook-timestamp": String(ts), "webhook-signature": signature } }, (res) => {
      res.resume();
      res.on("end", () => resolve());
    });
    req.on("error", reject);
    req.end(body);
  });
}

let next = 0;
const start = performance.now();
await Promise.all(
  Array.from({ length: loops }, async () => {
    while (next < total) await post(next++);
  }),
);
process.send!({ seconds: (performance.now() - start) / 1000 });
agent.destroy();
