/** The fixed read-only logs reader (logs-reader.sh): its renderer and the parser of its answer (docs/readers.md). */
import { UsageError } from "../errors.ts";
import { checkCapSetting, RUN_FILE_PATH, LOGS_CAP_MAX_BYTES, LOGS_FILE_CAP_BYTES, LOGS_MAX_FILES, LOGS_SCAN_MAX_FILES, LOGS_TOTAL_CAP_BYTES, MANIFEST_MAX_BYTES, RESULT_MAX_BYTES } from "../rules.ts";
import { decodeBase64, decodeChangesRecord, decodeCount, decodeField, decodeLiveness, decodeReference, decodeResultRecord, lenientText, malformed, readerRecords, textOrBytes } from "./records.ts";
import type { RunChanges } from "../runs/changes.ts";
import { judgeResult, type Liveness, type ResultFile, type ResultVerdict } from "./result.ts";
import template from "./logs-reader.sh";
import { fillRunTemplate } from "./template.ts";

/** What the logs reader is rendered from. */
export interface LogsReaderSettings {
  /** Parent of the result dirs. */
  runsRoot: string;
  /** The run to read: a run id, or `@latest` / `@latest-failed` (resolved on the host, src/host/run-ref.sh). */
  runId: string;
  /** @default LOGS_FILE_CAP_BYTES */
  fileCapBytes?: number;
  /** @default LOGS_TOTAL_CAP_BYTES */
  totalCapBytes?: number;
  /** Files read at most (result.json, pipelinerun.txt and the two logs always are). @default LOGS_MAX_FILES */
  maxFiles?: number;
  /** Read only this file of the run dir (a RUN_FILE_PATH, `logs --file`). @default every file */
  only?: string;
}

/** The logs reader script for one run; throws a UsageError naming a bad field. */
export function renderLogsReader(settings: LogsReaderSettings): string {
  const fileCap = settings.fileCapBytes ?? LOGS_FILE_CAP_BYTES;
  const totalCap = settings.totalCapBytes ?? LOGS_TOTAL_CAP_BYTES;
  checkCapSetting("fileCapBytes", fileCap, 1, LOGS_CAP_MAX_BYTES);
  checkCapSetting("totalCapBytes", totalCap, 1, LOGS_CAP_MAX_BYTES);
  const maxFiles = settings.maxFiles ?? LOGS_MAX_FILES;
  checkCapSetting("maxFiles", maxFiles, 4, LOGS_SCAN_MAX_FILES, "files");
  const only = settings.only ?? "";
  if (only !== "" && !RUN_FILE_PATH.test(only)) {
    throw new UsageError(`file ${JSON.stringify(only)} is not a file of a run directory (e.g. runner.log, taskruns.json, pods/<pod>_<container>.log)`, { hint: "see the files with: unidesk-ci logs <runId>" });
  }
  return fillRunTemplate(template, "logs-reader.sh", settings, {
    FILE_CAP_BYTES: String(fileCap),
    TOTAL_CAP_BYTES: String(totalCap),
    MAX_FILES: String(maxFiles),
    SCAN_MAX_FILES: String(LOGS_SCAN_MAX_FILES),
    RESULT_CAP_BYTES: String(RESULT_MAX_BYTES),
    DEPLOY_CAP_BYTES: String(MANIFEST_MAX_BYTES),
    ONLY: only,
  });
}

const READER = "logs reader";

/** One file of the run directory as the logs reader returned it. */
export interface RunLogFile {
  /** Relative to the run directory, e.g. `pods/e2e-x-pod_step-test.log`. */
  path: string;
  /** The file's size on the host. */
  sizeBytes: number;
  /** Bytes returned: the file's tail. */
  keptBytes: number;
  /** keptBytes < sizeBytes: only the tail (or nothing, when the total cap ran out) came back. */
  truncated: boolean;
  /** The file could not be read on the host. */
  unreadable: boolean;
  /** Text when the kept bytes are UTF-8 without NUL, else the raw bytes. */
  content: string | Uint8Array;
}

