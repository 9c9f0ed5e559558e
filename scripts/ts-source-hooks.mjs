// Module hooks that let a worker thread run the TypeScript sources directly (the test suite runs
// them uncompiled; Node 20 cannot strip types). Type stripping uses the transformer vite ships;
// decorators compile as tsc compiles them (legacy, with their metadata, which type-graphql reads),
// calling the helpers ts-source-register.mjs defines.
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { transformSync } from "rolldown/experimental";

/** A relative `./x.js` import from a .ts file names `./x.ts` (NodeNext style). */
export async function resolve(specifier, context, next) {
  if (context.parentURL?.endsWith(".ts") && /^\.\.?\//.test(specifier) && specifier.endsWith(".js")) {
    const ts = new URL(specifier.replace(/\.js$/, ".ts"), context.parentURL);
    if (existsSync(fileURLToPath(ts))) return { url: ts.href, shortCircuit: true };
  }
  return next(specifier, context);
}

export async function load(url, context, next) {
  if (!url.endsWith(".ts")) return next(url, context);
  const path = fileURLToPath(url);
  const r = transformSync(path, await readFile(path, "utf8"), { sourcemap: false, decorator: { legacy: true, emitDecoratorMetadata: true }, helpers: { mode: "External" } });
  if (r.errors?.length) throw new Error(`${path}: ${r.errors.map((e) => e.message).join("; ")}`);
  return { format: "module", source: r.code, shortCircuit: true };
}
