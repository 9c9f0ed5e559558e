// npm run test:mutation [-- <target>... <stryker run options>]: runs StrykerJS (stryker.config.mjs) once
// per target named (scripts/mutation-targets.mjs; default: domain), then writes the summary of its JSON
// report: the target's summary file for a run over every file of the target, or
// reports/mutation/<target>/MUTATION.md for a narrower one (`-- domain --mutate src/domain/time.ts`). A run
// fails when any mutated file scores below GATE.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { pathToFileURL } from "node:url";
import ts from "typescript";
import { DEFAULT_TARGET, TARGETS } from "./mutation-targets.mjs";

/** Where StrykerJS writes a target's JSON report (stryker.config.mjs). */
const reportOf = (target) => `reports/mutation/${target}/mutation.json`;

/** The least mutation score, in percent, each mutated file must reach (stryker's `thresholds.break` holds the whole run to it too). */
export const GATE = 90;

/** Mutant states that count towards the score (compile errors and ignored mutants do not). */
const DETECTED = new Set(["Killed", "Timeout"]);
const UNDETECTED = new Set(["Survived", "NoCoverage"]);

/**
 * The source ranges that are only the text of an error: the message of `badInput(message, …)` and
 * of `new LedgerError(code, message, …)`. A mutant wholly inside one changes nothing but the words.
 */
export function messageRanges(fileName, source) {
  const sf = ts.createSourceFile(fileName, source, ts.ScriptTarget.Latest, true);
  const ranges = [];
  const visit = (node) => {
    let message;
    if (ts.isCallExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === "badInput") message = node.arguments[0];
    if (ts.isNewExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === "LedgerError") message = node.arguments?.[1];
    if (message) ranges.push([message.getStart(sf), message.getEnd()]);
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return { sf, ranges };
}

/** Whether a mutant (1-based lines and columns) lies wholly inside an error message. */
function isMessageMutant(mutant, { sf, ranges }) {
  const at = (p) => sf.getPositionOfLineAndCharacter(p.line - 1, p.column - 1);
  const start = at(mutant.location.start);
  const end = at(mutant.location.end);
  return ranges.some(([from, to]) => start >= from && end <= to);
}

const emptyCounts = () => ({ killed: 0, timeout: 0, survived: 0, noCoverage: 0, compileError: 0, runtimeError: 0, ignored: 0 });
const KEY = { Killed: "killed", Timeout: "timeout", Survived: "survived", NoCoverage: "noCoverage", CompileError: "compileError", RuntimeError: "runtimeError", Ignored: "ignored" };

function add(counts, status) {
  const k = KEY[status];
  if (k) counts[k] += 1;
}

/** The mutation score in percent: detected over detected plus undetected; null when nothing counts. */
export function score(c) {
  const detected = c.killed + c.timeout;
  const valid = detected + c.survived + c.noCoverage;
  return valid === 0 ? null : (100 * detected) / valid;
}

/** Per-file and total counts, with and without the mutants that only touch an error message. */
export function tally(report) {
  const files = [];
  const all = { all: emptyCounts(), code: emptyCounts(), messages: 0 };
  const undetected = [];
  const ignored = [];
  for (const [name, file] of Object.entries(report.files).sort(([a], [b]) => a.localeCompare(b))) {
    const msg = messageRanges(name, file.source);
    const row = { name, all: emptyCounts(), code: emptyCounts(), messages: 0 };
    for (const m of file.mutants) {
      const message = isMessageMutant(m, msg);
      add(row.all, m.status);
      add(all.all, m.status);
      if (message) {
        row.messages += 1;
        all.messages += 1;
      } else {
        add(row.code, m.status);
        add(all.code, m.status);
      }
      if (UNDETECTED.has(m.status)) undetected.push({ file: name, message, ...m });
      if (m.status === "Ignored") ignored.push({ file: name, ...m });
    }
    files.push(row);
  }
  return { files, total: { name: "all files", ...all }, undetected, ignored };
}

const checkerOf = (report) => ((report.config?.checkers ?? []).includes("typescript") ? "TypeScript checker" : "no type checker");
const pct = (x) => (x === null ? "n/a" : `${x.toFixed(1)}%`);
const cell = (s) => String(s).replace(/\|/g, "\\|").replace(/\s+/g, " ");
const where = (m) => `${m.file}:${m.location.start.line}:${m.location.start.column}`;

/** MUTATION.md: the score per file with and without message mutants, the date, the commit, the survivors. */
export function summarize(report, { date, commit, mutate, tests, target }) {
  const { files, total, undetected, ignored } = tally(report);
  const row = (r) => {
    const c = r.all;
    return `| ${r.name} | ${c.killed + c.timeout + c.survived + c.noCoverage} | ${c.killed} | ${c.timeout} | ${c.survived} | ${c.noCoverage} | ${c.compileError} | ${c.ignored} | ${pct(score(c))} | ${r.messages} | ${pct(score(r.code))} |`;
  };
  const lines = [
    "# Mutation testing",
    "",
    `Written by \`npm run test:mutation -- ${target}\` (StrykerJS ${report.framework?.version ?? ""}, vitest runner, ${checkerOf(report)}, \`perTest\` coverage) from ${reportOf(target)}; do not edit by hand.`,
    "",
    `- date: ${date}`,
    `- commit: ${commit}`,
    `- mutated: ${mutate.map((m) => `\`${m}\``).join(", ")}`,
    `- tests: ${tests.map((t) => `\`${t}\``).join(", ")} (vitest.mutation.config.ts, no PostgreSQL)`,
    `- gate: every file at least ${GATE}%`,
    "",
    "The score counts killed and timed-out mutants over those plus survived and uncovered ones;",
    "mutants that do not compile and those marked `Stryker disable` (each with its reason) do not count.",
    "*Message mutants* change only the words of an error (the message argument of `badInput` or",
    "`new LedgerError`); the last column leaves them out.",
    "",
    "| file | mutants | killed | timeout | survived | no coverage | compile errors | ignored | score | message mutants | score without messages |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...files.map(row),
    row({ ...total, name: "**all files**" }),
    "",
    `## Undetected mutants (${undetected.length})`,
    "",
  ];
  if (undetected.length === 0) lines.push("None.");
  else {
    lines.push("| where | mutator | status | message only | replacement |", "| --- | --- | --- | --- | --- |");
    for (const m of undetected) lines.push(`| ${where(m)} | ${m.mutatorName} | ${m.status} | ${m.message ? "yes" : "no"} | \`${cell(m.replacement ?? "").slice(0, 120)}\` |`);
  }
  lines.push("", `## Ignored mutants (${ignored.length})`, "");
  if (ignored.length === 0) lines.push("None.");
  else {
    lines.push("| where | mutator | why |", "| --- | --- | --- |");
    for (const m of ignored) lines.push(`| ${where(m)} | ${m.mutatorName} | ${cell(m.statusReason ?? "")} |`);
  }
  return `${lines.join("\n")}\n`;
}

