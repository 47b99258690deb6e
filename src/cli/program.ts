/** Joins the command parsers and runs them with injected IO: help, version, completions and usage errors. */
import { formatDocPage, formatMessage, getDocPage, or, parse, suggest, type InferValue, type Parser } from "@optique/core";
import type { Env } from "../env.ts";
import { toFailure, UsageError } from "../errors.ts";
import { errorDocument } from "../io/json.ts";
import { outputFor } from "../io/output.ts";
import { renderFailure } from "../io/render-error.ts";
import { guardTerminalText, ownSequence } from "../io/terminal.ts";
import { redactSecrets } from "../redact.ts";
import { lazy } from "./lazy.ts";
import { foldRepeated } from "./common.ts";
import { EXIT_CODES, OVERVIEW_HELP, metaOutput } from "./meta.ts";
import { runDevE2eCommand, runRunDevE2e } from "./run-dev-e2e.ts";
import { logsCommand, runLogs } from "./logs.ts";
import { cancelCommand, runCancel } from "./cancel.ts";
import { doctorCommand, runDoctor } from "./doctor.ts";
import { runRuns, runsCommand } from "./runs.ts";
import { reportCommand, runReport } from "./report.ts";
import { runValidate, validateCommand } from "./validate.ts";
import { runSchema, schemaCommand } from "./schema.ts";
import { COMPLETION_SHELLS, completionScript, type CompletionShell, renderSuggestions, runNameCandidates } from "./completions.ts";

/** The program name shown in help and completions. */
export const PROGRAM = "unidesk-ci";

/** All commands that take options (help, --version and completions are handled here, before parsing). */
export const programParser = lazy(() => or(runDevE2eCommand(), logsCommand(), cancelCommand(), doctorCommand(), runsCommand(), validateCommand(), schemaCommand(), reportCommand()));

/** Each command's parser by name. */
const COMMAND_PARSERS: Record<string, () => Parser<"sync", ProgramOptions, unknown>> = { "run-dev-e2e": runDevE2eCommand, logs: logsCommand, cancel: cancelCommand, doctor: doctorCommand, runs: runsCommand, validate: validateCommand, schema: schemaCommand, report: reportCommand };

/** Parsed options of any command. */
export type ProgramOptions = InferValue<ReturnType<typeof programParser>>;

/** Commands parsed by {@link programParser}. */
export const COMMANDS = ["run-dev-e2e", "logs", "cancel", "doctor", "runs", "validate", "schema", "report"];

/** What parsing produced: options to run, nothing (help, version or completion was printed), or a Tab that may need the run's names. */
export type ParseOutcome = { kind: "run"; options: ProgramOptions } | { kind: "shown" } | { kind: "complete"; shell: CompletionShell; words: string[] };

const SHOWN = { kind: "shown" } as const;

/** The text of `--help` for a command, or the overview when `command` is undefined. */
export function helpText(command: string | undefined, color: boolean): string {
  if (command === undefined) return OVERVIEW_HELP;
  const page = getDocPage(programParser(), [command]);
  const body = page ? formatDocPage(PROGRAM, page, { colors: color, maxWidth: HELP_WIDTH }) : "";
  return `${tidyHelp(body).trimEnd()}\n\n${EXIT_CODES}`;
}

/** The width help pages are rendered at. */
export const HELP_WIDTH = 110;

