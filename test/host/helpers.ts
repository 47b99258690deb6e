// Fixtures for the launcher and reader tests: a real local origin repo, real bash runs, polling.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runProcess } from "../support/spawn.ts";
import { SANITY_MS, until } from "../support/until.ts";

/** The repo URL the deploy.json of the fixture names; tests rewrite it to the local bare repo. */
export const FIXTURE_REPO = "https://git.example.test/org/unidesk";

/** A runner stub honouring the runner contract: records its argv and writes result.json (atomically). */
export const RUNNER_STUB = `#!/usr/bin/env bash
set -euo pipefail
rd= id= sha=
printf '%s\\n' "$@" > "$PWD/runner-args.txt"
while (($#)); do
  case $1 in
    --result-dir) rd=$2; shift 2 ;;
    --run-id) id=$2; shift 2 ;;
    --manifest-commit) sha=$2; shift 2 ;;
    *) shift ;;
  esac
done
cp "$PWD/runner-args.txt" "$rd/runner-args.txt"
exec >>"$rd/runner.log" 2>&1
echo "runner started in $PWD"
ls -A "$PWD" > "$rd/work-dir-files.txt"
echo ran >> "$rd/runner-runs.txt"
now=$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)
printf '{"ok":true,"status":"succeeded","runId":"%s","manifestCommit":"%s","pipelineRun":"e2e-%s","temporaryNamespace":"unidesk-ci-%s","finishedAt":"%s","writer":"runner"}\\n' "$id" "$sha" "$id" "$id" "$now" > "$rd/result.json.tmp"
mv "$rd/result.json.tmp" "$rd/result.json"
echo "runner done"
`;

/** A runner that fails without writing result.json. */
export const CRASHING_RUNNER = `#!/usr/bin/env bash
echo "about to crash" >&2
exit 3
`;

/** A runner that logs, then sleeps (a long PipelineRun) and writes nothing unless it finishes. */
export const SLEEPY_RUNNER = `#!/usr/bin/env bash
while (($#)); do case $1 in --result-dir) rd=$2; shift 2 ;; *) shift ;; esac; done
echo $$ > "$rd/runner.pid"
echo "sleepy runner waiting" >> "$rd/runner.log"
sleep 60
`;

/** A runner that owns runner.pid and waits; SIGTERM makes it write a cancelled result.json and exit 143 (like dev-e2e.sh). */
export const CANCELLABLE_RUNNER = `#!/usr/bin/env bash
while (($#)); do case $1 in --result-dir) rd=$2; shift 2 ;; --run-id) id=$2; shift 2 ;; --manifest-commit) sha=$2; shift 2 ;; *) shift ;; esac; done
echo $$ > "$rd/runner.pid"
trap 'kill $! 2>/dev/null; printf "{\\"ok\\":false,\\"status\\":\\"cancelled\\",\\"runId\\":\\"%s\\",\\"manifestCommit\\":\\"%s\\",\\"pipelineRun\\":null,\\"temporaryNamespace\\":null,\\"finishedAt\\":\\"%s\\",\\"writer\\":\\"runner\\"}\\n" "$id" "$sha" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" > "$rd/result.json"; exit 143' TERM
echo "cancellable runner waiting" >> "$rd/runner.log"
sleep 60 & wait
`;

/** A runner that records pipelinerun.txt as the real one does after creating its namespace and PipelineRun, then waits. */
export const STARTED_RUNNER = `#!/usr/bin/env bash
while (($#)); do case $1 in --result-dir) rd=$2; shift 2 ;; --run-id) id=$2; shift 2 ;; *) shift ;; esac; done
echo $$ > "$rd/runner.pid"
printf 'e2e-%s\\n' "$id" > "$rd/pipelinerun.txt"
echo "started runner waiting" >> "$rd/runner.log"
while :; do sleep 0.2; done
`;