function git(...args) {
  try {
    return execFileSync("git", args, { encoding: "utf8" }).trim();
  } catch {
    return "";
  }
}

/** The files below the gate (their score over all counted mutants), as `name score` lines. */
export function belowGate(report, gate = GATE) {
  return tally(report)
    .files.filter((r) => score(r.all) !== null && score(r.all) < gate)
    .map((r) => `${r.name} ${pct(score(r.all))}`);
}

/** Splits the arguments into the targets named first and the options passed on to stryker. */
export function parseArgs(args) {
  const targets = [];
  let i = 0;
  for (; i < args.length && !args[i].startsWith("-"); i++) {
    if (!(args[i] in TARGETS)) throw new Error(`unknown mutation target "${args[i]}"; known: ${Object.keys(TARGETS).join(", ")}`);
    targets.push(args[i]);
  }
  return { targets: targets.length > 0 ? targets : [DEFAULT_TARGET], options: args.slice(i) };
}

/** Runs one target; returns whether it met the gate. */
function runTarget(name, options) {
  const target = TARGETS[name];
  const narrowed = options.some((a) => a === "--mutate" || a === "-m" || a.startsWith("--mutate="));
  // The commit is read before the run: Stryker tests a copy of the tree taken when it starts.
  const head = git("rev-parse", "HEAD") || "unknown";
  const dirty = git("status", "--porcelain", "--", "src", "test") !== "";
  const started = Date.now();
  process.stdout.write(`\n== mutation target ${name}: ${target.mutate.join(", ")}\n`);
  const stryker = spawnSync(process.execPath, ["node_modules/@stryker-mutator/core/bin/stryker.js", "run", ...options], {
    stdio: "inherit",
    env: { ...process.env, MUTATION_TARGET: name },
  });
  // Stryker exits non-zero below its break threshold after writing its report; anything else is a failed run.
  const REPORT = reportOf(name);
  if (!existsSync(REPORT) || statSync(REPORT).mtimeMs < started) process.exit(stryker.status || 1);
  const report = JSON.parse(readFileSync(REPORT, "utf8"));
  const mutate = narrowed ? Object.keys(report.files) : target.mutate;
  const out = narrowed ? `reports/mutation/${name}/MUTATION.md` : target.summary;
  const md = summarize(report, {
    date: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
    commit: dirty ? `${head} with uncommitted changes to src/ or test/` : head,
    mutate,
    tests: target.tests,
    target: name,
  });
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, md);
  process.stdout.write(`Mutation summary written to ${out}\n`);
  const below = belowGate(report);
  if (below.length > 0) process.stderr.write(`Below the ${GATE}% gate:\n${below.map((b) => `  ${b}\n`).join("")}`);
  return below.length === 0 && stryker.status === 0;
}

function main() {
  const { targets, options } = parseArgs(process.argv.slice(2));
  let ok = true;
  for (const name of targets) ok = runTarget(name, options) && ok;
  if (!ok) process.exit(1);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) main();
