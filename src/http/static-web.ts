// Serves the built browser faces: /preferences, /console, the dev-mode explorer and their hashed assets from dist/web.
import { readFile } from "node:fs/promises";
import type { ServerResponse } from "node:http";
import { extname, join } from "node:path";

/** The pages and the folder `npm run build` writes each one's index.html into. */
const PAGES: Record<string, string> = { "/preferences": "preferences", "/console": "console" };
/** Where the built assets are served from; Vite's `base` is the same path. */
export const ASSET_PREFIX = "/web/assets/";

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".woff2": "font/woff2",
  ".ttf": "font/ttf",
  ".json": "application/json; charset=utf-8",
  ".map": "application/json; charset=utf-8",
};

/**
 * Nothing from another origin: scripts, styles and API calls (HTTP and graphql-ws) go to this
 * service only; the pages cannot be framed.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

/** Sent with every answer of the service (server.ts): HTML pages, the notice page, JSON and errors alike. */
export const SECURITY_HEADERS = {
  "content-security-policy": CONTENT_SECURITY_POLICY,
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
};

/** Whether `pathname` is one of the web routes (a page or an asset). */
export function isWebPath(pathname: string): boolean {
  return pagePath(pathname) !== null || pathname.startsWith(ASSET_PREFIX);
}

/** Answers 405 unless `method` reads (GET or HEAD); whether it did. */
export function refusedMethod(method: string | undefined, res: ServerResponse, headers: Record<string, string> = {}): boolean {
  if (method === "GET" || method === "HEAD") return false;
  res.writeHead(405, { allow: "GET, HEAD", "content-type": "text/plain; charset=utf-8", ...headers });
  res.end("method not allowed\n");
  return true;
}

/** A file `npm run build` writes, or null when it is missing. */
export async function readBuilt(file: string): Promise<Buffer | null> {
  try {
    return await readFile(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    return null;
  }
}

/** 503 with the fix, for a face whose build is missing (`what`: e.g. "the SDK is"). */
export function notBuilt(res: ServerResponse, what: string, file: string, headers: Record<string, string> = {}): void {
  res.writeHead(503, { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store", ...headers });
  res.end(`${what} not built (${file} is missing): run npm run build\n`);
}

function pagePath(pathname: string): string | null {
  const p = pathname.endsWith("/") && pathname.length > 1 ? pathname.slice(0, -1) : pathname;
  return PAGES[p] ?? null;
}

/**
 * The GraphQL explorer (GraphiQL) for a browser opening /graphql in dev mode. Its editor (Monaco)
 * adds style elements at run time and its stylesheet embeds fonts as data: URLs, so this page alone
 * allows inline styles and data: fonts; scripts, workers and
 * requests stay on this origin.
 */
export async function serveExplorer(webDir: string, method: string | undefined, res: ServerResponse): Promise<void> {
  const file = join(webDir, "explorer", "index.html");
  const body = await readBuilt(file);
  if (body === null) return notBuilt(res, "the GraphQL explorer is", file);
  res.writeHead(200, {
    "content-type": "text/html; charset=utf-8",
    "content-length": String(body.length),
    "cache-control": "no-cache",
    vary: "Accept",
    ...SECURITY_HEADERS,
    "content-security-policy": CONTENT_SECURITY_POLICY.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'").replace("font-src 'self'", "font-src 'self' data:"),
  });
  res.end(method === "HEAD" ? undefined : body);
}

/** Whether a request to /graphql is a browser opening it (a page load, not a GraphQL GET). */
export function wantsExplorer(method: string | undefined, accept: string | undefined, search: URLSearchParams): boolean {
  return (method === "GET" || method === "HEAD") && !search.has("query") && /\btext\/html\b/.test(accept ?? "");
}

/** Answers a web route from `webDir`: 503 with the fix when the web build is missing, 404 for an unknown asset. */
export async function serveWeb(webDir: string, method: string | undefined, pathname: string, res: ServerResponse): Promise<void> {
  if (refusedMethod(method, res)) return;
  const page = pagePath(pathname);
  let file: string;
  let cache: string;
  if (page !== null) {
    file = join(webDir, page, "index.html");
    // The page names its hashed assets: it must be revalidated so a new build is picked up at once.
    cache = "no-cache";
  } else {
    const name = pathname.slice(ASSET_PREFIX.length);
    // Built asset names only: no folders, no dot-dot.
    if (!/^[A-Za-z0-9_-][A-Za-z0-9._-]*$/.test(name)) return notFound(res);
    file = join(webDir, "assets", name);
    // Vite puts a content hash in every asset name, so an asset never changes under its name.
    cache = "public, max-age=31536000, immutable";
  }
  const body = await readBuilt(file);
  if (body === null) return page !== null ? notBuilt(res, "the web pages are", file) : notFound(res);
  res.writeHead(200, {
    "content-type": CONTENT_TYPES[extname(file)] ?? "application/octet-stream",
    "content-length": String(body.length),
    "cache-control": cache,
    ...SECURITY_HEADERS,
  });
  res.end(method === "HEAD" ? undefined : body);
}

function notFound(res: ServerResponse): void {
  res.writeHead(404, { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" });
  res.end("not found\n");
}
