/**
 * Every value rule, declared once (docs/building.md#conventions): run id, commit SHA, https repo URL, script path, workspace
 * paths, proxy URL, service id, timeout bounds, file and size caps. The fixed host scripts get them at build
 * time (`@@RULES@@`, src/host/template.ts); the Git-controlled runner holds copies that test/rules.test.ts
 * keeps equal.
 */
import { UsageError } from "./errors.ts";

/** Any acceptable run id: a DNS label of at most 40 characters, so derived names stay ≤ 63. */
export const RUN_ID = /^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$/;
/** Longest run id; `unidesk-ci-<runId>` (namespace) and `e2e-<runId>` (PipelineRun) stay ≤ 63. */
export const RUN_ID_MAX = 40;
/** Generated ids: `dev-YYYYMMDD-HHMMSS-<6 base36>` (UTC), e.g. dev-20261127-162626-k3x9a2. */
export const GENERATED_RUN_ID = /^dev-[0-9]{8}-[0-9]{6}-[a-z0-9]{6}$/;

/** A full 40-hex git commit id. */
export const FULL_SHA = /^[0-9a-f]{40}$/;

// Parts of HTTPS_REPO and PROXY_URL. They must stay POSIX EREs (bash's [[ =~ ]] gets them): no lookaheads, no
// \d, no lazy quantifiers, so "1-65535" is spelled out as alternatives.
/** A path segment: not starting with a dot, so `.`, `..` and `.git` (which no fetch can name) are out. */
const REPO_SEGMENT = "[A-Za-z0-9_~-][A-Za-z0-9._~-]*";
/** A TCP port from 1 to 65535 without leading zeros. */
const PORT = "(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3})";

/**
 * An https git URL without credentials, whitespace or shell metacharacters: a host, an optional port of
 * 1-65535, and path segments none of which starts with a dot (a POSIX ERE: the host scripts use it too).
 */
export const HTTPS_REPO = new RegExp(`^https://[A-Za-z0-9.-]+(:${PORT})?(/${REPO_SEGMENT})+/?$`);

/** `scripts/ci/<name>.sh`, name of [A-Za-z0-9._-], no further directories. */
export const SCRIPT_PATH = /^scripts\/ci\/[A-Za-z0-9._-]+\.sh$/;

/** A service id usable inside a Tekton param name. */
export const SERVICE_ID = /^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$/;

/** Bounds of `environments.dev.ci.timeoutMs`: one minute to six hours. */
export const TIMEOUT_MS_MIN = 60_000;
/** Upper bound of `timeoutMs`: the runner's longest wait. */
export const TIMEOUT_MS_MAX = 21_600_000;

/** An absolute path of plain segments ([A-Za-z0-9._-]), no trailing slash, no `.` or `..` segment. */
export const ABSOLUTE_PATH = /^(\/[A-Za-z0-9._-]+)+$/;
/** Longest accepted workRoot/runsRoot, so derived paths stay far from PATH_MAX and the launcher within LAUNCHER_MAX_BYTES. */
export const ABSOLUTE_PATH_MAX = 128;

/** The egress proxy: `http://host:port` (optionally with a trailing slash), no credentials; port 1-65535. */
export const PROXY_URL = new RegExp(`^http://[A-Za-z0-9.-]+:${PORT}/?$`);

/** The fixed workspace settings on D601 (docs/launcher.md). */
export const DEFAULT_WORKSPACE = {
  workRoot: "/tmp/unidesk-ci",
  runsRoot: "/home/ubuntu/.unidesk/runs",
  egressProxy: "http://127.0.0.1:18789",
} as const;

/** Largest result.json (bytes): the readers and the cancel script return this much of it, and a bigger one is `corrupt`. */
export const RESULT_MAX_BYTES = 262_144;

/**
 * The most bytes of one container's log the runner saves (its live stream and its final fetch alike, `kubectl logs
 * --limit-bytes`): a container that logs without end cannot fill D601's disk; the cut is noted in the file and in
 * runner.log (docs/runner.md#pod-logs).
 */
export const POD_LOG_MAX_BYTES = 16 * 1024 * 1024;
/** A pipeline task name (`logs --task`): a DNS label, as Tekton requires of a Pipeline's task names. */
export const TASK_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** A UTC timestamp as the launcher logs it (`date -u +%FT%T.%3NZ`) and Tekton stamps it: the runner reads the `fetch` phase's start from it. */
export const ISO_TIME = /^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?Z$/;

/** Failed steps result.json records at most (`failures`); more are counted in the runner's log only. */
export const FAILURES_MAX = 20;
/** Last lines of a failed step's log kept in result.json (`failures[].tail`). */
export const FAILURE_TAIL_LINES = 20;
/** Characters kept of each tail line and of a failure's message. */
export const FAILURE_LINE_MAX_CHARS = 400;

