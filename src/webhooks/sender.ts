// POSTs one message to a receiver: connected to an address that was checked (pinned, whatever the
// name resolves to by then), no redirects followed, a time-out on the whole exchange, and at most a
// set number of requests in flight per receiver (scheme, host and port), on kept-alive connections.
import http from "node:http";
import https from "node:https";
import type { LookupFunction } from "node:net";
import type { CheckedAddress } from "./address-guard.js";

export interface SendResult {
  /** The HTTP status; null when no answer came (time-out, connection refused or reset). */
  status: number | null;
  error: string | null;
}

/** A counting semaphore. */
class Slots {
  private free: number;
  private readonly waiting: (() => void)[] = [];
  constructor(n: number) {
    this.free = n;
  }
  async take(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }
  give(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }
}

interface Receiver {
  agent: http.Agent;
  slots: Slots;
}

/** Answers bodies are read and dropped; a receiver that streams forever is cut at this size. */
const MAX_ANSWER_BYTES = 64 * 1024;

export class Sender {
  private readonly receivers = new Map<string, Receiver>();

  constructor(private readonly opts: { timeoutMs: number; concurrencyPerReceiver: number }) {}

  private receiver(url: URL): Receiver {
    let r = this.receivers.get(url.origin);
    if (!r) {
      const options = { keepAlive: true, maxSockets: this.opts.concurrencyPerReceiver, maxFreeSockets: this.opts.concurrencyPerReceiver };
      r = { agent: url.protocol === "https:" ? new https.Agent(options) : new http.Agent(options), slots: new Slots(this.opts.concurrencyPerReceiver) };
      this.receivers.set(url.origin, r);
    }
    return r;
  }

  async post(url: URL, to: CheckedAddress, headers: Record<string, string>, body: string, signal: AbortSignal): Promise<SendResult> {
    const receiver = this.receiver(url);
    await receiver.slots.take();
    try {
      return await this.exchange(url, to, receiver.agent, headers, body, signal);
    } finally {
      receiver.slots.give();
    }
  }

  private exchange(url: URL, to: CheckedAddress, agent: http.Agent, headers: Record<string, string>, body: string, signal: AbortSignal): Promise<SendResult> {
    // The connection goes to the checked address; the name stays in Host and in TLS (SNI, certificate check).
    const pinned: LookupFunction = (_host, options, callback) => {
      if ((options as { all?: boolean }).all) (callback as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [to]);
      else callback(null, to.address, to.family);
    };
    return new Promise<SendResult>((resolve) => {
      let settled = false;
      const done = (r: SendResult) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal.removeEventListener("abort", onAbort);
        resolve(r);
      };
      const request = (url.protocol === "https:" ? https : http).request(
        url,
        {
          method: "POST",
          agent,
          lookup: pinned,
          headers: { ...headers, "content-type": "application/json", "content-length": Buffer.byteLength(body), "user-agent": "consent-ledger-webhooks" },
        },
        (res) => {
          let seen = 0;
          res.on("data", (chunk: Buffer) => {
            seen += chunk.length;
            if (seen > MAX_ANSWER_BYTES) res.destroy();
          });
          res.on("end", () => done({ status: res.statusCode ?? null, error: null }));
          res.on("error", () => done({ status: res.statusCode ?? null, error: null }));
          res.on("close", () => done({ status: res.statusCode ?? null, error: null }));
        },
      );
      const timer = setTimeout(() => {
        request.destroy();
        done({ status: null, error: `no answer within ${this.opts.timeoutMs} ms` });
      }, this.opts.timeoutMs);
      const onAbort = () => {
        request.destroy();
        done({ status: null, error: "stopped" });
      };
      signal.addEventListener("abort", onAbort);
      request.on("error", (e: NodeJS.ErrnoException) => done({ status: null, error: e.code ?? e.message }));
      request.end(body);
    });
  }

  close(): void {
    for (const r of this.receivers.values()) r.agent.destroy();
    this.receivers.clear();
  }
}
