// GET /sdk/consent.js and /sdk/banner.js: the client library's browser build and the banner, for pages on any origin.
import type { ServerResponse } from "node:http";
import { join } from "node:path";
import { notBuilt, readBuilt, refusedMethod } from "./static-web.js";

/** The served files, built by `npm run build` into `<webDir>/sdk/`. */
const FILES: Record<string, string> = { "/sdk/consent.js": "consent.js", "/sdk/banner.js": "banner.js" };

export const isSdkPath = (pathname: string): boolean => pathname in FILES;

/**
 * Answers an SDK file. Pages on other origins load it (a module script is fetched with CORS), so it
 * is readable from anywhere; it carries no personal data. Its name does not change between
 * releases, so caches revalidate it after five minutes.
 */
export async function serveSdk(webDir: string, method: string | undefined, pathname: string, res: ServerResponse): Promise<void> {
  const cors = { "access-control-allow-origin": "*", "cross-origin-resource-policy": "cross-origin" };
  if (refusedMethod(method, res, cors)) return;
  const file = join(webDir, "sdk", FILES[pathname]!);
  const body = await readBuilt(file);
  if (body === null) return notBuilt(res, "the SDK is", file, cors);
  res.writeHead(200, {
    "content-type": "text/javascript; charset=utf-8",
    "content-length": String(body.length),
    "cache-control": "public, max-age=300",
    "x-content-type-options": "nosniff",
    ...cors,
  });
  res.end(method === "HEAD" ? undefined : body);
}
