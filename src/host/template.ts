/** Explicit `@@NAME@@` placeholder substitution for the fixed .sh templates, the `@@RULES …@@` line and the shared includes. */
import * as rules from "../rules.ts";
import * as runDir from "./run-dir.ts";
import { checkRunId, checkRunRef, checkAbsolutePath, checkStringSetting, RUN_YOUNG_GRACE_S } from "../rules.ts";
import resultRecord from "./result-record.sh";
import runLiveness from "./run-liveness.sh";
import fileField from "./file-field.sh";
import runRef from "./run-ref.sh";
import safeRoot from "./safe-root.sh";
import runsRoot from "./runs-root.sh";
import { shellQuote } from "./shell-quote.ts";

const PLACEHOLDER = /@@([A-Z0-9_]+)@@/g;
/** `# @@RULES NAME…@@`: a whole template line naming exports of src/rules.ts. */
const RULES_LINE = /^# @@RULES((?: [A-Z][A-Z0-9_]*)+)@@$/gm;

/** Characters an escape may quote outside a bracket expression, in JS and POSIX ERE alike (`/` only in JS). */
const ESCAPABLE = "/^$.*+?()[]{}|\\";

/**
 * The POSIX ERE (bash `[[ =~ ]]`, `grep -E`) matching exactly the strings `re` matches: its source with `\/`
 * unescaped. Anything whose meaning differs between the two (a flag, `.`, `\d`, `(?`, lazy quantifiers, a
 * backslash or `[` inside `[…]`, an empty `[]`, a non-ASCII character) is refused, so a rule is never silently
 * translated into another one. Bracket ranges are ASCII: the scripts compare in the C locale.
 */
export function toBashRegex(re: RegExp): string {
  const src = re.source;
  const refuse = (why: string): never => {
    throw new Error(`rule /${src}/${re.flags} cannot be used in bash: ${why}`);
  };
  if (re.flags !== "") refuse(`flags '${re.flags}' have no POSIX equivalent`);
  let out = "";
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!;
    const next = src[i + 1] ?? "";
    if (c < " " || c > "~") refuse("only printable ASCII is allowed");
    if (c === "\\") {
      if (!ESCAPABLE.includes(next) || next === "") refuse(`'\\${next}' is not an escaped ERE special character`);
      out += next === "/" ? "/" : c + next;
      i++;
    } else if (c === "[") {
      const end = src.indexOf("]", i + 1);
      const body = src.slice(next === "^" ? i + 2 : i + 1, end);
      if (end < 0 || body === "" || /[\\[]/.test(body)) refuse("a bracket expression must be non-empty, without '\\' or '['");
      out += src.slice(i, end + 1);
      i = end;
    } else if (c === ".") {
      refuse("'.' excludes newlines in JS only; write a bracket expression");
    } else if (c === "(" && next === "?") {
      refuse("'(?' groups are JS-only");
    } else if (c === "{" && !/^\{[0-9]+(,[0-9]+)?\}/.test(src.slice(i))) {
      refuse("a '{' must start a bound {m} or {m,n}");
    } else {
      if ("*+?}".includes(c) && "*+?{".includes(next) && next !== "") refuse("stacked or lazy quantifiers differ between JS and POSIX");
      out += c;
    }
  }
  return out;
}

/** An export of src/rules.ts or of the run-directory contract (src/host/run-dir.ts); a name in both is a bug. */
function ruleValue(name: string): unknown {
  const inRules = Object.hasOwn(rules, name);
  if (inRules && Object.hasOwn(runDir, name)) throw new Error(`${name} is declared in both src/rules.ts and src/host/run-dir.ts`);
  return ((inRules ? rules : runDir) as Readonly<Record<string, unknown>>)[name];
}

/**
 * The bash assignment of one rule of src/rules.ts or src/host/run-dir.ts: `UCI_RE_<NAME>='<ERE>'` for a RegExp,
 * `UCI_<NAME>=<n>` for an integer, `UCI_<NAME>='<text>'` for a string.
 */
export function ruleAssignment(name: string): string {
  const rule = ruleValue(name);
  if (rule instanceof RegExp) return `UCI_RE_${name}=${shellQuote(toBashRegex(rule))}`;
  if (typeof rule === "number" && Number.isSafeInteger(rule)) return `UCI_${name}=${rule}`;
  if (typeof rule === "string") return `UCI_${name}=${shellQuote(rule)}`;
  throw new Error(`@@RULES@@: ${name} is not a RegExp or integer rule of src/rules.ts, nor a string or integer of src/host/run-dir.ts`);
}

