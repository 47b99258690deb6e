// Attacks on the launcher by another local user (docs/security.md): uid 65534 (nobody) plants, swaps and races the
// work root and runs root in a shared sticky directory like /tmp. The guarantee: no verdict from their script, ever.
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, lstat, mkdir, readFile, realpath, stat, symlink } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ConfigError } from "../../src/errors.ts";
import { fakeEnv } from "../../src/env.ts";
import { type LauncherSettings, renderLauncher } from "../../src/host/launcher.ts";
import { submitLauncher } from "../../src/runs/submit.ts";
import { until } from "../support/until.ts";
import { FIXTURE_REPO, launcherEnv, makeOrigin, rewriteToLocal, runBash, tempDir, waitForLauncherExit, waitForResult } from "./helpers.ts";

const NOBODY = ["--reuid=65534", "--regid=65534", "--clear-groups"];

let root = "";
let shared = "";
let bare = "";
let commit = "";
let cleanup = async () => {};
const resultDirs: string[] = [];
const attackers: ChildProcess[] = [];

/** What the attacker's script would leave behind if it ever ran: a file in the shared dir and a forged verdict. */
const EVIL_RUNNER = (pwned: string) => `#!/usr/bin/env bash
while (($#)); do case $1 in --result-dir) rd=$2; shift 2 ;; --run-id) id=$2; shift 2 ;; --manifest-commit) sha=$2; shift 2 ;; *) shift ;; esac; done
echo pwned >> ${pwned}
printf '{"ok":true,"status":"succeeded","runId":"%s","manifestCommit":"%s","pipelineRun":null,"temporaryNamespace":null,"finishedAt":"2026-01-01T00:00:00.000Z","reason":"forged","writer":"runner"}\\n' "$id" "$sha" > "$rd/result.json"
`;

before(async () => {
  const t = await tempDir("uci-roots-");
  root = t.dir;
  cleanup = t.cleanup;
  ({ bare, commit } = await makeOrigin(root));
  // /tmp's shape: root-owned, world-writable and sticky, reachable by everyone.
  shared = join(root, "shared");
  await mkdir(shared);
  await chmod(root, 0o755);
  await chmod(shared, 0o1777);
  // The attacker's own runner and a directory holding it, ready to be swapped in.
  asNobody("mkdir", "-m", "777", join(shared, "evil"));
  asNobody("bash", "-c", `cat > ${join(shared, "evil", "runner.sh")} && chmod 777 ${join(shared, "evil", "runner.sh")}`, { input: EVIL_RUNNER(join(shared, "pwned")) });
});

after(async () => {
  for (const a of attackers) a.kill("SIGKILL");
  await Promise.all(resultDirs.map(waitForLauncherExit));
  await cleanup();
});

function asNobody(...args: Array<string | { input: string }>): void {
  const last = args.at(-1);
  const input = typeof last === "object" ? (args.pop() as { input: string }).input : undefined;
  const r = spawnSync("setpriv", [...NOBODY, ...(args as string[])], { input, encoding: "utf8" });
  assert.equal(r.status, 0, `${args.join(" ")}: ${r.stderr}`);
}

function settings(runId: string, over: Partial<LauncherSettings> = {}): LauncherSettings {
  return {
    repo: FIXTURE_REPO, manifestCommit: commit, scriptPath: "scripts/ci/dev-e2e.sh", runId, environment: "dev", timeoutMs: 60_000,
    keepNamespace: false, workRoot: join(shared, "work"), runsRoot: join(root, "runs"), egressProxy: "http://127.0.0.1:9", ...over,
  };
}

async function dispatch(s: LauncherSettings) {
  resultDirs.push(join(s.runsRoot, s.runId));
  const run = await runBash(renderLauncher(s), launcherEnv(root, rewriteToLocal(bare)));
  const last = run.stdout.trimEnd().split("\n").at(-1) ?? "";
  return { ...run, state: (last ? JSON.parse(last) : null) as { state: string; resultDir: string } | null };
}

function assertNotPwned(): void {
  assert.equal(existsSync(join(shared, "pwned")), false, "the attacker's runner ran");
}