/** Bytes kept per file by the logs reader (its tail): 256 KiB. */
export const LOGS_FILE_CAP_BYTES = 262_144;
/** Bytes kept over all files by the logs reader: 2 MiB, about 2.7 MiB of base64, far inside a 60 s dispatch. */
export const LOGS_TOTAL_CAP_BYTES = 2_097_152;
/** Highest accepted logs cap: 16 MiB. */
export const LOGS_CAP_MAX_BYTES = 16_777_216;
/** Files one logs-reader call reads at most; the others are counted as omitted (a run dir has a few dozen). */
export const LOGS_MAX_FILES = 200;
/** Names the logs reader lists at most before picking LOGS_MAX_FILES of them, so its own work stays bounded. */
export const LOGS_SCAN_MAX_FILES = 100_000;
/**
 * Largest dispatch answer read (bytes); a longer body is aborted. Room for the logs reader's largest answer:
 * LOGS_CAP_MAX_BYTES as base64, plus 8 MiB for paths, records, JSON escapes and stderr.
 */
export const DISPATCH_RESPONSE_MAX_BYTES = Math.ceil(LOGS_CAP_MAX_BYTES / 3) * 4 + 8_388_608;

/** Why a run id is unacceptable, or undefined when it is fine. */
export function checkRunId(id: string): string | undefined {
  if (id.length === 0) return "is empty";
  if (id.length > RUN_ID_MAX) return `is ${id.length} characters long; at most ${RUN_ID_MAX} are allowed`;
  if (!RUN_ID.test(id)) return "must be lowercase letters, digits and '-', starting and ending with a letter or digit (e.g. dev-20261127-162626-k3x9a2)";
  return undefined;
}

/** Why `url` is not an acceptable manifest repo URL (one {@link HTTPS_REPO} verdict, explained), or undefined when it is fine. */
export function checkRepoUrl(url: string): string | undefined {
  if (HTTPS_REPO.test(url)) return undefined;
  const example = "e.g. https://github.com/pikasTech/unidesk";
  const authority = /^https:\/\/([^/]*)/.exec(url)?.[1];
  if (authority === undefined) return `must be an https:// git URL, ${example}`;
  if (authority.includes("@")) return `must not contain credentials (deploy.json is committed: never put a token in it), ${example}`;
  const port = /:([^:]*)$/.exec(authority)?.[1];
  if (port !== undefined && !new RegExp(`^${PORT}$`).test(port)) return `has port '${port}': a port must be 1-65535 without leading zeros (https needs none: 443 is its default)`;
  if (url.slice(8 + authority.length).split("/").some((s) => s.startsWith("."))) {
    return `must not have a path segment starting with '.' (such as '.git' or '..'): name the repository itself, ${example}`;
  }
  return `must be an https:// git URL without credentials, spaces or shell characters, ${example}`;
}

/** Why `path` is not an acceptable workspace root, or undefined when it is fine. */
export function checkAbsolutePath(path: string): string | undefined {
  if (path.length > ABSOLUTE_PATH_MAX) return `is ${path.length} characters long; at most ${ABSOLUTE_PATH_MAX} are allowed`;
  if (!ABSOLUTE_PATH.test(path)) return "must be an absolute path of letters, digits, '.', '_', '-' and '/' without a trailing slash, e.g. /tmp/unidesk-ci";
  if (path.split("/").some((s) => s === "." || s === "..")) return "must not contain '.' or '..' segments";
  return undefined;
}

/** Why `url` is not an acceptable egress proxy URL, or undefined when it is fine. */
export function checkProxyUrl(url: string): string | undefined {
  if (!PROXY_URL.test(url)) return "must be an http://host:port URL with a port of 1-65535 and no credentials, e.g. http://127.0.0.1:18789";
  return undefined;
}

/** Throws a UsageError naming `field` when `problem` is set. */
export function rejectSetting(field: string, value: unknown, problem: string | undefined): void {
  if (problem !== undefined) throw new UsageError(`${field} ${JSON.stringify(value)} ${problem}`);
}

/** Checks a string setting's type, then its content with `check`. */
export function checkStringSetting(field: string, value: unknown, check: (v: string) => string | undefined): void {
  if (typeof value !== "string") throw new UsageError(`${field} must be a string, got ${typeof value}`);
  rejectSetting(field, value, check(value));
}

/** Checks a cap setting: an integer number of `unit` within [min, max]. */
export function checkCapSetting(field: string, value: unknown, min: number, max: number, unit = "bytes"): void {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new UsageError(`${field} ${JSON.stringify(value)} must be an integer number of ${unit} from ${min} to ${max}`);
  }
}

