/** Text and JSON of `logs <runId>`: a summary, then each file with explicit truncation markers. */
import type { RunLogFile, RunLogs } from "../host/logs-reader.ts";
import { resultStatusWord } from "../host/result.ts";
import { keyValueLines, palette } from "./color.ts";
import type { LogsReport } from "./json-schemas.ts";
import { LOST_HINT, renderRunSummary, renderUnusableSummary } from "./render-run.ts";

type FoundLogs = Extract<RunLogs, { found: true }>;

/** The marker written where a file's head was cut off (or its content dropped by the total cap). */
export function truncationMarker(f: RunLogFile): string {
  if (f.keptBytes === 0) return `[truncated: ${f.path} is ${f.sizeBytes} bytes; none returned, the total cap was used up — read it on the host]`;
  return `[truncated: showing the last ${f.keptBytes} of ${f.sizeBytes} bytes of ${f.path}]`;
}

function renderFile(f: RunLogFile, color: boolean): string {
  const p = palette(color);
  const lines = [p.bold(`==> ${f.path} (${f.sizeBytes} bytes) <==`)];
  if (f.unreadable) lines.push("[unreadable on the host]");
  else {
    if (f.truncated) lines.push(p.yellow(truncationMarker(f)));
    if (typeof f.content !== "string") lines.push(`[binary, ${f.content.length} bytes returned: use --json for its base64]`);
    else if (f.content !== "") lines.push(f.content.replace(/\n$/, ""));
  }
  return lines.join("\n") + "\n";
}

/** The marker for the files a logs call did not read (beyond its file cap). */
export function omittedMarker(logs: FoundLogs): string {
  return `[omitted: ${logs.omittedAtLeast ? "at least " : ""}${logs.omittedFiles} more file(s) not read, at most ${logs.maxFiles} files per call — read them on the host]`;
}

function renderHead(logs: FoundLogs, opts: { color: boolean }): string {
  if (logs.resultState === "valid") return renderRunSummary(logs.result, opts);
  if (logs.resultState === "none") return keyValueLines([["status", "running (no result.json yet)"], ["runId", logs.runId]]);
  if (logs.resultState === "lost") return renderUnusableSummary({ runId: logs.runId, state: "lost", problem: `${logs.resultProblem}; ${LOST_HINT}` }, opts);
  return renderUnusableSummary({ runId: logs.runId, state: logs.resultState, problem: logs.resultProblem }, opts);
}

/** Human output: the run's status, then every file read, then what the caps left out. */
export function renderLogs(logs: FoundLogs, opts: { color: boolean }): string {
  const p = palette(opts.color);
  const truncated = logs.files.filter((f) => f.truncated).length;
  const footer = [
    truncated ? `[${truncated} file(s) truncated; caps ${logs.fileCapBytes} bytes per file, ${logs.totalCapBytes} in total]\n` : "",
    logs.omittedFiles ? p.yellow(omittedMarker(logs)) + "\n" : "",
  ].join("");
  return [renderHead(logs, opts), ...logs.files.map((f) => renderFile(f, opts.color)), footer].filter(Boolean).join("\n");
}

/** The `--json` document: stable camelCase fields; binary content as base64. */
export function logsJson(logs: FoundLogs): LogsReport {
  return {
    ok: true,
    runId: logs.runId,
    status: resultStatusWord(logs),
    result: logs.result,
    resultProblem: logs.resultProblem,
    files: logs.files.map((f) => ({
      path: f.path,
      sizeBytes: f.sizeBytes,
      keptBytes: f.keptBytes,
      truncated: f.truncated,
      unreadable: f.unreadable,
      encoding: typeof f.content === "string" ? "utf8" : "base64",
      content: typeof f.content === "string" ? f.content : toBase64(f.content),
    })),
    omittedFiles: logs.omittedFiles,
    omittedAtLeast: logs.omittedAtLeast,
    keptBytes: logs.keptBytes,
    fileCapBytes: logs.fileCapBytes,
    totalCapBytes: logs.totalCapBytes,
    maxFiles: logs.maxFiles,
  };
}

/** Base64 of bytes with web standards only (btoa), chunked to stay under argument limits. */
export function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}
