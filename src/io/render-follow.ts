/** Text of a followed run: task tables, task changes, log lines with their source. Pure: data in, text out. */
import type { FollowEvent } from "../runs/follow.ts";
import type { TaskState } from "../runs/tasks.ts";
import type { RunSnapshot } from "../runs/wait.ts";
import { textOrBytes } from "../host/records.ts";
import { palette } from "./color.ts";
import type { FollowDocument } from "./json-schemas.ts";
import { toBase64 } from "./base64.ts";
import { describeSnapshot, formatDuration } from "./render-run.ts";

/**
 * A log line as safe text: valid UTF-8 without NUL as it is; anything else (binary) with every byte outside
 * printable ASCII as `\xNN` and `\` as `\\`, so no raw binary reaches the terminal (--json and --file keep the bytes).
 */
export function lineText(line: Uint8Array): string {
  const text = textOrBytes(line, false);
  if (typeof text === "string") return text;
  let out = "";
  for (const b of line) out += b === 0x5c ? "\\\\" : b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, "0")}`;
  return out;
}

/** `[<source>] <line>` and a newline. */
export function renderSourceLine(source: string, line: string | Uint8Array, opts: { color: boolean }): string {
  return `${palette(opts.color).dim(`[${source}]`)} ${typeof line === "string" ? line : lineText(line)}\n`;
}

const ms = (iso: string | null) => (iso ? Date.parse(iso) : NaN);

/** How long a task ran (until `now` while it runs), or "" before it started. */
function taskDuration(t: TaskState, now: Date): string {
  const start = ms(t.startTime);
  if (Number.isNaN(start)) return "";
  const end = t.state === "running" ? now.getTime() : ms(t.completionTime);
  return Number.isNaN(end) ? "" : formatDuration(end - start);
}

/** `[14s] task check-inputs succeeded (2s)`: one line per task change when stderr is not a terminal. */
export function renderTaskChange(t: TaskState, elapsedMs: number, now: Date): string {
  const took = t.state === "running" ? "" : taskDuration(t, now);
  const reason = t.state === "failed" && t.reason && t.reason !== "Failed" ? `: ${t.reason}` : "";
  return `[${formatDuration(elapsedMs)}] task ${t.task} ${t.state}${reason}${took ? ` (${took})` : ""}\n`;
}

const SYMBOLS: Record<TaskState["state"], string> = { succeeded: "✓", failed: "✗", cancelled: "✗", running: "●", pending: "·", skipped: "-" };

/** Task rows (`TASK STATUS DURATION` with a header; on a terminal a symbol instead, indented), aligned. */
export function renderTaskTable(tasks: readonly TaskState[], opts: { color: boolean; now: Date; symbols?: boolean }): string {
  const p = palette(opts.color);
  const paint = (t: TaskState, text: string) => (t.state === "succeeded" ? p.green(text) : t.state === "failed" || t.state === "cancelled" ? p.red(text) : t.state === "running" ? p.yellow(text) : p.dim(text));
  const width = Math.max(4, ...tasks.map((t) => t.task.length)) + 2;
  const rows = tasks.map((t) => {
    const state = paint(t, t.state.padEnd(11));
    const line = `${t.task.padEnd(width)}${state}${taskDuration(t, opts.now)}`.trimEnd();
    return opts.symbols ? `  ${paint(t, SYMBOLS[t.state])} ${line}` : line;
  });
  if (!opts.symbols) rows.unshift(p.bold(`${"TASK".padEnd(width)}${"STATUS".padEnd(11)}DURATION`));
  return rows.map((r) => r + "\n").join("");
}

const SPINNER = ["|", "/", "-", "\\"];

/** The block a terminal shows while waiting: spinner, elapsed/limit, phase, then the task table. */
export function renderWaitBlock(e: { snapshot: RunSnapshot; tasks: readonly TaskState[]; elapsedMs: number; answers: number }, opts: { color: boolean; deadlineMs: number; now: Date }): string {
  const spin = e.snapshot.phase === "finished" ? " " : SPINNER[e.answers % SPINNER.length]!;
  const head = `${palette(opts.color).dim(spin)} ${formatDuration(e.elapsedMs)}/${formatDuration(opts.deadlineMs)} ${describeSnapshot(e.snapshot)}\n`;
  return head + renderTaskTable(e.tasks, { ...opts, symbols: true });
}

/** A follow event as its `--follow --json` line (undefined: not printed). */
export function followEventJson(e: FollowEvent): FollowDocument | undefined {
  switch (e.type) {
    case "status":
      return { event: "status", phase: e.snapshot.phase, pipelineRun: e.snapshot.pipelineRun ?? null, alive: e.snapshot.alive ?? null, elapsedMs: e.elapsedMs };
    case "task":
      return { event: "task", ...e.task, elapsedMs: e.elapsedMs };
    case "line": {
      const text = textOrBytes(e.bytes, false);
      return { event: "line", source: e.source, path: e.path, encoding: typeof text === "string" ? "utf8" : "base64", content: typeof text === "string" ? text : toBase64(text), eol: e.eol };
    }
    case "resolved":
      return { event: "resolved", reference: e.reference, runId: e.runId };
    case "answer":
      return undefined;
  }
}
