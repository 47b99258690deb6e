/** The fixed read-only status reader (status-reader.sh): its renderer and the parser of its answer (docs/readers.md). */
import { boolean, int, literal, minimum, minLength, nullable, object, string, type infer as Infer } from "zod/mini";
import "../zod-locale.ts";
import { checkCapSetting, RESULT_MAX_BYTES, STATUS_LINE_CAP_BYTES } from "../rules.ts";
import { decodeCount, decodeField, decodeLiveness, decodeResultRecord, lenientText, malformed, readerRecords } from "./records.ts";
import { judgeResult, resultSchema, type Liveness, type ResultExpectation, type ResultState, type RunResult } from "./result.ts";
import template from "./status-reader.sh";
import { fillRunTemplate } from "./template.ts";

/** What the status reader is rendered from. */
export interface StatusReaderSettings {
  /** Parent of the result dirs. */
  runsRoot: string;
  /** The run to look at. */
  runId: string;
  /** @default RESULT_MAX_BYTES */
  resultCapBytes?: number;
  /** @default STATUS_LINE_CAP_BYTES */
  lineCapBytes?: number;
}

/** The status reader script for one run; throws a UsageError naming a bad field. */
export function renderStatusReader(settings: StatusReaderSettings): string {
  const resultCap = settings.resultCapBytes ?? RESULT_MAX_BYTES;
  const lineCap = settings.lineCapBytes ?? STATUS_LINE_CAP_BYTES;
  checkCapSetting("resultCapBytes", resultCap, 1, RESULT_MAX_BYTES);
  checkCapSetting("lineCapBytes", lineCap, 1, 65_536);
  return fillRunTemplate(template, "status-reader.sh", settings, { RESULT_CAP_BYTES: String(resultCap), LINE_CAP_BYTES: String(lineCap) });
}

const READER = "status reader";

const processStateSchema = object({ pid: nullable(int().check(minimum(1))), alive: boolean() });

/** A launcher or runner process as seen through its pid file; alive as the liveness rule counts it (its cmdline names the run's result dir, or cannot be read). */
export type ProcessState = Infer<typeof processStateSchema>;

const runStatusSchema = object({
  runId: string().check(minLength(1)),
  exists: boolean(),
  launcher: processStateSchema,
  runner: processStateSchema,
  liveness: object({ live: boolean(), why: string() }),
  pipelineRun: nullable(string()),
  resultState: literal(["none", "valid", "corrupt", "mismatch", "lost"]),
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
  /** The runner's liveness rule over both pid files and the dir's age (before result.json was read). */
  liveness: Liveness;
  /** pipelinerun.txt, trimmed, when present. */
  pipelineRun: string | null;
  /** What result.json says (judgeResult): none yet, this run's verdict, corrupt, another run's or commit's, or lost (none and nothing alive). */
  resultState: ResultState;
  /** result.json when it is valid and this run's: the run is over. */
  result: RunResult | null;
  /** Why result.json is corrupt or a mismatch, or why the run is lost, else null. */
  resultProblem: string | null;
  lastLauncherLogLine: string | null;
  lastRunnerLogLine: string | null;
}

const NO_PROCESS: ProcessState = { pid: null, alive: false };
const NO_RUN: Liveness = { live: false, why: "no run directory" };

/**
 * Parses the status reader's stdout, judging result.json against `expected` (by default: the run id the
 * answer names); throws DispatchError (exit 5) on a malformed answer or one about another run.
 */
export function parseStatusOutput(stdout: string, expected?: ResultExpectation): RunStatus {
  const records = readerRecords(stdout, "unidesk-ci-status", READER);
  const byKey = new Map<string, string[]>();
  for (const fields of records) byKey.set(fields[0]!, fields.slice(1));
  const field = (key: string): string[] => {
    const value = byKey.get(key);
    if (value === undefined) throw malformed(READER, `no '${key}' line`);
    return value;
  };
  const runId = field("runid")[0] ?? "";
  if (expected && runId !== expected.runId) throw malformed(READER, `it answered for run ${JSON.stringify(runId)}, not ${expected.runId}`);
  const run = field("run")[0];
  if (run !== "present" && run !== "absent") throw malformed(READER, `run is ${JSON.stringify(run)}`);
  let status: RunStatus = {
    runId,
    exists: false,
    launcher: NO_PROCESS,
    runner: NO_PROCESS,
    liveness: NO_RUN,
    pipelineRun: null,
    resultState: "none",
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
    const liveness = decodeLiveness(field("liveness"), READER);
    status = {
      ...status,
      exists: true,
      launcher: parseProcess(field("launcher")),
      runner: parseProcess(field("runner")),
      liveness,
      pipelineRun,
      ...judgeResult(decodeResultRecord(field("result"), READER), expected ?? { runId }, liveness),
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