/** Largest deploy.json accepted (bytes), by `validate`, `run-dev-e2e` and the runner alike. */
export const MANIFEST_MAX_BYTES = 1_048_576;
/** Deepest nesting of arrays/objects anywhere in deploy.json (jq and the runner stay far from their limits). */
export const MANIFEST_MAX_DEPTH = 64;
/** Most entries in `environments.dev.services` (each becomes a PipelineRun param). */
export const SERVICES_MAX = 100;
/** Largest config file or token file read (bytes). */
export const CONFIG_FILE_MAX_BYTES = 65_536;

/** The namespace holding the Pipeline, its ServiceAccount and every PipelineRun (scripts/ci/dev-e2e.sh's copy: CI_NAMESPACE). */
export const CI_NAMESPACE = "unidesk-ci";
/** The Pipeline every run starts (scripts/ci/tekton/unidesk-dev-namespace-e2e.yaml; the runner's PIPELINE_NAME). */
export const PIPELINE_NAME = "unidesk-dev-namespace-e2e";
/** The Pipeline's ServiceAccount, bound to ClusterRole edit in each temporary namespace (the runner's SERVICE_ACCOUNT). */
export const PIPELINE_SERVICE_ACCOUNT = "unidesk-ci-e2e";
/**
 * Seconds a result dir without launcher.pid or runner.pid counts as live: a launcher between its `mkdir` and
 * `launcher.pid`. The liveness rule of the readers (src/host/run-liveness.sh) and of the runner's sweep (its copy:
 * SWEEP_GRACE_S) alike.
 */
export const RUN_YOUNG_GRACE_S = 60;
/** Least free disk `doctor` accepts under the runs root and the work root: 256 MiB (logs, the fetched commit). */
export const DOCTOR_MIN_FREE_BYTES = 268_435_456;
/** Longest `--wait-ms` (run-dev-e2e, logs --follow, cancel), the operator's deadline: one day. */
export const WAIT_MS_MAX = 86_400_000;
/** How long the watch reader waits on the host for something new (ms): under 2 answers a minute for a quiet run, inside host.ssh's 60 s budget with ANSWER_MARGIN_MS. */
export const WATCH_WAIT_MS = 35_000;
/** Longest wait a caller may ask of the watch reader (ms), leaving 20 s of the 60 s budget for the answer. */
export const WATCH_WAIT_MS_MAX = 40_000;
/** How often the waiting watch reader looks at the run dir (ms). */
export const WATCH_POLL_MS = 200;
/** After the first change the watch reader gathers more for this long (ms), so a burst of lines is one answer. */
export const WATCH_BURST_MS = 300;
/** New bytes one watch answer carries at most, over all files (the rest comes in the next answer). */
export const WATCH_ANSWER_CAP_BYTES = 262_144;
/** Highest accepted watch answer cap: 4 MiB. */
export const WATCH_ANSWER_CAP_MAX_BYTES = 4_194_304;
/** Files a watch request may hold offsets for, and a watch answer reports, at most. */
export const WATCH_FILES_MAX = 200;
/** Bytes of progress.json a watch answer carries at most. */
export const WATCH_PROGRESS_CAP_BYTES = 65_536;
/** A watched file of a run dir: launcher.log, runner.log, or a plain name under pods/ (no `..`, no hidden temp file). */
export const WATCH_PATH = /^(launcher\.log|runner\.log|pods\/[A-Za-z0-9_-][A-Za-z0-9._-]{0,199})$/;
/** A file `logs --file` may name: relative to the run dir, at most one directory deep, no `..`, no hidden file. */
export const RUN_FILE_PATH = /^([A-Za-z0-9_-][A-Za-z0-9._-]{0,199}\/)?[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}$/;
/** A followed log line longer than this (bytes) is shown in pieces, so one endless line cannot use up memory. */
export const FOLLOW_LINE_MAX_BYTES = 1_048_576;
/** The version of progress.json a watch answer names (`<inode>:<size>:<mtime>`), echoed back by the next request. */
export const WATCH_PROGRESS_VERSION = /^[0-9]{1,20}:[0-9]{1,15}:[0-9]{1,12}(\.[0-9]{1,10})?$/;

