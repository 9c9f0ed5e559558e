// The document around each page: what every page's head carries (character set, viewport, referrer
// policy, no icon request), its language and title, and the site header the Japanese pages share.
// Each page's index.html holds only its own body; Vite builds the whole document from this.
import type { Plugin } from "vite";

interface Page {
  lang: "ja" | "en";
  title: string;
  /** The site header's heading, with the skip link before it; none: the page has no site header. */
  heading?: string;
}

/** The pages by folder; each folder holds index.html (the body) and main.ts (the page's script). */
export const PAGES: Record<string, Page> = {
  preferences: { lang: "ja", title: "プライバシー設定", heading: "プライバシー設定" },
  console: { lang: "ja", title: "同意台帳 管理コンソール", heading: "同意台帳 管理コンソール" },
  explorer: { lang: "en", title: "Consent ledger — GraphQL explorer (dev mode)" },
};

const siteHeader = (heading: string): string[] => [
  '<a class="skip" href="#main">本文へ移動</a>',
  '<header class="site">',
  `  <h1>${heading}</h1>`,
  '  <div id="account" class="account"></div>',
  "</header>",
];

/** The whole document of `page` around `body` (its index.html, a leading comment left out). */
export function pageDocument(page: Page, body: string): string {
  const own = body.replace(/^\s*<!--[\s\S]*?-->/, "").trim().split("\n");
  const bodyLines = [...(page.heading ? siteHeader(page.heading) : []), ...own].map((line) => `    ${line}`);
  return [
    "<!doctype html>",
    `<html lang="${page.lang}">`,
    "  <head>",
    '    <meta charset="utf-8" />',
    '    <meta name="viewport" content="width=device-width, initial-scale=1" />',
    '    <meta name="referrer" content="no-referrer" />',
    `    <title>${page.title}</title>`,
    '    <link rel="icon" href="data:," />',
    '    <script type="module" src="./main.ts"></script>',
    "  </head>",
    "  <body>",
    ...bodyLines,
    "  </body>",
    "</html>",
    "",
  ].join("\n");
}

/** Vite plugin: turns each page's index.html (its body) into the whole document before Vite reads it. */
export function pageShell(): Plugin {
  return {
    name: "consent-ledger-page-shell",
    transformIndexHtml: {
      order: "pre",
      handler(html, ctx) {
        const folder = ctx.filename.split(/[\\/]/).at(-2) ?? "";
        const page = PAGES[folder];
        if (!page) throw new Error(`${ctx.filename} is not one of the pages (${Object.keys(PAGES).join(", ")})`);
        return pageDocument(page, html);
      },
    },
  };
}
