/** Renders the fixed launcher (launcher.sh) with validated, shell-quoted settings (docs/launcher.md). */
import { UsageError } from "../errors.ts";
import {
  FULL_SHA, PROXY_URL_MAX, REPO_URL_MAX, SCRIPT_PATH, SCRIPT_PATH_MAX, TIMEOUT_MS_MAX, TIMEOUT_MS_MIN,
  checkAbsolutePath, checkProxyUrl, checkRepoUrl, checkRunId, checkStringSetting,
} from "../rules.ts";
import template from "./launcher.sh";
import { fillTemplate, prepared } from "./template.ts";

/** Everything the launcher is rendered from; nothing else reaches the host. */
export interface LauncherSettings {
  /** `environments.dev.ci.repo`: an https git URL. */
  repo: string;
  /** Full 40-hex commit that supplied deploy.json. */
  manifestCommit: string;
  /** `environments.dev.ci.scriptPath`: scripts/ci/<name>.sh. */
  scriptPath: string;
  /** The run id (src/runs/run-id.ts). */
  runId: string;
  /** Always "dev" for this runner. */
  environment: "dev";
  /** `environments.dev.ci.timeoutMs`. */
  timeoutMs: number;
  /** Pass `--keep-namespace` to the runner. */
  keepNamespace: boolean;
  /** Parent of the work dir `<workRoot>/<runId>`. @default DEFAULT_WORKSPACE.workRoot */
  workRoot: string;
  /** Parent of the result dir `<runsRoot>/<runId>`. @default DEFAULT_WORKSPACE.runsRoot */
  runsRoot: string;
  /** The only way out for git on the host. @default DEFAULT_WORKSPACE.egressProxy */
  egressProxy: string;
}

/** Throws a UsageError naming the first bad field of `settings`. */
export function validateLauncherSettings(settings: LauncherSettings): void {
  const s = settings as unknown as Record<string, unknown>;
  checkStringSetting("repo", s.repo, (v) => tooLong(v, REPO_URL_MAX) ?? checkRepoUrl(v));
  checkStringSetting("manifestCommit", s.manifestCommit, (v) =>
    FULL_SHA.test(v) ? undefined : "must be a full 40-character lowercase commit SHA");
  checkStringSetting("scriptPath", s.scriptPath, (v) =>
    tooLong(v, SCRIPT_PATH_MAX) ?? (SCRIPT_PATH.test(v) && !v.includes("..") ? undefined : "must be scripts/ci/<name>.sh with <name> of letters, digits, '.', '_' or '-'"));
  checkStringSetting("runId", s.runId, checkRunId);
  checkStringSetting("environment", s.environment, (v) => (v === "dev" ? undefined : "must be \"dev\""));
  const t = s.timeoutMs;
  if (typeof t !== "number" || !Number.isInteger(t) || t < TIMEOUT_MS_MIN || t > TIMEOUT_MS_MAX) {
    throw new UsageError(`timeoutMs ${JSON.stringify(t)} must be an integer from ${TIMEOUT_MS_MIN} to ${TIMEOUT_MS_MAX}`);
  }
  if (typeof s.keepNamespace !== "boolean") throw new UsageError(`keepNamespace must be a boolean, got ${typeof s.keepNamespace}`);
  checkStringSetting("workRoot", s.workRoot, checkAbsolutePath);
  checkStringSetting("runsRoot", s.runsRoot, checkAbsolutePath);
  checkStringSetting("egressProxy", s.egressProxy, (v) => tooLong(v, PROXY_URL_MAX) ?? checkProxyUrl(v));
}

function tooLong(value: string, max: number): string | undefined {
  return value.length > max ? `is ${value.length} characters long; at most ${max} are allowed` : undefined;
}

/** The launcher script for `settings`: validated, then the template with each value shell-quoted. */
export function renderLauncher(settings: LauncherSettings): string {
  validateLauncherSettings(settings);
  return fillTemplate(
    prepared(template, "launcher.sh"),
    {
      REPO: settings.repo,
      MANIFEST_COMMIT: settings.manifestCommit,
      SCRIPT_PATH: settings.scriptPath,
      RUN_ID: settings.runId,
      ENVIRONMENT: settings.environment,
      TIMEOUT_MS: String(settings.timeoutMs),
      KEEP_NAMESPACE: settings.keepNamespace ? "true" : "false",
      WORK_ROOT: settings.workRoot,
      RUNS_ROOT: settings.runsRoot,
      EGRESS_PROXY: settings.egressProxy,
    },
    "launcher.sh",
  );
}