/** A runner deaf to SIGTERM (only SIGKILL ends it), without pipelinerun.txt. */
export const STUBBORN_RUNNER = `#!/usr/bin/env bash
while (($#)); do case $1 in --result-dir) rd=$2; shift 2 ;; *) shift ;; esac; done
trap '' TERM
echo $$ > "$rd/runner.pid"
echo "stubborn runner waiting" >> "$rd/runner.log"
while :; do sleep 0.2; done
`;

/** A temp dir removed by the returned cleanup. */
export async function tempDir(prefix: string): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

function git(cwd: string, ...args: string[]): string {
  const r = spawnSync("git", args, {
    cwd,
    encoding: "utf8",
    env: { PATH: process.env.PATH, HOME: cwd, GIT_CONFIG_NOSYSTEM: "1", GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@example.test", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@example.test" },
  });
  if (r.status !== 0) throw new Error(`git ${args.join(" ")} failed: ${r.stderr}`);
  return r.stdout.trim();
}

/** Scripts of the default fixture origin, by name under scripts/ci/. */
export const FIXTURE_SCRIPTS: Record<string, string> = {
  "dev-e2e.sh": RUNNER_STUB, "crash.sh": CRASHING_RUNNER, "sleepy.sh": SLEEPY_RUNNER, "started.sh": STARTED_RUNNER, "stubborn.sh": STUBBORN_RUNNER,
  // Its own exit code 124 is not the launcher's watchdog.
  "exit124.sh": "#!/usr/bin/env bash\nexit 124\n",
};

/**
 * A bare origin repo with deploy.json, scripts/ci/*.sh and `extra` files at one commit. It allows partial
 * fetches (`uploadpack.allowFilter`), as GitHub does.
 */
export async function makeOrigin(root: string, scripts: Record<string, string> = FIXTURE_SCRIPTS, extra: Record<string, string | Buffer> = {}): Promise<{ bare: string; commit: string }> {
  const bare = join(root, "origin.git");
  const src = join(root, "src");
  await mkdir(join(src, "scripts", "ci"), { recursive: true });
  git(root, "init", "-q", "--bare", bare);
  git(bare, "config", "uploadpack.allowFilter", "true");
  git(root, "init", "-q", src);
  for (const [path, body] of Object.entries(extra)) await writeFile(join(src, path), body);
  const manifest = { schemaVersion: 2, environments: { dev: { ci: { repo: FIXTURE_REPO, scriptPath: "scripts/ci/dev-e2e.sh", timeoutMs: 60000 }, services: [] } } };
  await writeFile(join(src, "deploy.json"), JSON.stringify(manifest, null, 2) + "\n");
  for (const [name, body] of Object.entries(scripts)) {
    await writeFile(join(src, "scripts", "ci", name), body);
    await chmod(join(src, "scripts", "ci", name), 0o755);
  }
  git(src, "add", "-A");
  git(src, "commit", "-qm", "fixture");
  git(src, "push", "-q", bare, "HEAD:refs/heads/master");
  return { bare, commit: git(src, "rev-parse", "HEAD") };
}

/** Adds a commit changing `files` on top of master; returns its sha. */
export async function addCommit(root: string, files: Record<string, string>): Promise<string> {
  const src = join(root, "src");
  for (const [path, body] of Object.entries(files)) await writeFile(join(src, path), body);
  git(src, "add", "-A");
  git(src, "commit", "-qm", "next");
  git(src, "push", "-q", join(root, "origin.git"), "HEAD:refs/heads/master");
  return git(src, "rev-parse", "HEAD");
}

/** Bytes of every file below `dir` (0 when it does not exist). */
export async function treeBytes(dir: string): Promise<number> {
  if (!existsSync(dir)) return 0;
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += (await stat(join(entry.parentPath, entry.name))).size;
  }
  return total;
}

/** Environment for a launcher run: a temp HOME, no system git config, optional extra vars. */
export function launcherEnv(home: string, extra: Record<string, string> = {}): Record<string, string> {
  return { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, LANG: "C.UTF-8", GIT_CONFIG_NOSYSTEM: "1", ...extra };
}