/** `@@=NAME@@`: a contract word written in place (any number of times), for scripts that count their bytes. */
const CONTRACT_WORD = /@@=([A-Z][A-Z0-9_]*)@@/g;
/** What `@@=NAME@@` may stand for: a word bash reads the same quoted or not, in any context. */
const BARE_WORD = /^[A-Za-z0-9._/-]+$/;

/**
 * Writes each `@@=NAME@@` of `text` as the value of NAME (an integer or a string of src/rules.ts or
 * src/host/run-dir.ts), unquoted: only values of letters, digits, `.`, `_`, `/` and `-` are allowed, so the word
 * means the same inside double quotes, in a pattern or bare, and the rendered script is as long as a literal.
 */
export function withContractWords(text: string, templateName: string): string {
  return text.replace(CONTRACT_WORD, (_match, name: string) => {
    const value = ruleValue(name);
    const word = typeof value === "number" && Number.isSafeInteger(value) ? String(value) : value;
    if (typeof word !== "string" || !BARE_WORD.test(word)) throw new Error(`${templateName}: @@=${name}@@ is not a bare-word string or integer of src/rules.ts or src/host/run-dir.ts`);
    return word;
  });
}

/** A run of a regex at least this long that a rule assigned earlier in the script holds is taken from it. */
const SHARED_RUN_MIN = 40;

/** Where `text` and `earlier` share their longest run: its start in each and its length (rules are short). */
function longestShared(text: string, earlier: string): { start: number; at: number; length: number } {
  let best = { start: 0, at: 0, length: 0 };
  for (let i = 0; i < text.length; i++) {
    for (let j = 0; j < earlier.length; j++) {
      let n = 0;
      while (i + n < text.length && text[i + n] === earlier[j + n]) n++;
      if (n > best.length) best = { start: i, at: j, length: n };
    }
  }
  return best;
}

/**
 * Every `# @@RULES NAME…@@` line of `text` replaced by one assignment per named rule ({@link ruleAssignment}). A
 * regex that repeats a long run of one assigned before it in the script (the port alternation HTTPS_REPO and
 * PROXY_URL share) takes that run from the earlier variable, `'…'"${UCI_RE_X:offset:length}"'…'`: bash assigns
 * the very same text, and the launcher's 8 KiB carry the run once. Offsets count UTF-16 units and bash counts
 * characters (bytes in the C locale): they agree because {@link toBashRegex} admits printable ASCII only.
 */
function withRules(text: string): string {
  const assigned: [string, string][] = [];
  const rule = (name: string): string => {
    const value = ruleValue(name);
    if (!(value instanceof RegExp)) return ruleAssignment(name);
    const re = toBashRegex(value);
    const shared = assigned.map(([from, earlier]) => ({ from, ...longestShared(re, earlier) })).reduce((a, b) => (b.length > a.length ? b : a), { from: "", start: 0, at: 0, length: 0 });
    assigned.push([name, re]);
    if (shared.length < SHARED_RUN_MIN) return ruleAssignment(name);
    const part = (t: string) => (t === "" ? "" : shellQuote(t));
    return `UCI_RE_${name}=${part(re.slice(0, shared.start))}"\${UCI_RE_${shared.from}:${shared.at}:${shared.length}}"${part(re.slice(shared.start + shared.length))}`;
  };
  return text.replace(RULES_LINE, (_line, names: string) => names.trim().split(" ").map(rule).join("\n"));
}

/**
 * Compacts a script for sending: past its three-line header, no comment line (the `# @@RULES …@@` line stays, to
 * be expanded), no blank line and no indentation. The launcher's source keeps them, docs/launcher.md says what it
 * does, and the rendered launcher must fit LAUNCHER_MAX_BYTES. It has no multi-line string or heredoc, so only
 * whitespace that means nothing to bash goes.
 */
