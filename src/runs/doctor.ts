/** `doctor`'s checks as data: the laptop's clone and configuration, then one dispatch of the read-only probe (docs/setup-d601.md). */
import type { Env } from "../env.ts";
import { AuthError, CheckFailedError, CliError, ConfigError, DispatchError, ManifestError } from "../errors.ts";
import { resolveConfig, requireDispatchTarget, type Config, type ConfigFlags } from "../config.ts";
import { HOST_SSH_BUDGET_MS } from "../dispatch/wire.ts";
import { CLONE_READ, loadFromOrigin, makeGit, MANIFEST_REF, MANIFEST_SOURCE, sshEnv, type GitBound, type LoadedManifest } from "../manifest/load.ts";
import { redactUserinfo, untrustedLine } from "../redact.ts";
import { checkRepoUrl, FULL_SHA } from "../rules.ts";
import { runHostScript } from "../host/run-script.ts";
import { hostChecksNotRun, parseDoctorProbeOutput, renderDoctorProbe, type DoctorCheck } from "../host/doctor-probe.ts";
import { hostHints } from "../io/doctor-hints.ts";

export type { DoctorCheck };

/** Everything doctor found, and the exit code it means (docs/exit-codes.md#doctor). */
export interface DoctorReport {
  ok: boolean;
  checks: DoctorCheck[];
  /** 0 all pass; 4 configuration or credentials; 5 backend or host unreachable; 1 any other failed check. */
  exitCode: 0 | 1 | 4 | 5;
  /** The error behind a non-zero exit: its first failed check, as a CliError of the right class. */
  error?: CliError;
}

/** The local checks, in order: the clone, origin/master, the manifest, origin ↔ ci.repo. */
export const LOCAL_CHECK_IDS = ["git-clone", "origin-master", "manifest", "same-repository"] as const;
type LocalId = (typeof LOCAL_CHECK_IDS)[number];

/** Which local check a loadFromOrigin failure belongs to (by the field its ManifestError names). */
function failedCheck(error: ManifestError): LocalId {
  const path = error.issues?.[0]?.path;
  if (path === "remote.origin.url" || path === MANIFEST_REF) return "origin-master";
  // Schema issues are reported as "<source>: <path>: …"; the repository comparison as "<path>: …".
  if (error.message.startsWith(`${MANIFEST_SOURCE}: `)) return "manifest";
  if (path === "environments.dev.ci.repo") return "same-repository";
  if (path === "environments.dev.ci.scriptPath") return "manifest";
  return "git-clone";
}

const LOCAL_HINTS: Record<LocalId, string> = {
  "git-clone": "run unidesk-ci doctor in your clone of the repository, or pass --repo-dir <clone>",
  "origin-master": "check that origin is reachable with your git credentials (git ls-remote origin master) and that master is pushed",
  manifest: "fix deploy.json on master (unidesk-ci validate deploy.json shows every problem) and push it",
  "same-repository": "run doctor in a clone of environments.dev.ci.repo (or pass --repo-dir), or fix environments.dev.ci.repo",
};

/** How long doctor waits for origin's answer to `ls-remote` (one ref over the network; http stalls end at 20 s). */
const LS_REMOTE: GitBound = { ms: 60_000, what: "asking origin for master; check that origin is reachable, and .git/config and the files it includes" };

/** What origin's master is, asked over the network (read-only: nothing is fetched). */
async function lsRemote(repoDir: string, env: Env): Promise<{ sha?: string; problem?: string }> {
  try {
    // Bounded like every read of the clone (the config it reads may be a FIFO), and ls-remote by LS_REMOTE (a
    // host that never answers an ssh connection): doctor always ends.
    const remote = makeGit(repoDir, env, LS_REMOTE);
    const r = await remote(["-c", "http.lowSpeedLimit=1", "-c", "http.lowSpeedTime=20", "ls-remote", "--quiet", "origin", "refs/heads/master"], await sshEnv(makeGit(repoDir, env, CLONE_READ), env));
    const sha = new RegExp(`^(${FULL_SHA.source.slice(1, -1)})\trefs/heads/master$`, "m").exec(r.stdout)?.[1];
    if (r.code === 0 && sha) return { sha };
    const why = r.stderr.split("\n").map((l) => l.trim()).find((l) => l !== "")?.replace(/^(fatal|error): /, "");
    return { problem: r.code === 0 ? "origin has no master branch" : `git ls-remote origin failed (${untrustedLine(why ?? `exit ${r.code}`, env.secrets)})` };
  } catch (error) {
    return { problem: error instanceof Error ? error.message : String(error) };
  }
}