describe("a work root another local user could change is refused before anything runs", () => {
  const planted: Array<[string, () => Promise<void>, RegExp]> = [
    ["pre-created by another uid (mode 777)", async () => asNobody("mkdir", "-m", "777", join(shared, "w-theirs")), /w-theirs is a directory of nobody \(uid 65534\) mode 0777/],
    ["a symlink of another uid to a directory of ours", async () => {
      await mkdir(join(root, "mine"), { recursive: true });
      asNobody("ln", "-s", join(root, "mine"), join(shared, "w-link"));
    }, /w-link is a symbolic link of nobody \(uid 65534\)/],
    ["a symlink of another uid to their own directory", async () => asNobody("ln", "-s", join(shared, "evil"), join(shared, "w-evil-link")), /w-evil-link is a symbolic link of nobody/],
    ["ours but group-writable", async () => {
      await mkdir(join(shared, "w-group"));
      await chmod(join(shared, "w-group"), 0o770);
    }, /w-group is a directory of root \(uid 0\) mode 0770/],
    ["ours inside a parent others can write that is not sticky", async () => {
      await mkdir(join(root, "open"));
      await chmod(join(root, "open"), 0o777);
    }, /open is a directory of root \(uid 0\) mode 0777/],
    // Found 2026-12-06: only directories and symlinks were checked, so a file at the name was skipped, and its owner
    // could swap it for their directory once the launcher had passed.
    ["a regular file of another uid at its name", async () => asNobody("touch", join(shared, "w-file")), /w-file is a regular (empty )?file of nobody \(uid 65534\)/],
    ["a FIFO of another uid at its name", async () => asNobody("mkfifo", join(shared, "w-fifo")), /w-fifo is a fifo of nobody \(uid 65534\)/],
    ["a file of another uid on its path", async () => asNobody("touch", join(shared, "w-path")), /w-path is a regular (empty )?file of nobody \(uid 65534\)/],
    ["a root that is still missing after the launcher's mkdir", async () => undefined, /uci-missing is missing/],
  ];
  const names = ["w-theirs", "w-link", "w-evil-link", "w-group", "open/work", "w-file", "w-fifo", "w-path/work", "/proc/1/uci-missing"];
  planted.forEach(([what, plant, says], i) => {
    it(`${what}: the run ends in error naming the path, owner, mode and fix; the planted root is untouched`, async () => {
      await plant();
      const workRoot = names[i]!.startsWith("/") ? names[i]! : join(i === 4 ? root : shared, names[i]!);
      const runId = `w-${i}`;
      const d = await dispatch(settings(runId, { workRoot }));
      assert.equal(d.code, 0, d.stderr);
      assert.equal(d.state?.state, "started");
      const result = await waitForResult(d.state!.resultDir);
      assert.equal(result.status, "error");
      assert.equal(result.writer, "launcher");
      assert.match(String(result.reason), new RegExp(`^unsafe work root ${workRoot}: `));
      assert.match(String(result.reason), says);
      assert.match(String(result.reason), /make it yours \(uid 0\), mode 700, or set another workRoot$/);
      assert.equal(existsSync(join(d.state!.resultDir, "launcher.pid")), false, "nothing detached");
      assert.equal(existsSync(join(workRoot, runId)), false, "nothing written into the planted root");
      assert.equal(existsSync(join(d.state!.resultDir, "deploy.json")), false, "nothing fetched");
      assertNotPwned();
    });
  });
});

describe("a runs root another local user could change is refused in the dispatch answer (exit 4)", () => {
  it("pre-created by another uid: one clear line, no state line, nothing written in it; submitLauncher says ConfigError (exit 4)", async () => {
    const runsRoot = join(shared, "runs-theirs");
    asNobody("mkdir", "-m", "777", runsRoot);
    const d = await dispatch(settings("r-1", { runsRoot }));
    assert.equal(d.code, 4);
    assert.equal(d.stdout, "");
    assert.equal(d.stderr.trimEnd(), `unidesk-ci launcher: unsafe runs root ${runsRoot}: ${runsRoot} is a directory of nobody (uid 65534) mode 0777; make it yours (uid 0), mode 700, or set another runsRoot`);
    assert.equal(existsSync(join(runsRoot, "r-1")), false);
    const env = fakeEnv({
      fetch: async (_url, init) => {
        const { command } = JSON.parse(String(init?.body)) as { command: string };
        const run = await runBash(command, launcherEnv(root, rewriteToLocal(bare)));
        return Response.json({ ok: true, exitCode: run.code, stdout: run.stdout, stderr: run.stderr, durationMs: 1 });
      },
    });
    const s = settings("r-2", { runsRoot });
    await assert.rejects(submitLauncher({ backendUrl: "http://backend.test", token: "t", providerId: "D601" }, renderLauncher(s), s.runId, env, commit), (e: unknown) => {
      assert.ok(e instanceof ConfigError, String(e));
      assert.equal(e.exitCode, 4);
      assert.match(e.message, new RegExp(`^unsafe runs root ${runsRoot}: .* nobody \\(uid 65534\\).*: nothing was started on D601$`));
      return true;
    });
  });

  it("a file of another uid at its name: refused the same way, nothing created (its owner cannot swap in their directory)", async () => {
    const runsRoot = join(shared, "runs-file");
    asNobody("touch", runsRoot);
    const d = await dispatch(settings("r-4", { runsRoot }));
    assert.equal(d.code, 4);
    assert.equal(d.stdout, "");
    assert.match(d.stderr, /^unidesk-ci launcher: unsafe runs root \S+runs-file: \S+runs-file is a regular (empty )?file of nobody \(uid 65534\) mode 0644; make it yours/);
    assert.equal((await lstat(runsRoot)).isFile(), true, "their file untouched");
  });

  it("a symlink of another uid: refused the same way", async () => {
    const runsRoot = join(shared, "runs-link");
    await mkdir(join(root, "real-runs"), { recursive: true });
    asNobody("ln", "-s", join(root, "real-runs"), runsRoot);
    const d = await dispatch(settings("r-3", { runsRoot }));
    assert.equal(d.code, 4);
    assert.match(d.stderr, /runs-link is a symbolic link of nobody \(uid 65534\)/);
    assert.equal(existsSync(join(root, "real-runs", "r-3")), false);
  });
});

