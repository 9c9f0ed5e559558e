// A webhook receiver inside the test process: every request is verified with the `standardwebhooks`
// package (as a receiver following the docs would), recorded, and answered as the test says.
import { type Server, createServer } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { Webhook } from "standardwebhooks";

export interface WebhookMessage {
  type: string;
  timestamp: string;
  data: {
    cursor: string;
    position: string;
    subjectId: string;
    policyId: string;
    purposeId: string;
    previous: string | null;
    current: { status: string; permitted: boolean; [k: string]: unknown };
  };
}

export interface Received {
  path: string;
  id: string;
  /** The raw body, and the message when it verified. */
  raw: string;
  message: WebhookMessage | null;
  verified: boolean;
  /** The status this receiver answered. */
  status: number;
  headers: Record<string, string | string[] | undefined>;
}

/** How to answer a request: given its path, its webhook-id and how many times that id came before. */
export type Answer = (path: string, id: string, seenBefore: number) => number;

export class WebhookReceiver {
  readonly requests: Received[] = [];
  answer: Answer = () => 200;
  private readonly secrets = new Map<string, string>();
  private readonly waiters = new Set<() => void>();
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  port = 0;

  static async start(port = 0): Promise<WebhookReceiver> {
    const r = new WebhookReceiver();
    await r.listen(port);
    return r;
  }

  async listen(port = this.port): Promise<void> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const raw = Buffer.concat(chunks).toString("utf8");
        const path = req.url ?? "/";
        const id = String(req.headers["webhook-id"] ?? "");
        let message: WebhookMessage | null = null;
        const secret = this.secrets.get(path);
        if (secret)
          try {
            message = new Webhook(secret).verify(raw, req.headers as Record<string, string>) as WebhookMessage;
          } catch {
            message = null;
          }
        const seenBefore = this.requests.filter((r) => r.path === path && r.id === id).length;
        const status = this.answer(path, id, seenBefore);
        this.requests.push({ path, id, raw, message, verified: message !== null, status, headers: req.headers });
        res.writeHead(status, { "content-type": "text/plain" }).end("ok");
        for (const w of [...this.waiters]) w();
      });
    });
    server.on("connection", (s: Socket) => {
      this.sockets.add(s);
      s.on("close", () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => resolve());
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
  }

  url(path: string): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  /** The secret requests to `path` are verified with. */
  trust(path: string, secret: string): void {
    this.secrets.set(path, secret);
  }

  /** Requests to one path, in arrival order. */
  at(path: string): Received[] {
    return this.requests.filter((r) => r.path === path);
  }

  /** Acknowledged (2xx) messages to one path, in arrival order. */
  acknowledged(path: string): Received[] {
    return this.at(path).filter((r) => r.status >= 200 && r.status < 300);
  }

  /** Resolves once `done()` holds, checked at each request; rejects after `timeoutMs` naming `what`. */
  until(done: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
    if (done()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!done()) return;
        this.waiters.delete(check);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`timed out waiting for ${what}; received ${this.requests.length} requests`));
      }, timeoutMs);
      this.waiters.add(check);
    });
  }

  /** Stops listening and cuts every open connection (the receiver is down). */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