/** The clone checks, and the repository the probe tries through the egress proxy ("" when none is valid). */
export async function localChecks(repoDir: string, env: Env): Promise<{ checks: DoctorCheck[]; repo: string }> {
  const [loaded, remote] = await Promise.all([
    loadFromOrigin(repoDir, env, { fetch: false }).then(
      (l): LoadedManifest | ManifestError => l,
      (e: unknown) => {
        if (e instanceof ManifestError) return e;
        throw e;
      },
    ),
    lsRemote(repoDir, env),
  ]);
  const failed = loaded instanceof ManifestError ? failedCheck(loaded) : undefined;
  const failedAt = failed === undefined ? LOCAL_CHECK_IDS.length : LOCAL_CHECK_IDS.indexOf(failed);
  const ok = loaded instanceof ManifestError ? undefined : loaded;
  const passed: Record<LocalId, () => string> = {
    "git-clone": () => `${ok?.repoDir ?? repoDir} is a git work tree`,
    "origin-master": () => "",
    manifest: () => {
      // Only same-repository can fail after the manifest parsed, and then loadFromOrigin returns nothing to describe.
      if (ok === undefined) return `${MANIFEST_SOURCE} is valid`;
      const ci = ok.manifest.environments.dev.ci;
      return `${MANIFEST_SOURCE} at ${ok.commit.slice(0, 12)} is valid: ${ci.scriptPath}, timeout ${ci.timeoutMs} ms, ${ok.manifest.environments.dev.services.length} dev service(s)`;
    },
    "same-repository": () => `origin ${redactUserinfo(ok!.originUrl)} is environments.dev.ci.repo ${ok!.manifest.environments.dev.ci.repo}`,
  };
  const checks = LOCAL_CHECK_IDS.map((id, i): DoctorCheck => {
    if (i > failedAt) return { id, ok: false, detail: `not checked: ${LOCAL_CHECK_IDS[failedAt]} failed`, hint: `fix ${LOCAL_CHECK_IDS[failedAt]} first` };
    if (i === failedAt) return { id, ok: false, detail: (loaded as ManifestError).message, hint: LOCAL_HINTS[id] };
    if (id !== "origin-master") return { id, ok: true, detail: passed[id]() };
    return originMasterCheck(loaded, remote);
  });
  const repo = ok?.manifest.environments.dev.ci.repo ?? (ok && checkRepoUrl(ok.originUrl) === undefined ? ok.originUrl : "");
  return { checks, repo };
}

/**
 * origin/master passes when the local ref exists and origin answers; a stale local ref is named, since
 * the manifest checked here is the local one while a run fetches first.
 */
function originMasterCheck(loaded: LoadedManifest | ManifestError, remote: { sha?: string; problem?: string }): DoctorCheck {
  const id = "origin-master";
  const local = loaded instanceof ManifestError ? undefined : loaded.commit;
  if (remote.problem !== undefined) return { id, ok: false, detail: remote.problem, hint: LOCAL_HINTS[id] };
  if (local === undefined || local === remote.sha) return { id, ok: true, detail: `${MANIFEST_REF} is ${remote.sha!.slice(0, 12)}, as on origin` };
  return { id, ok: true, detail: `origin's master is ${remote.sha!.slice(0, 12)}, the local ${MANIFEST_REF} ${local.slice(0, 12)} is behind: a run reads origin's (git fetch origin master to check that one)` };
}

