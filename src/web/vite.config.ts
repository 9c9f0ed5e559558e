// Builds the preference centre, the officer console and the dev-mode GraphQL explorer into dist/web; the service serves them.
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

export const webBuildConfig = defineConfig({
  root: here("."),
  // The service serves /preferences and /console, and the hashed assets under /web/assets/.
  base: "/web/",
  publicDir: false,
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
      input: { preferences: here("preferences/index.html"), console: here("console/index.html"), explorer: here("explorer/index.html") },
    },
  },
});

// Vite reads a config module's default export.
export default webBuildConfig;
