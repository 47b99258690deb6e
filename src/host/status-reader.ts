/** The fixed read-only status reader (status-reader.sh): its renderer and the parser of its answer (docs/readers.md). */
import { boolean, int, minimum, minLength, nullable, object, string, type infer as Infer } from "zod/mini";
import "../zod-locale.ts";
import { checkCapSetting, STATUS_LINE_CAP_BYTES, STATUS_RESULT_CAP_BYTES } from "../rules.ts";
import { decodeCount, decodeField, lenientText, malformed, readerRecords } from "./records.ts";
import { checkResultJson, resultSchema, type RunResult } from "./result.ts";
import template from "./status-reader.sh";
import { fillRunTemplate } from "./template.ts";

/** What the status reader is rendered from. */
export interface StatusReaderSettings {
  /** Parent of the result dirs. */
  runsRoot: string;
  /** The run to look at. */
  runId: string;
  /** @default STATUS_RESULT_CAP_BYTES */
  resultCapBytes?: number;
  /** @default STATUS_LINE_CAP_BYTES */
  lineCapBytes?: number;
}

/** The status reader script for one run; throws a UsageError naming a bad field. */
export function renderStatusReader(settings: StatusReaderSettings): string {
  const resultCap = settings.resultCapBytes ?? STATUS_RESULT_CAP_BYTES;
  const lineCap = settings.lineCapBytes ?? STATUS_LINE_CAP_BYTES;
  checkCapSetting("resultCapBytes", resultCap, 1, 1_048_576);
  checkCapSetting("lineCapBytes", lineCap, 1, 65_536);
  return fillRunTemplate(template, "status-reader.sh", settings, { RESULT_CAP_BYTES: String(resultCap), LINE_CAP_BYTES: String(lineCap) });
}

const READER = "status reader";

const processStateSchema = object({ pid: nullable(int().check(minimum(1))), alive: boolean() });

/** A launcher or runner process as seen through its pid file. */
export type ProcessState = Infer<typeof processStateSchema>;

const runStatusSchema = object({
  runId: string().check(minLength(1)),
  exists: boolean(),
  launcher: processStateSchema,
  runner: processStateSchema,
  pipelineRun: nullable(string()),
  result: nullable(resultSchema),
  resultProblem: nullable(string()),
  lastLauncherLogLine: nullable(string()),
  lastRunnerLogLine: nullable(string()),
});

/** One poll's view of a run: does it exist, is it finished (result), what is running. */
export interface RunStatus {
  runId: string;
  /** The result dir exists (the launcher accepted the run). */
  exists: boolean;
  /** From launcher.pid; pid null when there is none yet. */
  launcher: ProcessState;
  /** From runner.pid; pid null when there is none yet. */
  runner: ProcessState;
  /** pipelinerun.txt, trimmed, when present. */
  pipelineRun: string | null;
  /** result.json when present and valid: the run is over. */
  result: RunResult | null;
  /** Why result.json is present but unusable (invalid JSON, schema, too large), else null. */
  resultProblem: string | null;
  lastLauncherLogLine: string | null;
  lastRunnerLogLine: string | null;
}

const NO_PROCESS: ProcessState = { pid: null, alive: false };

/** Parses the status reader's stdout; throws DispatchError (exit 5) on a malformed answer. */
export function parseStatusOutput(stdout: string): RunStatus {
  const records = readerRecords(stdout, "unidesk-ci-status", READER);
  const byKey = new Map<string, string[]>();
  for (const fields of records) byKey.set(fields[0]!, fields.slice(1));
  const field = (key: string): string[] => {
    const value = byKey.get(key);
    if (value === undefined) throw malformed(READER, `no '${key}' line`);
    return value;
  };
  const runId = field("runid")[0] ?? "";
  const run = field("run")[0];
  if (run !== "present" && run !== "absent") throw malformed(READER, `run is ${JSON.stringify(run)}`);
  let status: RunStatus = {
    runId,
    exists: false,
    launcher: NO_PROCESS,
    runner: NO_PROCESS,
    pipelineRun: null,
    result: null,
    resultProblem: null,
    lastLauncherLogLine: null,
    lastRunnerLogLine: null,
  };
  if (run === "present") {
    const text = (key: string): string | null => {
      const bytes = decodeField(field(key)[0], READER);
      return bytes === null ? null : lenientText(bytes).replace(/\r?\n$/, "");
    };
    const pipelineRun = text("pipelinerun")?.trim() || null;
    const [resultField, resultSize] = field("result");
    status = {
      ...status,
      exists: true,
      launcher: parseProcess(field("launcher")),
      runner: parseProcess(field("runner")),
      pipelineRun,
      ...parseResult(decodeField(resultField, READER), decodeCount(resultSize, READER)),
      lastLauncherLogLine: text("launcherlog") || null,
      lastRunnerLogLine: text("runnerlog") || null,
    };
  }
  const checked = runStatusSchema.safeParse(status);
  if (!checked.success) throw malformed(READER, checked.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "));
  return status;
}

function parseProcess([pid, state]: string[]): ProcessState {
  if (state === "none") return NO_PROCESS;
  if (state !== "alive" && state !== "dead") throw malformed(READER, `process state ${JSON.stringify(state)}`);
  return { pid: decodeCount(pid, READER), alive: state === "alive" };
}

function parseResult(bytes: Uint8Array | null, sizeBytes: number): Pick<RunStatus, "result" | "resultProblem"> {
  if (bytes === null) return { result: null, resultProblem: null };
  if (sizeBytes > bytes.length) return { result: null, resultProblem: `result.json is ${sizeBytes} bytes, more than the ${bytes.length} the status reader returns` };
  return checkResultJson(lenientText(bytes));
}