/** Everything `logs <runId>` recovered, or `found: false` for an unknown runId (or a reference no run matches). */
export type RunLogs =
  | { runId: string; found: false; reference: string | null }
  | ({
      /** The run read: the id asked for, or the one `reference` resolved to. */
      runId: string;
      found: true;
      /** `@latest` / `@latest-failed` when the run was named by one, else null. */
      reference: string | null;
      /** A run that ended without succeeding: what changed since the last green run (commits null: see src/manifest/git-log.ts); else null. */
      changes: RunChanges | null;
      /** The files read, at most maxFiles of them. */
      files: RunLogFile[];
      /** Files of the run directory that were not read (beyond maxFiles). */
      omittedFiles: number;
      /** The listing stopped at LOGS_SCAN_MAX_FILES names: omittedFiles is a lower bound. */
      omittedAtLeast: boolean;
      /** The runner's liveness rule (before result.json was read); not live and no result.json: `lost`. */
      liveness: Liveness;
      /** Sum of keptBytes. */
      keptBytes: number;
      fileCapBytes: number;
      totalCapBytes: number;
      maxFiles: number;
    } & ResultVerdict);

/** Parses the logs reader's stdout; throws DispatchError (exit 5) on a malformed answer. */
export function parseLogsOutput(stdout: string): RunLogs {
  const records = readerRecords(stdout, "unidesk-ci-logs", READER);
  let runId: string | undefined;
  let run: string | undefined;
  let caps: [number, number, number] | undefined;
  let resultFile: ResultFile | null = null;
  let liveness: Liveness | undefined;
  let omitted: [number, boolean] | undefined;
  let reference: string | null = null;
  let changes: RunChanges | null = null;
  const files: RunLogFile[] = [];
  for (const fields of records) {
    const [key, ...rest] = fields;
    if (key === "runid") runId = rest[0];
    else if (key === "ref") reference = decodeReference(rest, READER);
    else if (key === "changes") changes = decodeChangesRecord(rest, READER);
    else if (key === "run") run = rest[0];
    else if (key === "caps") caps = [decodeCount(rest[0], READER), decodeCount(rest[1], READER), decodeCount(rest[2], READER)];
    else if (key === "result") resultFile = decodeResultRecord(rest, READER);
    else if (key === "liveness") liveness = decodeLiveness(rest, READER);
    else if (key === "omitted") omitted = [decodeCount(rest[0], READER), rest[1] === "atleast"];
    else if (key === "file") files.push(parseFile(rest));
    else if (key === "end") {
      if (decodeCount(rest[0], READER) !== files.length) throw malformed(READER, "the file count does not match (the answer was cut short)");
    } else throw malformed(READER, `unknown line ${JSON.stringify(key)}`);
  }
  if (!runId) throw malformed(READER, "no 'runid' line");
  if (run === "absent") return { runId, found: false, reference };
  if (run !== "present" || caps === undefined || omitted === undefined || liveness === undefined) throw malformed(READER, "no 'run present', 'caps', 'liveness' or 'omitted' line");
  if (files.length > caps[2]) throw malformed(READER, `${files.length} files, more than the ${caps[2]} asked for`);
  return {
    runId,
    found: true,
    reference,
    changes,
    files,
    omittedFiles: omitted[0],
    omittedAtLeast: omitted[1],
    ...judgeResult(resultFile, { runId }, liveness),
    liveness,
    keptBytes: files.reduce((sum, f) => sum + f.keptBytes, 0),
    fileCapBytes: caps[0],
    totalCapBytes: caps[1],
    maxFiles: caps[2],
  };
}

function parseFile([pathField, sizeField, contentField]: string[]): RunLogFile {
  const path = lenientText(decodeBase64(pathField ?? "", READER));
  if (path === "" || path.startsWith("/") || path.split("/").includes("..")) throw malformed(READER, `bad file path ${JSON.stringify(path)}`);
  const reported = decodeCount(sizeField, READER);
  const bytes = decodeField(contentField, READER);
  const keptBytes = bytes?.length ?? 0;
  // A file growing while it is read can yield more than its stat size said.
  const sizeBytes = Math.max(reported, keptBytes);
  const truncated = keptBytes < sizeBytes;
  return { path, sizeBytes, keptBytes, truncated, unreadable: bytes === null, content: textOrBytes(bytes ?? new Uint8Array(), truncated) };
}
