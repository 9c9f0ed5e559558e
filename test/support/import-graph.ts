// Every module a TypeScript file names, read with the compiler's own parser: static imports and
// re-exports (type-only or not, any quotes), side-effect imports, dynamic import(), require() and
// `import x = require()`; and the dependency rules of src/ checked against them.
import { readFileSync, readdirSync, statSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";
import ts from "typescript";

/** One module a file names, as written and (for relative ones) resolved to a path under the root. */
export interface ImportEdge {
  from: string;
  specifier: string;
  /** The imported file relative to the root (".js" read as ".ts"); null for a package or builtin. */
  target: string | null;
}

/** The modules `text` (the source of `file`, a path relative to the root) names, in source order. */
export function importsOf(file: string, text: string): ImportEdge[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const out: ImportEdge[] = [];
  const add = (node: ts.Node | undefined) => {
    if (!node || !ts.isStringLiteralLike(node)) return;
    const specifier = node.text;
    const target = specifier.startsWith(".") ? normalize(join(dirname(file), specifier)).replace(/\.js$/, ".ts") : null;
    out.push({ from: file, specifier, target });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) add(node.moduleSpecifier);
    else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) add(node.moduleReference.expression);
    else if (ts.isCallExpression(node)) {
      const callee = node.expression;
      if (callee.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(callee) && callee.text === "require")) add(node.arguments[0]);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) add(node.argument.literal);
    ts.forEachChild(node, visit);
  };
  visit(source);
  return out;
}

/** The part of src/ a file belongs to: its top folder, or its own name for a file at the top. */
export function partOf(file: string): string {
  const rel = relative("src", file);
  const parts = rel.split(/[\\/]/);
  if (parts[0] === "storage" && parts.length > 2) return `storage/${parts[1]}`; // an adapter
  return parts.length > 1 ? parts[0]! : parts[0]!.replace(/\.ts$/, "");
}

export interface Rule {
  /** The parts of src/ this part may import (itself always allowed). */
  parts: readonly string[];
  /** Packages it may import besides node: builtins. */
  packages: RegExp | null;
}

/** The offences against `rules` among `edges`; a part without a rule may import anything but what `forbidden` says. */
export function offences(edges: readonly ImportEdge[], rules: Readonly<Record<string, Rule>>, forbidden: readonly ((e: ImportEdge) => string | null)[] = []): string[] {
  const out: string[] = [];
  for (const e of edges) {
    for (const f of forbidden) {
      const why = f(e);
      if (why) out.push(`${e.from} imports ${e.specifier}: ${why}`);
    }
    const rule = rules[partOf(e.from)];
    if (!rule || e.specifier.startsWith("node:")) continue;
    if (e.target === null) {
      if (!rule.packages?.test(e.specifier)) out.push(`${e.from} imports the package ${e.specifier}`);
      continue;
    }
    if (!e.target.startsWith(`src${"/"}`)) {
      out.push(`${e.from} imports ${e.specifier}, outside src/`);
      continue;
    }
    const to = partOf(e.target);
    if (to !== partOf(e.from) && !rule.parts.includes(to)) out.push(`${e.from} (${partOf(e.from)}) imports ${e.specifier} (${to})`);
  }
  return out;
}

/** Every .ts file under `dir`. */
export function sourcesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? sourcesUnder(p) : p.endsWith(".ts") ? [p] : [];
  });
}

/** The import edges of every file under `dir`, read from disk. */
export const edgesUnder = (dir: string): ImportEdge[] => sourcesUnder(dir).flatMap((f) => importsOf(f, readFileSync(f, "utf8")));
