/** The fixed read-only logs reader (logs-reader.sh): its renderer and the parser of its answer (docs/readers.md). */
import { checkCapSetting, LOGS_CAP_MAX_BYTES, LOGS_FILE_CAP_BYTES, LOGS_TOTAL_CAP_BYTES } from "../rules.ts";
import { decodeBase64, decodeCount, decodeField, lenientText, malformed, readerRecords, textOrBytes } from "./records.ts";
import { checkResultJson, type RunResult } from "./result.ts";
import template from "./logs-reader.sh";
import { fillRunTemplate } from "./template.ts";

/** What the logs reader is rendered from. */
export interface LogsReaderSettings {
  /** Parent of the result dirs. */
  runsRoot: string;
  /** The run to read. */
  runId: string;
  /** @default LOGS_FILE_CAP_BYTES */
  fileCapBytes?: number;
  /** @default LOGS_TOTAL_CAP_BYTES */
  totalCapBytes?: number;
}

/** The logs reader script for one run; throws a UsageError naming a bad field. */
export function renderLogsReader(settings: LogsReaderSettings): string {
  const fileCap = settings.fileCapBytes ?? LOGS_FILE_CAP_BYTES;
  const totalCap = settings.totalCapBytes ?? LOGS_TOTAL_CAP_BYTES;
  checkCapSetting("fileCapBytes", fileCap, 1, LOGS_CAP_MAX_BYTES);
  checkCapSetting("totalCapBytes", totalCap, 1, LOGS_CAP_MAX_BYTES);
  return fillRunTemplate(template, "logs-reader.sh", settings, { FILE_CAP_BYTES: String(fileCap), TOTAL_CAP_BYTES: String(totalCap) });
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

/** Everything `logs <runId>` recovered, or `found: false` for an unknown runId. */
export type RunLogs =
  | { runId: string; found: false }
  | {
      runId: string;
      found: true;
      files: RunLogFile[];
      /** result.json when it came back whole and valid. */
      result: RunResult | null;
      /** Why result.json is missing or unusable, else null. */
      resultProblem: string | null;
      /** Sum of keptBytes. */
      keptBytes: number;
      fileCapBytes: number;
      totalCapBytes: number;
    };

/** Parses the logs reader's stdout; throws DispatchError (exit 5) on a malformed answer. */
export function parseLogsOutput(stdout: string): RunLogs {
  const records = readerRecords(stdout, "unidesk-ci-logs", READER);
  let runId: string | undefined;
  let run: string | undefined;
  let caps: [number, number] | undefined;
  const files: RunLogFile[] = [];
  for (const fields of records) {
    const [key, ...rest] = fields;
    if (key === "runid") runId = rest[0];
    else if (key === "run") run = rest[0];
    else if (key === "caps") caps = [decodeCount(rest[0], READER), decodeCount(rest[1], READER)];
    else if (key === "file") files.push(parseFile(rest));
    else if (key === "end") {
      if (decodeCount(rest[0], READER) !== files.length) throw malformed(READER, "the file count does not match (the answer was cut short)");
    } else throw malformed(READER, `unknown line ${JSON.stringify(key)}`);
  }
  if (!runId) throw malformed(READER, "no 'runid' line");
  if (run === "absent") return { runId, found: false };
  if (run !== "present" || caps === undefined) throw malformed(READER, "no 'run present' or 'caps' line");
  const resultFile = files.find((f) => f.path === "result.json");
  let verdict: { result: RunResult | null; resultProblem: string | null } = { result: null, resultProblem: "result.json does not exist yet" };
  if (resultFile?.truncated) verdict = { result: null, resultProblem: `result.json is ${resultFile.sizeBytes} bytes, more than the logs reader returned` };
  else if (resultFile && typeof resultFile.content !== "string") verdict = { result: null, resultProblem: "result.json is not UTF-8 text" };
  else if (resultFile) verdict = checkResultJson(resultFile.content as string);
  return {
    runId,
    found: true,
    files,
    ...verdict,
    keptBytes: files.reduce((sum, f) => sum + f.keptBytes, 0),
    fileCapBytes: caps[0],
    totalCapBytes: caps[1],
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