/** Runs `unidesk-ci runs` lists when no --limit is given. */
export const RUNS_LIMIT_DEFAULT = 20;
/** Most runs one `runs` listing returns (each costs a few small reads on the host). */
export const RUNS_LIMIT_MAX = 500;
/** Bytes of result.json the runs lister reads per run (a runner's is about 600); a larger one lists as corrupt. */
export const RUNS_RESULT_CAP_BYTES = 8_192;
/** Longest repo URL the launcher takes (GitHub's longest https URL is about 165), so its size stays bounded. */
export const REPO_URL_MAX = 200;
/** Longest `scriptPath` the launcher takes. */
export const SCRIPT_PATH_MAX = 64;
/** Longest egress proxy URL the launcher takes. */
export const PROXY_URL_MAX = 64;
/** Largest rendered launcher (bytes), for the longest valid settings: small enough to audit in `--dry-run`. */
export const LAUNCHER_MAX_BYTES = 8_192;

/** Why `url` is not an acceptable backend-core base URL, or undefined when it is fine (the flag, the environment and the config file alike). */
export function checkBackendUrl(url: string): string | undefined {
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (parsed === undefined || (parsed.protocol !== "https:" && parsed.protocol !== "http:")) return "is not an http(s) URL; use the backend-core base URL, e.g. https://backend.example.com";
  if (parsed.username !== "" || parsed.password !== "") return "must not contain credentials; put the token in a file named by --token-file or UNIDESK_TOKEN_FILE instead";
  if (parsed.search !== "" || parsed.hash !== "") return "must not have a query or fragment; use the backend-core base URL, e.g. https://backend.example.com";
  return undefined;
}

/**
 * A run reference where a run id is taken (`logs`, `cancel`, `report`): `@latest` names the newest run dir on the
 * host, `@latest-failed` the newest whose result.json says it did not succeed (docs/commands.md#latest). The host
 * script the command already sends resolves it (src/host/run-ref.sh) and names the run id it chose.
 */
export const RUN_REF = /^@latest(-failed)?$/;
/** Why `ref` is neither a run id nor a run reference, or undefined when it is fine. */
export function checkRunRef(ref: string): string | undefined {
  if (RUN_REF.test(ref)) return undefined;
  if (ref.startsWith("@")) return "is not a run reference: use @latest or @latest-failed";
  return checkRunId(ref);
}

/** Bytes of each run's deploy.json the runs lister reads for its `changed` column; a larger one shows as unknown. */
export const RUNS_DEPLOY_CAP_BYTES = 65_536;
/** Manifest commits between the last green run and a failed one whose subjects `changes.commits` lists at most. */
export const CHANGES_COMMITS_MAX = 50;

/** Longest text from outside (backend error code/message, launcher or git stderr) shown in one message, in characters. */
export const UNTRUSTED_TEXT_MAX_CHARS = 200;

/**
 * Shortest bearer token accepted, in characters. Every output masks each occurrence of the token, so a short one
 * (`a`, `eg`) would mask letters of ordinary words, mangle every message and show where it occurs: the token itself
 * (docs/security.md).
 */
export const TOKEN_MIN_CHARS = 8;

/**
 * A bearer token's syntax, RFC 6750 §2.1 `b64token`: letters, digits, `-._~+/`, then `=` padding. Every one of
 * these characters is written as itself by each encoding an output uses (JSON, HTML and XML escaping, the terminal
 * boundary, the log renderer's `\\`), so the writers' redaction always finds the token as it is (docs/security.md).
 */
export const BEARER_TOKEN = /^[A-Za-z0-9._~+/-]+=*$/;

/**
 * Go runtime settings kubectl starts with on D601 (docs/runner.md#kubectl): one thread for every call, and for a
 * request (not a log stream, which may run for hours) no garbage collection below 64 MiB; a third less CPU a call.
 */
export const KUBECTL_STREAM_GO_ENV = "GOMAXPROCS=1";
/** {@link KUBECTL_STREAM_GO_ENV} plus the collector off under a memory limit, for a single request. */
export const KUBECTL_REQUEST_GO_ENV = `${KUBECTL_STREAM_GO_ENV} GOGC=off GOMEMLIMIT=64MiB`;

/**
 * How the runner names Tekton's resources to kubectl (docs/runner.md#kubectl): resource.version.group. The shorter
 * `pipelineruns.tekton.dev` is first read as resource `pipelineruns`, version `tekton`, group `dev`; that miss makes
 * kubectl drop its discovery cache and fetch every API group again, at every call.
 */
export const PIPELINERUNS_RESOURCE = "pipelineruns.v1.tekton.dev";
/** The TaskRuns, named as {@link PIPELINERUNS_RESOURCE} is. */
export const TASKRUNS_RESOURCE = "taskruns.v1.tekton.dev";

/**
 * The most stdout the CLI takes from one child (git): beyond it the child is killed and the command fails with one
 * line. Every git answer it reads is small (a deploy.json of at most MANIFEST_MAX_BYTES, trees, 50 log lines).
 */
export const SPAWN_STDOUT_MAX_BYTES = 16 * 1024 * 1024;