const ANSI = /\x1b\[[0-9;]*m/g;
const USAGE_INDENT = " ".repeat("Usage: ".length);

/**
 * A help page without trailing spaces, its usage wrapped between bracketed terms (Optique breaks inside
 * `[--flag VALUE]`): the usage lines are joined, cut into top-level terms, and wrapped again at {@link HELP_WIDTH}.
 */
export function tidyHelp(page: string): string {
  const lines = page.split("\n").map((l) => l.replace(/[ \t]+((?:\x1b\[[0-9;]*m)*)$/, "$1"));
  const start = lines.findIndex((l) => l.replace(ANSI, "").startsWith("Usage: "));
  if (start < 0) return lines.join("\n");
  let end = start + 1;
  while (end < lines.length && lines[end]!.replace(ANSI, "").startsWith(USAGE_INDENT) && lines[end]!.trim() !== "") end++;
  const joined = lines.slice(start, end).map((l, i) => (i === 0 ? l : l.replace(/^ +/, ""))).reduce((a, l) => (/\[(?:\x1b\[[0-9;]*m)*$/.test(a) ? a + l : `${a} ${l}`));
  return [...lines.slice(0, start), ...wrapTerms(joined), ...lines.slice(end)].join("\n");
}

/** A usage line cut between its top-level terms (spaces at bracket depth 0), wrapped with the `Usage: ` indent. */
function wrapTerms(usage: string): string[] {
  const terms: string[] = [];
  let depth = 0;
  let term = "";
  for (let i = 0; i < usage.length; i++) {
    const esc = /^\x1b\[[0-9;]*m/.exec(usage.slice(i));
    if (esc) {
      term += esc[0];
      i += esc[0].length - 1;
      continue;
    }
    const c = usage[i]!;
    if (c === "[" || c === "(") depth++;
    else if (c === "]" || c === ")") depth = Math.max(0, depth - 1);
    if (c === " " && depth === 0) {
      if (term) terms.push(term);
      term = "";
    } else term += c;
  }
  if (term) terms.push(term);
  const width = (s: string) => s.replace(ANSI, "").length;
  const out: string[] = [];
  let line = "";
  for (const t of terms) {
    if (line && width(line) + 1 + width(t) > HELP_WIDTH) {
      out.push(line);
      line = USAGE_INDENT + t;
    } else line = line ? `${line} ${t}` : t;
  }
  if (line) out.push(line);
  return out;
}

/** Prints a help page: as text, or with `--json` as `{ ok: true, command, help }` (the same text, no color). */
function showHelp(command: string | undefined, json: boolean, env: Env): void {
  outputFor(env, { json }).result(
    () => ({ ok: true, command: command ?? null, help: command === "completions" ? COMPLETIONS_HELP : helpText(command, false) }),
    // Optique's colours are the CLI's own: marked so the terminal boundary lets them through.
    () => (command === "completions" ? COMPLETIONS_HELP : ownSequence(helpText(command, env.color))),
  );
}

const COMPLETIONS_HELP = `Usage: ${PROGRAM} completions bash|zsh|fish\n\nPrints a completion script; load it with:\n  bash: eval "$(${PROGRAM} completions bash)"\n  zsh:  eval "$(${PROGRAM} completions zsh)"\n  fish: ${PROGRAM} completions fish | source\n`;

/** One line from an Optique message (its "Did you mean" paragraph folded in). */
const oneLine = (text: string) => text.replace(/\s+/g, " ").trim();

/** Parses argv: help, version, completions, or the options of a command (bad input → UsageError). */
export function parseArgs(args: readonly string[], env: Env): ParseOutcome {
  const beforeDashes = args.includes("--") ? args.slice(0, args.indexOf("--")) : args;
  const first = args[0];
  const meta = metaOutput(args);
  if (meta !== undefined) {
    env.stdout.write(meta);
    return SHOWN;
  }
  if (first === "completions") return runCompletions(args.slice(1), env);
  if (first === "help" || beforeDashes.includes("--help") || beforeDashes.includes("-h")) {
    const named = first === "help" ? args[1] : first;
    const command = named !== undefined && (COMMANDS.includes(named) || named === "completions") ? named : undefined;
    if (named !== undefined && !named.startsWith("-") && command === undefined) {
      throw new UsageError(`unknown command '${named}'`, { hint: `commands: ${COMMANDS.join(", ")}, completions` });
    }
    showHelp(command, beforeDashes.includes("--json"), env);
    return SHOWN;
  }
  if (first === undefined) {
    throw new UsageError("a command is required", { hint: `run '${PROGRAM} --help'; commands: ${COMMANDS.join(", ")}, completions` });
  }
  // A known command name goes straight to its own parser: `or` would try all five on every token.
  const result = parse(Object.hasOwn(COMMAND_PARSERS, first) ? COMMAND_PARSERS[first]!() : programParser(), foldRepeated(args));
  if (!result.success) {
    const command = COMMANDS.includes(first) ? first : undefined;
    throw new UsageError(oneLine(formatMessage(result.error, { colors: false, quotes: true })), {
      hint: command ? `see '${PROGRAM} ${command} --help'` : `see '${PROGRAM} --help'`,
    });
  }
  return { kind: "run", options: result.value };
}

function runCompletions(args: readonly string[], env: Env): ParseOutcome {
  const [shell, ...rest] = args;
  if (shell === undefined || shell === "--json") throw new UsageError("completions needs a shell: bash, zsh or fish", { hint: `eval "$(${PROGRAM} completions bash)"` });
  if (shell === "--help" || shell === "-h") {
    showHelp("completions", rest.includes("--json"), env);
    return SHOWN;
  }
  if (!COMPLETION_SHELLS.includes(shell as CompletionShell)) {
    throw new UsageError(`unsupported shell '${shell}' for completions`, { hint: "use bash, zsh or fish" });
  }
  if (rest[0] === "--complete") {
    // Called back by the script at each Tab with the words typed so far (the last one is being completed).
    const words = rest.slice(1).filter((w, i) => !(i === 0 && w === "--"));
    env.stdout.write(renderSuggestions(shell as CompletionShell, completionCandidates(words)));
    return { kind: "complete", shell: shell as CompletionShell, words };
  }
  const script = completionScript(shell as CompletionShell, PROGRAM);
  outputFor(env, { json: rest.includes("--json") }).result(() => ({ ok: true, shell: shell as CompletionShell, script }), () => script);
  return SHOWN;
}

/** Candidates for the word being typed: Optique's suggestions from the same parser, plus the meta commands. */
export function completionCandidates(words: readonly string[]): { text: string; description?: string }[] {
  const current = words.at(-1) ?? "";
  const out: { text: string; description?: string }[] = [];
  if (words.length <= 1) {
    for (const meta of ["completions", "help", "--help", "--version"]) if (meta.startsWith(current)) out.push({ text: meta });
  }
  const args: [string, ...string[]] = words.length === 0 ? [""] : [words[0]!, ...words.slice(1)];
  for (const s of suggest(programParser(), args)) {
    if (s.kind === "literal") out.push({ text: s.text, description: s.description ? oneLine(formatMessage(s.description, { colors: false, quotes: false })) : undefined });
  }
  return out;
}

/** Runs the parsed command. */
export async function runCommand(opts: ProgramOptions, env: Env): Promise<void> {
  switch (opts.command) {
    case "run-dev-e2e":
      return runRunDevE2e(opts, env);
    case "logs":
      return runLogs(opts, env);
    case "cancel":
      return runCancel(opts, env);
    case "doctor":
      return runDoctor(opts, env);
    case "runs":
      return runRuns(opts, env);
    case "validate":
      return runValidate(opts, env);
    case "schema":
      return runSchema(opts, env);
    case "report":
      return runReport(opts, env);
    default: {
      const unreachable: never = opts;
      throw new Error(`unknown command ${JSON.stringify(unreachable)}`);
    }
  }
}

/** Parses and runs; the whole CLI minus process wiring and error reporting (tests call this with fakeEnv). */
export async function runCli(args: readonly string[], env: Env): Promise<void> {
  const parsed = parseArgs(args, env);
  if (parsed.kind === "run") await runCommand(parsed.options, env);
  if (parsed.kind === "complete") env.stdout.write(renderSuggestions(parsed.shell, await runNameCandidates(parsed.words, env)));
}

/** Whether argv asks for `--json` (before any `--`). */
export function wantsJson(args: readonly string[]): boolean {
  return (args.includes("--") ? args.slice(0, args.indexOf("--")) : args).includes("--json");
}

/**
 * Prints a failure the way the exit-code contract says and returns the exit code: with `--json` the one error
 * document on stdout (io/json.ts), else `error:` and `hint:` lines on stderr. A bug's stack goes to stderr either way.
 */
export function reportError(error: unknown, env: Env, json: boolean): number {
  const failure = toFailure(error, env.signal.aborted);
  const out = outputFor(env, { json });
  out.document(errorDocument(failure));
  if ((out.human && !failure.silent) || failure.code === "internal") env.stderr.write(renderFailure(failure));
  return failure.exitCode;
}

/**
 * `env` with its writers behind the output boundary (docs/security.md): every text, and every file the CLI
 * writes, has the secrets in `env.secrets` redacted, and in human mode (stderr always: `--json` puts its document on stdout) every
 * control, C1 and bidi character not marked as the CLI's own is shown escaped (io/terminal.ts).
 */
export function guardedEnv(env: Env, json: boolean): Env {
  const guard = (writer: Env["stdout"], human: boolean): Env["stdout"] => ({
    write: (text) => writer.write(human ? guardTerminalText(redactSecrets(text, env.secrets)) : redactSecrets(text, env.secrets)),
  });
  return {
    ...env,
    stdout: guard(env.stdout, outputFor(env, { json }).human),
    stderr: guard(env.stderr, true),
    // A file the CLI writes (report --junit/--markdown/--html FILE) is an output too: the same redaction.
    writeFileAtomic: (path, text) => env.writeFileAtomic(path, redactSecrets(text, env.secrets)),
  };
}

/** The whole CLI as main.ts runs it: parse, run, report; returns the exit code. */
export async function runMain(args: readonly string[], outside: Env): Promise<number> {
  const env = guardedEnv(outside, wantsJson(args));
  try {
    await runCli(args, env);
    return 0;
  } catch (error) {
    return reportError(error, env, wantsJson(args));
  }
}
