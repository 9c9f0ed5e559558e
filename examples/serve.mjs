// The example shop: a static page on its own origin that embeds the consent banner from the service.
//   node examples/serve.mjs            (PORT=8080, CONSENT_ENDPOINT=http://127.0.0.1:4000)
// The service must let this origin in: CORS_ORIGINS=http://127.0.0.1:8080 npm start
import { readFile } from "node:fs/promises";
import { createServer } from "node:http";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const site = join(dirname(fileURLToPath(import.meta.url)), "site");

/** Serves examples/site on `port` (0: any free one), with the service's address (a string, or a function answering one) put into the page. */
export async function startExampleSite({ port = 8080, host = "127.0.0.1", endpoint = "http://127.0.0.1:4000" } = {}) {
  const server = createServer(async (req, res) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    if (path !== "/" && path !== "/index.html") {
      res.writeHead(404, { "content-type": "text/plain; charset=utf-8" });
      return res.end("not found\n");
    }
    const html = (await readFile(join(site, "index.html"), "utf8")).replaceAll("{{CONSENT_ENDPOINT}}", typeof endpoint === "function" ? endpoint() : endpoint);
    res.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" });
    res.end(html);
  });
  await new Promise((resolve) => server.listen(port, host, resolve));
  const address = server.address();
  return { url: `http://${host}:${address.port}/`, close: () => new Promise((r) => server.close(r)) };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const endpoint = process.env.CONSENT_ENDPOINT ?? "http://127.0.0.1:4000";
  const site = await startExampleSite({ port: Number(process.env.PORT ?? 8080), endpoint });
  console.log(`example shop on ${site.url} (banner from ${endpoint}; start the service with CORS_ORIGINS=${site.url.replace(/\/$/, "")})`);
}
