// Builds the browser files the service serves: consent.js (the client, ESM) and banner.js (the custom
// elements, one classic script), minified, into <outDir> (default ../dist/web/sdk); prints gzipped sizes.
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { build } from "vite";

const here = dirname(fileURLToPath(import.meta.url));
const outDir = resolve(process.argv[2] ?? join(here, "../dist/web/sdk"));

const bundles = [
  { entry: "src/index.ts", file: "consent.js", formats: ["es"] },
  { entry: "src/banner.ts", file: "banner.js", formats: ["iife"], name: "ConsentBanner" },
];
for (const b of bundles) {
  await build({
    configFile: false,
    root: here,
    logLevel: "warn",
    publicDir: false,
    build: {
      outDir,
      emptyOutDir: false,
      target: "es2020",
      minify: true,
      sourcemap: false,
      lib: { entry: join(here, b.entry), formats: b.formats, fileName: () => b.file, ...(b.name ? { name: b.name } : {}) },
    },
  });
}
for (const b of bundles) {
  const body = readFileSync(join(outDir, b.file));
  console.log(`${b.file}: ${body.length} bytes, ${gzipSync(body, { level: 9 }).length} bytes gzipped`);
}
