// Builds the preference centre, the officer console and the dev-mode GraphQL explorer into dist/web; the service serves them.
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";
import { PAGES, pageShell } from "./page-shell.js";

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

export const webBuildConfig = defineConfig({
  root: here("."),
  // The service serves /preferences and /console, and the hashed assets under /web/assets/.
  base: "/web/",
  publicDir: false,
  plugins: [pageShell()],
  build: {
    outDir: here("../../dist/web"),
    emptyOutDir: true,
    target: "es2022",
    sourcemap: false,
    // No inline scripts or styles: the CSP allows only files from this origin.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    rollupOptions: {
      // GraphiQL's React components carry "use client" directives, which mean nothing in this bundle.
      onwarn(warning, warn) {
        if (warning.code !== "MODULE_LEVEL_DIRECTIVE") warn(warning);
      },
      input: Object.fromEntries(Object.keys(PAGES).map((page) => [page, here(`${page}/index.html`)])),
    },
  },
});

// Vite reads a config module's default export.
export default webBuildConfig;
