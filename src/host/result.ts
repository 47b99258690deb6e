/** `result.json`: the schema of the file that ends every run (docs/runner.md), and the one judgement of it (docs/readers.md). */
import { untrustedLine } from "../redact.ts";
import { array, boolean, int, iso, looseObject, minimum, nullable, optional, regex, string, enum as zenum, type infer as Infer } from "zod/mini";
import "../zod-locale.ts";
import { parseRunJson } from "./run-json.ts";
import { FULL_SHA, RESULT_MAX_BYTES } from "../rules.ts";

import { RESULT_FILE, RUN_STATUSES, STATE_CORRUPT, STATE_MISMATCH, STATE_RUNNING, STATUS_LOST, STATUS_SUCCEEDED } from "./run-dir.ts";

export { RUN_STATUSES };

/**
 * One failed step of a failed run, recorded by the runner (docs/runner.md#failures): the TaskRun's pipeline task,
 * the step (container name without `step-`), its exit code (null when it never ran or was killed without one), the
 * Tekton reason and message, the pods/… file of its log (relative to the run dir, null when none was saved) and its
 * last FAILURE_TAIL_LINES lines (each at most FAILURE_LINE_MAX_CHARS characters).
 */
export const failureSchema = looseObject({
  task: string(),
  step: nullable(string()),
  exitCode: nullable(int()),
  reason: string(),
  message: string(),
  log: nullable(string()),
  tail: array(string()),
});

/** One timed phase of a run (docs/runner.md#phases): `fetch`, `namespace`, `pipelinerun`, `task:<name>`, `logs`; finishedAt null while it runs or when it never ended. */
export const phaseSchema = looseObject({
  name: string(),
  startedAt: iso.datetime({ offset: true }),
  finishedAt: nullable(iso.datetime({ offset: true })),
});

/** `result.json`, written last by the runner (or by the launcher when it fails first). */
export const resultSchema = looseObject({
  ok: boolean(),
  status: zenum(RUN_STATUSES),
  runId: string(),
  manifestCommit: string().check(regex(FULL_SHA)),
  pipelineRun: nullable(string()),
  temporaryNamespace: nullable(string()),
  finishedAt: iso.datetime({ offset: true }),
  startedAt: optional(iso.datetime({ offset: true })),
  durationMs: optional(int().check(minimum(0))),
  reason: optional(string()),
  /** Absent in results written before they existed, and in the launcher's results. */
  failures: optional(array(failureSchema)),
  phases: optional(array(phaseSchema)),
});

/** A failed step of result.json. */
export type RunFailure = Infer<typeof failureSchema>;
/** A timed phase of result.json. */
export type RunPhase = Infer<typeof phaseSchema>;

/** A parsed result.json. */
export type RunResult = Infer<typeof resultSchema>;

/** Parses result.json text against resultSchema: the result, or why it is unusable. */
export function checkResultJson(text: string): { result: RunResult | null; resultProblem: string | null } {
  const { value, problem } = parseRunJson(text, resultSchema, RESULT_FILE, "the result schema");
  if (value !== null && value.ok !== (value.status === STATUS_SUCCEEDED)) {
    return { result: null, resultProblem: `${RESULT_FILE} contradicts itself: ok is ${value.ok} but status is ${value.status}` };
  }
  return { result: value, resultProblem: problem };
}

/** result.json as a host script returned it: its first bytes (null: present but not a readable regular file) and its size. */
export interface ResultFile {
  bytes: Uint8Array | null;
  sizeBytes: number;
}

/** Whose verdict the CLI is after: the awaited run id and, when this CLI submitted it, the manifest commit. */
export interface ResultExpectation {
  runId: string;
  manifestCommit?: string;
}

/** Whether anything of a run is alive, by the runner's liveness rule (src/host/run-liveness.sh, docs/readers.md#liveness-the-runners-rule-never-a-bare-pid). */
export interface Liveness {
  /** A launcher or runner process provably of this run (or one that cannot be told apart), or a dir under RUN_YOUNG_GRACE_S old without pid files. */
  live: boolean;
  /** The rule's words, e.g. `launcher.pid 4242 is gone, runner.pid 4250 is another program`. */
  why: string;
}

/**
 * What a run's result.json means (docs/commands.md#run-states): `none` (not written yet: the run goes on),
 * `valid` (this run's verdict), `corrupt` (unreadable, too large, not UTF-8, not JSON, not the schema),
 * `mismatch` (a valid result of another run id or manifest commit) or `lost` (none, and nothing of the run is
 * alive to write one: the next run's sweep will record it). Only `valid` carries a result.
 */
export type ResultVerdict =
  | { resultState: "none"; result: null; resultProblem: null }
  | { resultState: "valid"; result: RunResult; resultProblem: null }
  | { resultState: typeof STATE_CORRUPT | typeof STATE_MISMATCH | typeof STATUS_LOST; result: null; resultProblem: string };

/** The states of {@link ResultVerdict}. */
export type ResultState = ResultVerdict["resultState"];

/** Why a run with no result.json and nothing alive is lost. */
export function lostProblem(liveness: Liveness): string {
  return `no launcher or runner process of it is alive and it wrote no result.json (${liveness.why})`;
}

/**
 * The verdict of a run's result.json (null: none yet; with `liveness` not live, `lost`), the same for the status
 * reader, the logs reader and the cancel script.
 */
export function judgeResult(file: ResultFile | null, expected: ResultExpectation, liveness?: Liveness): ResultVerdict {
  if (file === null && liveness && !liveness.live) return { resultState: STATUS_LOST, result: null, resultProblem: lostProblem(liveness) };
  if (file === null) return { resultState: "none", result: null, resultProblem: null };
  const corrupt = (resultProblem: string): ResultVerdict => ({ resultState: STATE_CORRUPT, result: null, resultProblem });
  if (file.bytes === null) return corrupt("result.json exists but is not a readable regular file");
  if (file.sizeBytes > RESULT_MAX_BYTES || file.sizeBytes > file.bytes.length) {
    return corrupt(`result.json is ${file.sizeBytes} bytes, more than the ${Math.min(RESULT_MAX_BYTES, file.bytes.length)} a result may have`);
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(file.bytes);
  } catch {
    return corrupt("result.json is not UTF-8 text");
  }
  const { result, resultProblem } = checkResultJson(text);
  if (result === null) return corrupt(resultProblem ?? "result.json is unusable");
  const mismatch = (resultProblem: string): ResultVerdict => ({ resultState: STATE_MISMATCH, result: null, resultProblem });
  if (result.runId !== expected.runId) return mismatch(`result.json names run ${JSON.stringify(untrustedLine(String(result.runId)))}, not ${expected.runId}`);
  if (expected.manifestCommit !== undefined && result.manifestCommit !== expected.manifestCommit) {
    return mismatch(`result.json is the verdict of manifest commit ${result.manifestCommit}, not of ${expected.manifestCommit} that this run submitted`);
  }
  return { resultState: "valid", result, resultProblem: null };
}

/** The one word for a run's state: its final status, `running` before result.json, or `corrupt` / `mismatch` / `lost`. */
export function resultStatusWord(verdict: ResultVerdict): RunResult["status"] | typeof STATE_RUNNING | typeof STATE_CORRUPT | typeof STATE_MISMATCH {
  if (verdict.resultState === "valid") return verdict.result.status;
  return verdict.resultState === "none" ? STATE_RUNNING : verdict.resultState;
}
