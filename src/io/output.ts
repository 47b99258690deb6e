/**
 * The one output decision of a command (docs/commands.md#output-modes), in the spirit of gh's exporter: each
 * command asks {@link outputFor} once, from its `--json` and whether it streams events (`--follow`), and then
 * writes through the object it gets back. Its methods are no-ops in the modes they do not belong to, so no
 * command tests `--json` again.
 *
 * - `json`: exactly one document on stdout ({@link Output.document}); nothing else on stdout, no progress.
 * - `ndjson`: `--follow --json`: one event per line ({@link Output.event}), the document (or the failure) last.
 * - `tty`: human text, stderr a terminal and nothing streamed: a live block may be redrawn there.
 * - `plain`: human text, one line per change.
 *
 * Human text goes through `env`'s writers, which runMain guards (io/terminal.ts: the one terminal boundary).
 */
import type { Env, Writer } from "../env.ts";
import { writeJson } from "./json.ts";
import type { JsonDocument } from "./json-schemas.ts";

/** How a command prints. */
export type OutputMode = "json" | "ndjson" | "tty" | "plain";

/** What the decision is taken from: the command's `--json`, and whether it streams events (`--follow`). */
export interface OutputRequest {
  json: boolean;
  /** The command prints events as they come (`--follow`). @default false */
  follow?: boolean;
}

/** A command's output, its mode decided once. */
export interface Output {
  readonly mode: OutputMode;
  /** Human mode (`tty` or `plain`): stdout is text for people, guarded by the terminal boundary. */
  readonly human: boolean;
  /** The command's one JSON document, on stdout (json, ndjson: its last line); nothing in human modes. */
  document(doc: JsonDocument): void;
  /** One event line on stdout (ndjson only); undefined: nothing. */
  event(doc: JsonDocument | undefined): void;
  /** Human text on stdout (tty, plain): the command's answer. */
  print(text: string): void;
  /** Human text on stderr (tty, plain): progress, notes, next steps. */
  note(text: string): void;
  /** The common ending of a one-shot command: the document, or the text on stdout; only the chosen one is built. */
  result(doc: () => JsonDocument, text: () => string): void;
}

/** The mode for a request on this terminal. */
export function outputMode(req: OutputRequest, env: Pick<Env, "isStderrTTY">): OutputMode {
  if (req.json) return req.follow ? "ndjson" : "json";
  return env.isStderrTTY && !req.follow ? "tty" : "plain";
}

/** The output object of one command: call once, pass it down. */
export function outputFor(env: { stdout: Writer; stderr: Writer; isStderrTTY: boolean }, req: OutputRequest): Output {
  const mode = outputMode(req, env);
  const human = mode === "tty" || mode === "plain";
  const nothing = () => undefined;
  return {
    mode,
    human,
    document: human ? nothing : (doc) => writeJson(env, doc),
    event: mode === "ndjson" ? (doc) => doc && writeJson(env, doc) : nothing,
    print: human ? (text) => env.stdout.write(text) : nothing,
    note: human ? (text) => env.stderr.write(text) : nothing,
    result: human ? (_doc, text) => env.stdout.write(text()) : (doc) => writeJson(env, doc()),
  };
}
