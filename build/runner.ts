/**
 * The Git-controlled runner (scripts/ci/dev-e2e.sh) cannot import src/, so the parts it shares with the CLI are
 * written into it: each GENERATED REGION between a `# >>> generated from <source> (npm run build) >>>` line and
 * `# <<< generated <<<` is rewritten from <source> by `npm run build` (build/build.ts), and
 * test/runner/assembled.test.ts fails while the committed runner differs from the assembled one. Everything
 * outside the regions is the runner's own and stays where it is (docs/runner.md#generated-regions).
 */
import { readFileSync } from "node:fs";
import * as rules from "../src/rules.ts";
import * as runDir from "../src/host/run-dir.ts";
import { ruleAssignment, withIncludes } from "../src/host/template.ts";

/** Where the runner lives in the repository. */
export const RUNNER_PATH = "scripts/ci/dev-e2e.sh";

/** The runner's `readonly` copies of src/rules.ts: its name, the rule's. */
export const RUNNER_RULES: ReadonlyArray<readonly [string, keyof typeof rules]> = [
  ["RUN_ID_RE", "RUN_ID"],
  ["SHA_RE", "FULL_SHA"],
  ["REPO_RE", "HTTPS_REPO"],
  ["SERVICE_ID_RE", "SERVICE_ID"],
  ["TIMEOUT_MS_MIN", "TIMEOUT_MS_MIN"],
  ["TIMEOUT_MS_MAX", "TIMEOUT_MS_MAX"],
  ["MANIFEST_MAX_BYTES", "MANIFEST_MAX_BYTES"],
  ["MANIFEST_MAX_DEPTH", "MANIFEST_MAX_DEPTH"],
  ["SERVICES_MAX", "SERVICES_MAX"],
  // A result dir this young without pid files may be a launcher between its mkdir and launcher.pid.
  ["SWEEP_GRACE_S", "RUN_YOUNG_GRACE_S"],
  // result.json's failures and phases (docs/runner.md#failures, #phases).
  ["FAILURES_MAX", "FAILURES_MAX"],
  ["FAILURE_TAIL_LINES", "FAILURE_TAIL_LINES"],
  ["FAILURE_LINE_MAX_CHARS", "FAILURE_LINE_MAX_CHARS"],
  ["RESULT_MAX_BYTES", "RESULT_MAX_BYTES"],
  ["POD_LOG_MAX_BYTES", "POD_LOG_MAX_BYTES"],
  ["ISO_TIME_RE", "ISO_TIME"],
  // kubectl's Go runtime settings (docs/runner.md#kubectl).
  ["KUBECTL_STREAM_GO_ENV", "KUBECTL_STREAM_GO_ENV"],
  ["KUBECTL_REQUEST_GO_ENV", "KUBECTL_REQUEST_GO_ENV"],
  // Tekton's resources as kubectl reads them without dropping its discovery cache.
  ["PIPELINERUNS", "PIPELINERUNS_RESOURCE"],
  ["TASKRUNS", "TASKRUNS_RESOURCE"],
];

/** The runner's `readonly` copies of the run-directory contract (src/host/run-dir.ts), under the contract's own names. */
export const RUNNER_CONTRACT: ReadonlyArray<keyof typeof runDir> = [
  "RESULT_FILE", "PROGRESS_FILE", "PIPELINERUN_FILE", "LAUNCHER_PID_FILE", "RUNNER_PID_FILE", "LAUNCHER_LOG", "RUNNER_LOG",
  "MANIFEST_FILE", "PODS_DIR", "TASKRUNS_FILE", "PIPELINERUN_JSON_FILE", "NAMESPACE_PREFIX", "PIPELINERUN_PREFIX", "WATCHDOG_MARGIN_S", "COMMIT_FILE", "RUNNER_INSTANCE_FILE",
];

/** `readonly <name>=<value>` per copy, the value as the launcher's `# @@RULES@@` line renders it. */
function readonlyBlock(copies: ReadonlyArray<readonly [string, string]>): string {
  return copies.map(([name, rule]) => `readonly ${name}=${ruleAssignment(rule).replace(/^UCI_(RE_)?[A-Z0-9_]+=/, "")}\n`).join("");
}

/**
 * The runner's jq programs, one `.jq` part each (docs/runner.md#jq-parts): the bash variable holding it and its file
 * under src/runner/jq/, tested alone with `jq -f` (test/runner/jq-parts.test.ts).
 */
export const RUNNER_JQ: ReadonlyArray<readonly [string, string]> = [
  ["JQ_POLL", "poll.jq"],
  ["JQ_FAILURES", "failures.jq"],
  ["JQ_RECORD", "record.jq"],
  ["JQ_SWEEP_NAMESPACES", "sweep-namespaces.jq"],
  ["JQ_SWEEP_PIPELINERUNS", "sweep-pipelineruns.jq"],
  ["JQ_DUPLICATE_KEY", "duplicate-key.jq"],
  ["JQ_MANIFEST_ROWS", "manifest-rows.jq"],
  ["JQ_PIPELINERUN_OBJECT", "pipelinerun-object.jq"],
];

/** Where the jq parts live, relative to the repository. */
export const RUNNER_JQ_DIR = "src/runner/jq";

/** `readonly <name>='<the program>'`: the file as it is, in single quotes (a `'` in it as `'\''`). */
function jqBlock(name: string, file: string): string {
  const program = readFileSync(new URL(`../${RUNNER_JQ_DIR}/${file}`, import.meta.url), "utf8").replace(/\n$/, "");
  // SC2016: the `$` in it are jq's, not the shell's.
  return `# shellcheck disable=SC2016\nreadonly ${name}='${program.replaceAll("'", "'\\''")}'\n`;
}

/** What each region's source renders to. */
const SOURCES: Readonly<Record<string, () => string>> = {
  "src/rules.ts": () => readonlyBlock(RUNNER_RULES),
  "src/host/run-dir.ts": () => readonlyBlock(RUNNER_CONTRACT.map((name) => [name, name])),
  "src/host/run-liveness.sh": () => withIncludes("# uci:include run-liveness.sh\n", RUNNER_PATH),
  ...Object.fromEntries(RUNNER_JQ.map(([name, file]) => [`${RUNNER_JQ_DIR}/${file}`, () => jqBlock(name, file)])),
};

const REGION = /^# >>> generated from (\S+) \(npm run build\) >>>\n[\s\S]*?^# <<< generated <<<$/gm;

/** `runner` with every generated region rewritten from its source; an unknown source or no region at all is a bug. */
export function assembleRunner(runner: string): string {
  let regions = 0;
  const out = runner.replace(REGION, (_region, source: string) => {
    const render = Object.hasOwn(SOURCES, source) ? SOURCES[source] : undefined;
    if (render === undefined) throw new Error(`${RUNNER_PATH}: a generated region names an unknown source ${source}`);
    regions++;
    return `# >>> generated from ${source} (npm run build) >>>\n${render()}# <<< generated <<<`;
  });
  if (regions !== Object.keys(SOURCES).length) throw new Error(`${RUNNER_PATH}: expected ${Object.keys(SOURCES).length} generated regions, found ${regions}`);
  return out;
}
