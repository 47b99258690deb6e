/**
 * The run-directory contract (docs/readers.md#the-run-directory, docs/runner.md): the names of the files the launcher
 * and the runner write into `<runsRoot>/<runId>/` and the readers read back, the names a run id derives on the
 * cluster, the states a run can be in, the launcher's exit codes and the runner's watchdog margin. Each is declared
 * here once: the host scripts get them through `@@=NAME@@` (src/host/template.ts), the Git-controlled runner through
 * its generated region (build/runner.ts), and test/host/contract-literals.test.ts fails on a stray copy.
 */

/** The run's final record, written last (by the runner, or by the launcher or a sweep when the runner cannot). */
export const RESULT_FILE = "result.json";
/** The runner's live progress snapshot. */
export const PROGRESS_FILE = "progress.json";
/** The PipelineRun's name, written once it is created. */
export const PIPELINERUN_FILE = "pipelinerun.txt";
/** The manifest commit that owns the run id, renamed into place right after the launcher's mkdir lock. */
export const COMMIT_FILE = "manifest-commit";
/**
 * The runner's instance (random, hex), written before it creates anything: the same value is the
 * `unidesk.ci/runner-instance` annotation of each object it creates, and a sweep acts on a dead run's namespace or
 * PipelineRun only when the annotation matches what the run's directory recorded (docs/runner.md#the-sweep-every-run-ends-even-after-a-crash).
 */
export const RUNNER_INSTANCE_FILE = "runner-instance";
/** The detached launcher's pid. */
export const LAUNCHER_PID_FILE = "launcher.pid";
/** The runner's pid, created with noclobber: one runner per run. */
export const RUNNER_PID_FILE = "runner.pid";
/** The launcher's log. */
export const LAUNCHER_LOG = "launcher.log";
/** The runner's log. */
export const RUNNER_LOG = "runner.log";
/** The manifest the run used, copied from the fetched commit (and the manifest's path in the repository). */
export const MANIFEST_FILE = "deploy.json";
/** The directory of saved container logs, `pods/<pod>_<container>.log`. */
export const PODS_DIR = "pods";
/** The run's TaskRuns as the runner saved them at the end. */
export const TASKRUNS_FILE = "taskruns.json";
/** The run's PipelineRun as the runner saved it at the end. */
export const PIPELINERUN_JSON_FILE = "pipelinerun.json";

/** Prefix of the run's temporary namespace: `unidesk-ci-<runId>`. */
export const NAMESPACE_PREFIX = "unidesk-ci-";
/** Prefix of the run's PipelineRun in the CI namespace: `e2e-<runId>`. */
export const PIPELINERUN_PREFIX = "e2e-";

/** The temporary namespace of run `runId`. */
export function temporaryNamespace(runId: string): string {
  return `${NAMESPACE_PREFIX}${runId}`;
}

/** The PipelineRun of run `runId`. */
export function pipelineRunName(runId: string): string {
  return `${PIPELINERUN_PREFIX}${runId}`;
}

/** Final statuses a run can end in, as result.json spells them (docs/runner.md). */
export const RUN_STATUSES = ["succeeded", "failed", "timeout", "cancelled", "error", "lost"] as const;
/** A final status of result.json. */
export type RunStatusWord = (typeof RUN_STATUSES)[number];
/** The final status that means success. */
export const STATUS_SUCCEEDED = "succeeded" satisfies RunStatusWord;
/** The status of a run the launcher failed before or around the runner. */
export const STATUS_ERROR = "error" satisfies RunStatusWord;
/** The status of a run cancelled by a signal. */
export const STATUS_CANCELLED = "cancelled" satisfies RunStatusWord;
/** The status of a run that exceeded its time. */
export const STATUS_TIMEOUT = "timeout" satisfies RunStatusWord;
/** The status of a run that ended without result.json and whose launcher and runner are gone. */
export const STATUS_LOST = "lost" satisfies RunStatusWord;

/** A run without a final record whose launcher or runner still runs. */
export const STATE_RUNNING = "running";
/** A run whose result.json cannot be used. */
export const STATE_CORRUPT = "corrupt";
/** A run whose result.json names another run or commit. */
export const STATE_MISMATCH = "mismatch";

/** The launcher's answer on its last stdout line (docs/launcher.md): the run was started. */
export const LAUNCHER_STARTED = "started";
/** …the run id was already started from the same manifest commit: nothing new was started. */
export const LAUNCHER_DUPLICATE = "duplicate";
/** …the run id belongs to another manifest commit: nothing was started (exit LAUNCHER_CONFLICT_EXIT). */
export const LAUNCHER_CONFLICT = "conflict";

/** The launcher's exit code when the run id belongs to another manifest commit (its answer state `conflict`). */
export const LAUNCHER_CONFLICT_EXIT = 3;
/** The launcher's exit code when the runs root is one another user could change: nothing is started. */
export const LAUNCHER_UNSAFE_ROOT_EXIT = 4;

/** Seconds past the run's timeout before the launcher's watchdog (and the runner's log streams) give up. */
export const WATCHDOG_MARGIN_S = 600;