describe("roots of our own", () => {
  it("created 0700 when absent; result dir and every file in it readable by the D601 user only (umask 077)", async () => {
    const s = settings("own-1", { workRoot: join(shared, "fresh-work"), runsRoot: join(shared, "fresh-runs") });
    const d = await dispatch(s);
    assert.equal(d.code, 0, d.stderr);
    const result = await waitForResult(d.state!.resultDir);
    assert.equal(result.status, "succeeded");
    await waitForLauncherExit(d.state!.resultDir);
    for (const dir of [s.workRoot, s.runsRoot, d.state!.resultDir]) assert.equal((await stat(dir)).mode & 0o7777, 0o700, dir);
    for (const f of ["result.json", "launcher.log", "runner.log", "manifest-commit", "deploy.json", "launcher.pid"]) {
      assert.equal((await stat(join(d.state!.resultDir, f))).mode & 0o077, 0, `${f} is readable by others`);
    }
  });

  it("a symlinked runs root of our own is used by its canonical path (resultDir, command lines)", async () => {
    await mkdir(join(root, "canon-runs"), { mode: 0o700 });
    await symlink(join(root, "canon-runs"), join(shared, "runs-via-link"));
    assert.ok((await lstat(join(shared, "runs-via-link"))).isSymbolicLink());
    const d = await dispatch(settings("own-2", { runsRoot: join(shared, "runs-via-link") }));
    assert.equal(d.code, 0, d.stderr);
    assert.equal(d.state?.resultDir, join(await realpath(join(root, "canon-runs")), "own-2"));
    const result = await waitForResult(d.state!.resultDir);
    assert.equal(result.status, "succeeded");
    const args = await readFile(join(d.state!.resultDir, "runner-args.txt"), "utf8");
    assert.ok(args.includes(`--result-dir\n${join(root, "canon-runs", "own-2")}\n`), args);
  });
});

