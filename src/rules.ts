/**
 * Every value rule, declared once (STYLE.md): run id, commit SHA, https repo URL, script path, workspace
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

/**
 * An https git URL without credentials, whitespace or shell metacharacters: a host, an optional port of
 * 1-5 digits (checked to 1-65535 by {@link checkRepoUrl}), and path segments none of which is `.` or `..`.
 */
export const HTTPS_REPO = /^https:\/\/[A-Za-z0-9.-]+(:[0-9]{1,5})?(\/[A-Za-z0-9._~-]+)+\/?$/;

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
/** Longest accepted workRoot/runsRoot, so derived paths stay far from PATH_MAX. */
export const ABSOLUTE_PATH_MAX = 200;

/** The egress proxy: `http://host:port` (optionally with a trailing slash), no credentials; port 1-65535. */
export const PROXY_URL = /^http:\/\/[A-Za-z0-9.-]+:([0-9]{1,5})\/?$/;

/** The fixed workspace settings on D601 (SPEC §4). */
export const DEFAULT_WORKSPACE = {
  workRoot: "/tmp/unidesk-ci",
  runsRoot: "/home/ubuntu/.unidesk/runs",
  egressProxy: "http://127.0.0.1:18789",
} as const;

/** Largest result.json (bytes): the readers and the cancel script return this much of it, and a bigger one is `corrupt`. */
export const RESULT_MAX_BYTES = 65_536;
/** Bytes of the last runner.log / launcher.log line the status reader returns at most. */
export const STATUS_LINE_CAP_BYTES = 1_024;
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

/** Why `url` is not an acceptable manifest repo URL, or undefined when it is fine. */
export function checkRepoUrl(url: string): string | undefined {
  const match = HTTPS_REPO.exec(url);
  const port = match?.[1] ? Number(match[1].slice(1)) : 443;
  if (!match || port < 1 || port > 65535) return "must be an https:// git URL without credentials, spaces or shell characters";
  return undefined;
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
  const match = PROXY_URL.exec(url);
  const port = match ? Number(match[1]) : 0;
  if (!match || port < 1 || port > 65535) return "must be an http://host:port URL with a port of 1-65535 and no credentials, e.g. http://127.0.0.1:18789";
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
