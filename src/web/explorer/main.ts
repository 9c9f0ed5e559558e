// GraphiQL, bundled from npm and served by the service itself in dev mode at GET /graphql (a browser's
// Accept: text/html): nothing is loaded from another origin. Requests are JSON POSTs to /graphql with
// the token pasted into the Headers tab, so CSRF prevention is untouched.
import "graphiql/setup-workers/vite";
import "graphiql/style.css";
import { createGraphiQLFetcher } from "@graphiql/toolkit";
import { GraphiQL } from "graphiql";
import { createElement } from "react";
import { createRoot } from "react-dom/client";

const HEADERS = `{
  "Authorization": "Bearer <paste the output of: npm run token -- --sub me --scope \\"consent:self\\">"
}`;

const QUERY = `# Every request needs a token: paste one into the Headers tab below.
# Dev mode only; \`npm run token -- --help\` lists the scopes.
query Me {
  me {
    id
    status
    version
  }
}
`;

const url = new URL("/graphql", location.href);
const wsUrl = new URL(url);
wsUrl.protocol = location.protocol === "https:" ? "wss:" : "ws:";

const fetcher = createGraphiQLFetcher({ url: url.href, subscriptionUrl: wsUrl.href });
const root = document.getElementById("explorer");
if (root) createRoot(root).render(createElement(GraphiQL, { fetcher, defaultHeaders: HEADERS, defaultQuery: QUERY, shouldPersistHeaders: false }));
