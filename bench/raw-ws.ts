// A graphql-ws client on a bare TCP socket, for clients that stop reading: ws's own client resumes its
// socket by itself, this one reads only when told to. Shared by the tests (test/support/raw-ws-client.ts)
// and the attack bench, so it waits on socket events rather than on a test runner's helpers.
import { randomBytes } from "node:crypto";
import { type Socket, createConnection } from "node:net";

export interface Message {
  id?: string;
  type: string;
  // biome-ignore lint: the protocol's payload is any JSON
  payload?: any;
}

/** How long the handshake may take before `open` gives up (only bounds a server that never answers). */
const HANDSHAKE_TIMEOUT_MS = 10_000;

/**
 * A WebSocket client on a bare TCP socket, so that it can really stop reading (ws's own client resumes
 * its socket by itself): text frames out (masked, as a client must), server frames parsed on demand.
 */
export class RawWsClient {
  private readonly chunks: Buffer[] = [];
  private readonly listeners = new Set<() => void>();
  private constructor(private readonly socket: Socket) {
    socket.on("data", (d: Buffer) => {
      this.chunks.push(d);
      for (const l of [...this.listeners]) l();
    });
  }

  static async open(url: string): Promise<RawWsClient> {
    const { hostname, port } = new URL(url);
    const socket = createConnection({ host: hostname, port: Number(port) });
    await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
    const client = new RawWsClient(socket);
    socket.write(
      `GET /graphql HTTP/1.1\r\nHost: ${hostname}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${randomBytes(16).toString("base64")}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: graphql-transport-ws\r\n\r\n`,
    );
    await client.until(() => Buffer.concat(client.chunks).includes("\r\n\r\n"), "the WebSocket handshake's answer");
    const all = Buffer.concat(client.chunks);
    const status = all.subarray(0, 12).toString();
    if (status !== "HTTP/1.1 101") {
      socket.destroy();
      throw new Error(`the WebSocket handshake was answered ${JSON.stringify(all.subarray(0, all.indexOf("\r\n")).toString())}`);
    }
    client.chunks.length = 0;
    client.chunks.push(all.subarray(all.indexOf("\r\n\r\n") + 4));
    return client;
  }

  /** Resolves once `cond` holds, looking again on each chunk the socket reads; rejects after `ms`, naming `what`. */
  until(cond: () => boolean, what: string, ms = HANDSHAKE_TIMEOUT_MS): Promise<void> {
    if (cond()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!cond()) return;
        done();
        resolve();
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`${what}: not within ${ms} ms`));
      }, ms);
      const done = () => {
        clearTimeout(timer);
        this.listeners.delete(check);
      };
      this.listeners.add(check);
    });
  }

  send(message: unknown): void {
    const payload = Buffer.from(JSON.stringify(message));
    const mask = randomBytes(4);
    const head = payload.length < 126 ? Buffer.from([0x81, 0x80 | payload.length]) : Buffer.from([0x81, 0x80 | 126, payload.length >> 8, payload.length & 0xff]);
    const body = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]!));
    this.socket.write(Buffer.concat([head, mask, body]));
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  /** Every complete text message received so far. */
  messages(): Message[] {
    const buf = Buffer.concat(this.chunks);
    const out: Message[] = [];
    for (let at = 0; at + 2 <= buf.length; ) {
      let len = buf[at + 1]! & 0x7f;
      let start = at + 2;
      if (len === 126) {
        len = buf.readUInt16BE(at + 2);
        start = at + 4;
      } else if (len === 127) {
        len = Number(buf.readBigUInt64BE(at + 2));
        start = at + 10;
      }
      if (start + len > buf.length) break;
      if ((buf[at]! & 0x0f) === 1) out.push(JSON.parse(buf.subarray(start, start + len).toString()) as Message);
      at = start + len;
    }
    return out;
  }

  close(): void {
    this.socket.destroy();
  }
}