export function compactScript(text: string): string {
  const lines = text.split("\n");
  return [...lines.slice(0, 3), ...lines.slice(3).map((line) => line.trimStart()).filter((line) => line !== "" && !/^#(?! @@RULES )/.test(line))].join("\n") + "\n";
}

/**
 * A host script with everything but its per-run values put in: its shared includes, its contract words
 * (`@@=NAME@@`), the launcher compacted, its rules. The bundle carries its scripts prepared at build time
 * (build/packed.ts), so none of this runs when an operator runs a command; from sources {@link prepared} does it.
 */
export function prepareScript(template: string, templateName: string): string {
  const text = withContractWords(withIncludes(template, templateName), templateName);
  return withRules(templateName === "launcher.sh" ? compactScript(text) : text);
}

declare const __UNIDESK_CI_PACKED__: boolean | undefined;

/** `template` ready for {@link fillTemplate}: in the bundle it already is (build/packed.ts); from sources it is prepared here. */
export function prepared(template: string, templateName: string): string {
  return typeof __UNIDESK_CI_PACKED__ === "boolean" ? template : prepareScript(template, templateName);
}

/**
 * Replaces every `@@NAME@@` of a prepared script ({@link prepared}) by `shellQuote(values[NAME])` in one pass
 * (values are never rescanned). Each name must occur exactly once and every placeholder must have a value, so an
 * unreplaced placeholder is impossible; a mismatch is a bug in the template, not an operator error.
 */
export function fillTemplate(template: string, values: Readonly<Record<string, string>>, templateName: string): string {
  const seen = new Map<string, number>();
  const out = template.replace(PLACEHOLDER, (_match, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`${templateName}: placeholder @@${name}@@ has no value`);
    seen.set(name, (seen.get(name) ?? 0) + 1);
    return shellQuote(value);
  });
  for (const name of Object.keys(values)) {
    const count = seen.get(name) ?? 0;
    if (count !== 1) throw new Error(`${templateName}: placeholder @@${name}@@ occurs ${count} times, expected exactly once`);
  }
  // Validated values never hold "@@", so any left here would be a template bug.
  if (/@@[A-Z0-9_ ]+@@/.test(out)) throw new Error(`${templateName}: an unreplaced placeholder remains`);
  return out;
}

/**
 * The shared bash functions a host script puts in at a `# uci:include <name>` line, each with its rules already
 * filled in: result-record.sh (how result.json is reported), run-liveness.sh (the runner's liveness rule),
 * file-field.sh (a small file as a base64 field), safe-root.sh (a root no other user can change) and runs-root.sh
 * (with safe-root.sh: the readers' runs root, proven and canonical, and the unsafe record), run-ref.sh (the runs' order, `@latest`, the last green run).
 */
const INCLUDES: Readonly<Record<string, () => string>> = {
  "file-field.sh": () => fileField,
  "result-record.sh": () => resultRecord,
  "safe-root.sh": () => safeRoot,
  // The readers' root check is the launcher's (uci_safe), never a copy.
  "runs-root.sh": () => `${safeRoot}\n${runsRoot}`,
  "run-liveness.sh": () => fillTemplate(runLiveness, { RUN_YOUNG_GRACE_S: String(RUN_YOUNG_GRACE_S) }, "run-liveness.sh"),
  "run-ref.sh": () => runRef,
};

const INCLUDE_LINE = /^# uci:include (\S+)\n/gm;

/** Replaces each `# uci:include <name>` line of a template by that shared file (at most once each; an unknown name is a template bug). */
export function withIncludes(template: string, templateName: string): string {
  const seen = new Set<string>();
  return template.replace(INCLUDE_LINE, (_line, name: string) => {
    const include = Object.hasOwn(INCLUDES, name) ? INCLUDES[name] : undefined;
    if (include === undefined) throw new Error(`${templateName}: unknown include ${name}`);
    if (seen.has(name)) throw new Error(`${templateName}: ${name} is included twice`);
    seen.add(name);
    return withContractWords(include(), name);
  });
}

/**
 * Fills a per-run host script (status/logs reader, cancel): puts in its includes, checks runsRoot and runId, then
 * substitutes them and `extra`.
 */
export function fillRunTemplate(template: string, templateName: string, where: { runsRoot: string; runId: string }, extra: Readonly<Record<string, string>> = {}): string {
  checkStringSetting("runsRoot", where.runsRoot, checkAbsolutePath);
  const script = prepared(template, templateName);
  // A script that includes run-ref.sh resolves @latest / @latest-failed itself; the others take run ids only.
  checkStringSetting("runId", where.runId, script.includes("\nuci_resolve_ref() {") ? checkRunRef : checkRunId);
  return fillTemplate(script, { RUNS_ROOT: where.runsRoot, RUN_ID: where.runId, ...extra }, templateName);
}
