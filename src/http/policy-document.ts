// GET /policies/<policyId>/<version>: the text a version's digest stands for, public, with the digest as its ETag.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Ledger } from "../ledger.js";

const PATH = /^\/policies\/([A-Za-z0-9][A-Za-z0-9._:@-]{0,127})\/([1-9][0-9]{0,8})$/;

/** Whether the path names a policy document. */
export const isPolicyDocumentPath = (pathname: string): boolean => pathname.startsWith("/policies/");

export function servePolicyDocument(req: IncomingMessage, res: ServerResponse, ledger: Ledger, pathname: string): void {
  const notFound = (message: string) => {
    res.writeHead(404, { "content-type": "application/json; charset=utf-8" });
    res.end(JSON.stringify({ errors: [{ message, extensions: { code: "NOT_FOUND" } }] }));
  };
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.writeHead(405, { allow: "GET, HEAD" });
    return void res.end();
  }
  const m = PATH.exec(pathname);
  if (!m) return notFound("not found: a policy document is at /policies/<policyId>/<version>");
  const found = ledger.documentText(m[1]!, Number(m[2]));
  if (!found) return notFound(`no text is held for version ${m[2]} of ${m[1]}`);
  const etag = `"${found.digest}"`;
  const headers = { etag, "cache-control": "public, max-age=300", "access-control-allow-origin": "*" };
  const match = req.headers["if-none-match"];
  if (match !== undefined && match.split(",").some((t) => t.trim() === etag || t.trim() === "*")) {
    res.writeHead(304, headers);
    return void res.end();
  }
  const body = Buffer.from(found.text, "utf8");
  res.writeHead(200, { ...headers, "content-type": "text/plain; charset=utf-8", "content-length": body.length });
  res.end(req.method === "HEAD" ? undefined : body);
}