/** The configuration checks; a target only when both the backend URL and the token are usable. */
async function configChecks(flags: ConfigFlags, env: Env): Promise<{ checks: DoctorCheck[]; config?: Config; error?: CliError }> {
  let config: Config;
  try {
    config = await resolveConfig(flags, env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const skipped = (id: string): DoctorCheck => ({ id, ok: false, detail: "not checked: config failed", hint: "fix config first" });
    return { checks: [{ id: "config", ok: false, detail: error.message, hint: error.hint ?? "fix the setting it names (docs/configuration.md)" }, skipped("backend-url"), skipped("token")], error };
  }
  const where = config.configFile ?? "$XDG_CONFIG_HOME/unidesk-ci/config.json";
  const checks: DoctorCheck[] = [
    { id: "config", ok: true, detail: `provider ${config.providerId}, runsRoot ${config.runsRoot}, workRoot ${config.workRoot}, egressProxy ${config.egressProxy}` },
    config.backendUrl === undefined
      ? { id: "backend-url", ok: false, detail: "no backend URL configured", hint: `set UNIDESK_BACKEND_URL, pass --backend-url URL, or add "backendUrl" to ${where}` }
      : { id: "backend-url", ok: true, detail: config.backendUrl },
  ];
  if (config.tokenError !== undefined) checks.push({ id: "token", ok: false, detail: config.tokenError.message, hint: config.tokenError.hint ?? "fix the token setting it names (docs/configuration.md)" });
  else if (config.token === undefined) checks.push({ id: "token", ok: false, detail: "no token configured", hint: `set UNIDESK_TOKEN_FILE (a file holding the token) or UNIDESK_TOKEN, pass --token-file FILE, or add "tokenFile" to ${where}` });
  // Only where the token came from: never the token, not even its length.
  else checks.push({ id: "token", ok: true, detail: `from ${config.tokenSource ?? "the configuration"}` });
  let error: CliError | undefined;
  try {
    requireDispatchTarget(config);
  } catch (e) {
    if (!(e instanceof AuthError || e instanceof ConfigError)) throw e;
    error = e;
  }
  return { checks, config, error };
}

/** How the probe is dispatched: one attempt plus at most one retry, so doctor makes at most two dispatch calls. */
export const PROBE_MAX_RETRIES = 1;

/** What doctor tells before it dispatches the probe: the laptop's checks, and the ones still to come (as not checked). */
export type OnProbing = (laptop: readonly DoctorCheck[], pending: readonly DoctorCheck[], config: Config) => void;

/**
 * Runs every check: the clone and the configuration side by side, then (with a usable target) one
 * dispatch of the read-only probe, `onProbing` called just before it. Never throws for a failed check; the report says what failed.
 */
export async function runDoctorChecks(repoDir: string, flags: ConfigFlags, env: Env, onProbing?: OnProbing): Promise<DoctorReport> {
  const [local, conf] = await Promise.all([localChecks(repoDir, env), configChecks(flags, env)]);
  const checks = [...local.checks, ...conf.checks];
  let error: CliError | undefined = conf.error;
  const notRun: DoctorCheck[] = [{ id: "dispatch", ok: false, detail: "not checked: no usable backend URL and token", hint: "fix backend-url and token first" }, ...hostChecksNotRun("the probe was not dispatched")];
  if (conf.config === undefined || conf.error !== undefined) {
    checks.push(...notRun);
  } else {
    const config = conf.config;
    const target = { ...requireDispatchTarget(config), maxRetries: PROBE_MAX_RETRIES };
    const command = renderDoctorProbe({ runsRoot: config.runsRoot, workRoot: config.workRoot, egressProxy: config.egressProxy, repo: local.repo });
    onProbing?.(checks, notRun, config);
    const startedMs = env.now().getTime();
    try {
      const stdout = await runHostScript(target, { name: "doctor probe", command, timeoutMs: HOST_SSH_BUDGET_MS }, env);
      const host = parseDoctorProbeOutput(stdout, hostHints(config));
      checks.push({ id: "dispatch", ok: true, detail: `the probe ran on ${config.providerId} through ${config.backendUrl} in ${env.now().getTime() - startedMs} ms` }, ...host);
    } catch (e) {
      if (!(e instanceof AuthError || e instanceof DispatchError)) throw e;
      error = e;
      checks.push({ id: "dispatch", ok: false, detail: e.message, hint: e.hint ?? (e instanceof AuthError ? "check the token and its access to the provider" : `check that backend-core and ${config.providerId} are up`) }, ...hostChecksNotRun("the probe did not answer"));
    }
  }
  const firstFailed = checks.find((c) => !c.ok);
  if (error === undefined && firstFailed !== undefined) {
    const failures = checks.filter((c) => !c.ok).length;
    error = new CheckFailedError(`${failures} doctor check${failures === 1 ? "" : "s"} failed, first ${firstFailed.id}: ${firstFailed.detail}`, firstFailed.hint ? { hint: firstFailed.hint } : {});
  }
  const exitCode = error === undefined ? 0 : (error.exitCode as 1 | 4 | 5);
  return { ok: exitCode === 0, checks, exitCode, ...(error ? { error } : {}) };
}