/** Env vars that rewrite FIXTURE_REPO to the local bare repo (the unit-level stand-in for HTTPS). */
export function rewriteToLocal(bare: string): Record<string, string> {
  return { GIT_CONFIG_COUNT: "1", GIT_CONFIG_KEY_0: `url.file://${bare}.insteadOf`, GIT_CONFIG_VALUE_0: FIXTURE_REPO };
}

/** Result of running a script with bash until its stdout and stderr close. */
export interface BashRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `script` with `bash -c`, the way a dispatched command runs, and waits until its pipes close. */
export async function runBash(script: string, env: Record<string, string>): Promise<BashRun> {
  const { code, stdout, stderr } = await runProcess("bash", ["-c", script], { env });
  return { code, stdout, stderr };
}

/**
 * Shims in `dir` for each of `tools`: each appends its name to `log` (one line a call), then runs the real program.
 * Put `dir` first on PATH to count the processes a script starts; returns `dir`.
 */
export async function loggingShims(dir: string, log: string, tools: readonly string[]): Promise<string> {
  await mkdir(dir, { recursive: true });
  for (const tool of tools) {
    const real = spawnSync("bash", ["-c", `command -v ${tool}`], { encoding: "utf8" }).stdout.trim();
    await writeFile(join(dir, tool), `#!/bin/bash\necho ${tool} >> ${log}\nexec ${real} "$@"\n`, { mode: 0o755 });
  }
  return dir;
}

/** Polls until `check` returns a value: {@link until} with this file's argument order (a sanity limit, not a timing claim). */
export function waitFor<T>(what: string, check: () => T | undefined | Promise<T | undefined>, limitMs = SANITY_MS): Promise<T> {
  return until(what, check, { limitMs });
}

/** Waits for result.json of a run and returns it parsed. */
export function waitForResult(resultDir: string): Promise<Record<string, unknown>> {
  const file = join(resultDir, "result.json");
  return waitFor(`${file}`, async () => (existsSync(file) ? (JSON.parse(await readFile(file, "utf8")) as Record<string, unknown>) : undefined));
}

/** True while `pid` runs (a zombie counts as gone: no init may reap it in a container). */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

/** Waits until the detached launcher of a run has exited, so its temp dirs can go. */
export async function waitForLauncherExit(resultDir: string): Promise<void> {
  const pidFile = join(resultDir, "launcher.pid");
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, "utf8").trim());
  await waitFor(`launcher pid ${pid} to exit`, () => (isAlive(pid) ? undefined : true));
}

/** Runs shellcheck on a script text; returns its report ("" when clean). */
export function shellcheck(script: string): { code: number | null; report: string } {
  const r = spawnSync("shellcheck", ["--shell=bash", "--severity=style", "-"], { input: script, encoding: "utf8" });
  if (r.error) throw new Error("shellcheck is not installed: apt-get install -y shellcheck", { cause: r.error });
  return { code: r.status, report: r.stdout + r.stderr };
}

/** `bash -n` on a script text. */
export function bashSyntax(script: string): { code: number | null; report: string } {
  const r = spawnSync("bash", ["-n"], { input: script, encoding: "utf8" });
  return { code: r.status, report: r.stderr };
}

const standIns: number[] = [];

/**
 * A launcher stand-in for result dir `dir`: a live process whose command line names it, as the detached launcher's
 * does (the liveness rule, src/host/run-liveness.sh), in its own process group; returns its pid. {@link stopStandIns} kills them all.
 */
export function launcherStandIn(dir: string): number {
  const child = spawn("bash", ["-c", "sleep 300; exit 0", "launcher-stand-in", dir], { stdio: "ignore", detached: true });
  child.unref();
  standIns.push(child.pid!);
  return child.pid!;
}

/** Kills every stand-in's process group (bash and its sleep). */
export function stopStandIns(): void {
  for (const pid of standIns.splice(0)) {
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
}
