// Reads a request body with a hard size limit, so a huge payload costs us at most `limit` bytes.
import type { IncomingMessage } from "node:http";
import type { ErrorCode } from "../domain/errors.js";

export class BodyTooLargeError extends Error {
  /** What the client is answered (with HTTP 413). */
  static readonly code: ErrorCode = "BAD_USER_INPUT";
  readonly code = BodyTooLargeError.code;
  constructor(readonly limit: number) {
    super(`request body exceeds ${limit} bytes`);
  }
}

export function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers["content-length"]);
    if (Number.isFinite(declared) && declared > limit) {
      req.resume();
      reject(new BodyTooLargeError(limit));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        req.removeAllListeners("data");
        req.resume();
        reject(new BodyTooLargeError(limit));
        return;
      }
      chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}