describe("the verdict cannot be forged by racing the launcher", () => {
  it("another uid holding the work root and flipping it between symlinks (never leaving the name free): every run refused, never their runner", async () => {
    const workRoot = join(shared, "race-held");
    asNobody("mkdir", "-m", "777", join(shared, "theirs-2"));
    asNobody("ln", "-s", join(shared, "evil"), workRoot);
    // rename(2) over the name is atomic: the root is always theirs, now one symlink, now the other.
    const loop = `
      w=${workRoot} evil=${join(shared, "evil")} other=${join(shared, "theirs-2")}
      while :; do
        ln -sfn "$other" "$w.l" && mv -Tf "$w.l" "$w"
        cp "$evil/runner.sh" "$other/runner.sh" 2>/dev/null
        ln -sfn "$evil" "$w.l" && mv -Tf "$w.l" "$w"
      done`;
    const attacker = spawn("setpriv", [...NOBODY, "bash", "-c", loop], { stdio: "ignore" });
    attackers.push(attacker);
    for (let i = 0; i < 4; i++) {
      const d = await dispatch(settings(`held-${i}`, { workRoot }));
      assert.equal(d.code, 0, d.stderr);
      const result = await waitForResult(d.state!.resultDir);
      await waitForLauncherExit(d.state!.resultDir);
      assert.equal(result.status, "error", String(result.reason));
      assert.match(String(result.reason), new RegExp(`^unsafe work root ${workRoot}: ${workRoot} is a symbolic link of nobody \\(uid 65534\\)`));
      assert.equal(existsSync(join(d.state!.resultDir, "runner-runs.txt")), false);
      assertNotPwned();
    }
    attacker.kill("SIGKILL");
    assertNotPwned();
  });

  it("another uid swapping, planting and symlinking the work root and work dir in a loop: never their runner, never their verdict", async () => {
    const rounds = 8;
    const workRoot = join(shared, "race-work");
    // Tries everything, as fast as it can: plant the root, or swap the run's work dir for theirs, or a symlink. The
    // name is free for a moment in each round, so the launcher may create the root first (then it is ours for good,
    // the sticky dir protects it) or find theirs (then it refuses): either way only the commit's runner gives a verdict.
    const loop = `
      w=${workRoot} evil=${join(shared, "evil")}
      while :; do
        mkdir -m 777 "$w" 2>/dev/null
        for d in "$w"/race-* "$w"; do
          mv -f "$d" "$d.old" 2>/dev/null && ln -sfn "$evil" "$d" 2>/dev/null
          cp "$evil/runner.sh" "$d/runner.sh" 2>/dev/null
          rm -rf "$w.old" 2>/dev/null
        done
        ln -sfn "$evil" "$w" 2>/dev/null
      done`;
    const attacker = spawn("setpriv", [...NOBODY, "bash", "-c", loop], { stdio: "ignore" });
    attackers.push(attacker);
    await until("the attacker to plant the work root", () => lstat(workRoot).then(() => true, () => false));
    for (let i = 0; i < rounds; i++) {
      const d = await dispatch(settings(`race-${i}`, { workRoot }));
      assert.equal(d.code, 0, d.stderr);
      const result = await waitForResult(d.state!.resultDir);
      await waitForLauncherExit(d.state!.resultDir);
      assert.notEqual(result.reason, "forged");
      if (result.status === "succeeded") {
        // Only the commit's own runner gives a verdict, from inside the private work dir.
        assert.equal(await readFile(join(d.state!.resultDir, "runner-runs.txt"), "utf8"), "ran\n");
      } else {
        assert.equal(result.status, "error");
        assert.match(String(result.reason), /^unsafe work root /);
      }
      assertNotPwned();
    }
    attacker.kill("SIGKILL");
    assertNotPwned();
  });

  it("the work root ours from the start, the attacker swapping inside the shared dir: every run succeeds with the commit's runner", async () => {
    const workRoot = join(shared, "race-work-2");
    await mkdir(workRoot, { mode: 0o700 });
    const loop = `
      w=${workRoot} evil=${join(shared, "evil")}
      while :; do
        for d in "$w"/* "$w"; do mv -f "$d" "$d.old" 2>/dev/null; ln -sfn "$evil" "$d" 2>/dev/null; cp "$evil/runner.sh" "$d/" 2>/dev/null; done
      done`;
    const attacker = spawn("setpriv", [...NOBODY, "bash", "-c", loop], { stdio: "ignore" });
    attackers.push(attacker);
    for (let i = 0; i < 4; i++) {
      const d = await dispatch(settings(`race2-${i}`, { workRoot }));
      const result = await waitForResult(d.state!.resultDir);
      assert.equal(result.status, "succeeded", String(result.reason));
      assert.equal(await readFile(join(d.state!.resultDir, "runner-runs.txt"), "utf8"), "ran\n");
    }
    attacker.kill("SIGKILL");
    assertNotPwned();
  });
});

describe("the dispatched scriptPath and timeoutMs must be the ones deploy.json names at the commit", () => {
  it("another scriptPath: error naming both, and that script never runs", async () => {
    const d = await dispatch(settings("x-script", { scriptPath: "scripts/ci/crash.sh", workRoot: join(root, "x-work") }));
    const result = await waitForResult(d.state!.resultDir);
    assert.equal(result.status, "error");
    assert.equal(result.reason, "dispatched scriptPath scripts/ci/crash.sh and timeoutMs 60000 differ from deploy.json's [scripts/ci/dev-e2e.sh,60000]");
    await waitForLauncherExit(d.state!.resultDir);
    assert.doesNotMatch(await readFile(join(d.state!.resultDir, "launcher.log"), "utf8"), /about to crash|starting runner/);
  });

  it("another timeoutMs: error naming both, no runner", async () => {
    const d = await dispatch(settings("x-timeout", { timeoutMs: 120_000, workRoot: join(root, "x-work") }));
    const result = await waitForResult(d.state!.resultDir);
    assert.equal(result.status, "error");
    assert.equal(result.reason, "dispatched scriptPath scripts/ci/dev-e2e.sh and timeoutMs 120000 differ from deploy.json's [scripts/ci/dev-e2e.sh,60000]");
    assert.equal(existsSync(join(d.state!.resultDir, "runner-runs.txt")), false);
  });
});
