// Attacks on the readers by another local user (docs/security.md#readers-believe-only-this-users-runs): uid 65534
// (nobody) plants or swaps the runs root, plants a run directory, or owns a run's result.json, each time with a
// forged "succeeded" verdict in it. The guarantee: no reader believes it; every one answers "unsafe" and the CLI
// says so in one line with exit 4, never a succeeded run.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmod, chown, mkdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { makeOperatorRepo } from "../../build/bench-fixture.ts";
import { fakeEnv } from "../../src/env.ts";
import { ConfigError } from "../../src/errors.ts";
import { parseCancelOutput, renderCancel } from "../../src/host/cancel.ts";
import { parseLogsOutput, renderLogsReader } from "../../src/host/logs-reader.ts";
import { parseRunsOutput, renderRunsLister } from "../../src/host/runs-lister.ts";
import { parseWatchOutput, renderWatchReader } from "../../src/host/watch-reader.ts";
import { fakeBackend, realSpawn, runMainChecked } from "../cli/helpers.ts";
import { launcherEnv, loggingShims, runBash, tempDir } from "./helpers.ts";

const NOBODY = ["--reuid=65534", "--regid=65534", "--clear-groups"];
const COMMIT = "0123456789abcdef0123456789abcdef01234567";
const TOKEN = "tok-readers-roots-9c2d";

let root = "";
let shared = "";
let repo = "";
let cleanup = async () => {};

function asNobody(script: string): void {
  const r = spawnSync("setpriv", [...NOBODY, "bash", "-c", script], { encoding: "utf8" });
  assert.equal(r.status, 0, `${script}: ${r.stderr}`);
}

/** The verdict the attacker wants read: run `id` succeeded. */
function forged(id: string): string {
  return JSON.stringify({ ok: true, status: "succeeded", runId: id, manifestCommit: COMMIT, pipelineRun: `e2e-${id}`, temporaryNamespace: `unidesk-ci-${id}`, finishedAt: "2026-01-01T00:00:00.000Z", reason: "forged", writer: "runner" });
}

/** nobody writes run `id` with a forged verdict into `dir` (theirs). */
function forgeAsNobody(dir: string, id: string): void {
  asNobody(`mkdir -p ${dir}/${id} && printf '%s\\n' '${forged(id)}' > ${dir}/${id}/result.json`);
}

before(async () => {
  const t = await tempDir("uci-readers-roots-");
  root = t.dir;
  cleanup = t.cleanup;
  await chmod(root, 0o755);
  // /tmp's shape: root-owned, world-writable and sticky.
  shared = join(root, "shared");
  await mkdir(shared);
  await chmod(shared, 0o1777);
  await mkdir(join(root, "operator"));
  repo = makeOperatorRepo(join(root, "operator"));
});

after(() => cleanup());

type Reader = [name: string, read: (runsRoot: string, runId: string, vars?: Record<string, string>) => Promise<unknown>];
const env = (vars: Record<string, string> = {}) => launcherEnv(root, vars);
const READERS: Reader[] = [
  ["logs reader", async (runsRoot, runId, vars) => parseLogsOutput((await runBash(renderLogsReader({ runsRoot, runId }), env(vars))).stdout)],
  ["watch reader", async (runsRoot, runId, vars) => parseWatchOutput((await runBash(renderWatchReader({ runsRoot, runId, answerWaitMs: 0 }), env(vars))).stdout)],
  ["cancel", async (runsRoot, runId, vars) => parseCancelOutput((await runBash(renderCancel({ runsRoot, runId }), env(vars))).stdout)],
  ["runs lister", async (runsRoot, _runId, vars) => parseRunsOutput((await runBash(renderRunsLister({ runsRoot }), env(vars))).stdout)],
];

/** Each planted shape: how it is made, the runs root and run id read, and what the refusal names. */
const PLANTED: Array<[what: string, plant: () => Promise<{ runsRoot: string; runId: string }>, says: RegExp]> = [
  ["a runs root another uid pre-created (mode 777)", async () => {
    const runsRoot = join(shared, "runs-theirs");
    asNobody(`mkdir -m 777 ${runsRoot}`);
    forgeAsNobody(runsRoot, "r-1");
    return { runsRoot, runId: "r-1" };
  }, /unsafe runs root \S+runs-theirs: \S+runs-theirs is a directory of nobody \(uid 65534\) mode 0777; make it yours \(uid 0\), mode 700, or set another runsRoot/],
  ["a runs root that is another uid's symlink to their directory", async () => {
    asNobody(`mkdir ${shared}/their-runs && ln -s ${shared}/their-runs ${shared}/runs-link`);
    forgeAsNobody(join(shared, "their-runs"), "r-2");
    return { runsRoot: join(shared, "runs-link"), runId: "r-2" };
  }, /unsafe runs root \S+runs-link: \S+runs-link is a symbolic link of nobody \(uid 65534\)/],
  ["a runs root that is our symlink to another uid's directory", async () => {
    asNobody(`mkdir ${shared}/their-runs-2`);
    forgeAsNobody(join(shared, "their-runs-2"), "r-3");
    await symlink(join(shared, "their-runs-2"), join(root, "runs-our-link"));
    return { runsRoot: join(root, "runs-our-link"), runId: "r-3" };
  }, /unsafe runs root \S+runs-our-link: \S+their-runs-2 is a directory of nobody \(uid 65534\) mode 0755/],
  ["a run directory of another uid in our runs root", async () => {
    const runsRoot = join(root, "runs-a");
    await mkdir(join(runsRoot, "r-4"), { recursive: true });
    await chown(join(runsRoot, "r-4"), 65534, 65534);
    forgeAsNobody(runsRoot, "r-4");
    return { runsRoot, runId: "r-4" };
  }, /unsafe run directory \S+runs-a\/r-4: \S+r-4 is a directory of nobody \(uid 65534\) mode 0755; another user could have written it: remove it/],
  ["a run directory that is our symlink to another uid's directory", async () => {
    const runsRoot = join(root, "runs-b");
    await mkdir(runsRoot);
    asNobody(`mkdir ${shared}/their-run`);
    forgeAsNobody(shared, "their-run");
    await symlink(join(shared, "their-run"), join(runsRoot, "r-5"));
    return { runsRoot, runId: "r-5" };
  }, /unsafe run directory \S+runs-b\/r-5: \S+their-run is a directory of nobody \(uid 65534\) mode 0755/],
  ["a result.json of another uid in our run directory", async () => {
    const runsRoot = join(root, "runs-c");
    await mkdir(join(runsRoot, "r-6"), { recursive: true });
    await writeFile(join(runsRoot, "r-6", "result.json"), forged("r-6"));
    await chown(join(runsRoot, "r-6", "result.json"), 65534, 65534);
    return { runsRoot, runId: "r-6" };
  }, /unsafe file \S+runs-c\/r-6\/result\.json: it belongs to nobody \(uid 65534\), not to uid 0; another user could have written it: remove it/],
  ["another uid's run directory beside the run asked for (@latest, the last green run and the listing would read it)", async () => {
    const runsRoot = join(root, "runs-d");
    await mkdir(join(runsRoot, "r-7"), { recursive: true });
    await writeFile(join(runsRoot, "r-7", "result.json"), JSON.stringify({ ...JSON.parse(forged("r-7")), ok: false, status: "failed" }));
    await mkdir(join(runsRoot, "r-8"));
    await chmod(join(runsRoot, "r-8"), 0o777);
    await chown(join(runsRoot, "r-8"), 65534, 65534);
    forgeAsNobody(runsRoot, "r-8");
    return { runsRoot, runId: "r-7" };
  }, /unsafe run directory \S+runs-d\/r-8: \S+r-8 is a directory of nobody \(uid 65534\) mode 0777/],
];

describe("a runs root, run directory or result.json another local user could have written is refused by every reader", () => {
  PLANTED.forEach(([what, plant, says]) => {
    it(`${what}: each reader answers unsafe (ConfigError, exit 4) naming it; the forged verdict is never read`, async () => {
      const { runsRoot, runId } = await plant();
      for (const [name, read] of READERS) {
        await assert.rejects(read(runsRoot, runId), (e: unknown) => {
          assert.ok(e instanceof ConfigError, `${name}: ${String(e)}`);
          assert.equal(e.exitCode, 4);
          assert.match(e.message, says, name);
          assert.match(e.message, /nothing of it was believed$/);
          assert.doesNotMatch(e.message, /\n/);
          return true;
        }, name);
      }
    });
  });

  it("control: our own root and run are read as before (the check refuses only what others could write)", async () => {
    const runsRoot = join(root, "runs-ours");
    await mkdir(join(runsRoot, "r-9"), { recursive: true });
    await writeFile(join(runsRoot, "r-9", "result.json"), forged("r-9"));
    const logs = parseLogsOutput((await runBash(renderLogsReader({ runsRoot, runId: "r-9" }), env())).stdout);
    assert.equal(logs.found && logs.result?.status, "succeeded");
    const listed = parseRunsOutput((await runBash(renderRunsLister({ runsRoot }), env())).stdout);
    assert.deepEqual(listed.runs.map((r) => [r.runId, r.status]), [["r-9", "succeeded"]]);
  });
});

describe("the root check: one stat a pass, and a step it cannot answer for is refused", () => {
  it("a runs root twelve directories deep is proven with one stat a pass (two), not one per directory", async () => {
    const runsRoot = join(root, ...Array.from({ length: 12 }, (_, i) => `deep-${i}`));
    await mkdir(runsRoot, { recursive: true });
    const log = join(root, "stat-calls.txt");
    await writeFile(log, "");
    const shims = await loggingShims(join(root, "stat-shims"), log, ["stat"]);
    const run = await runBash(renderRunsLister({ runsRoot }), env({ PATH: `${shims}:${process.env["PATH"]}` }));
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(parseRunsOutput(run.stdout).runs, []);
    assert.deepEqual((await readFile(log, "utf8")).split("\n").filter(Boolean), ["stat", "stat"]);
  });

  it("a stat that answers for one step fewer than were walked (one gone in between): every reader refuses the root, the run in it is not read", async () => {
    const runsRoot = join(root, "runs-vanishing");
    await mkdir(join(runsRoot, "r-v"), { recursive: true });
    await writeFile(join(runsRoot, "r-v", "result.json"), forged("r-v"));
    // stat as it answers when a step it was asked about is gone: that step's line missing, the others in order.
    const shims = join(root, "vanish-shims");
    await mkdir(shims, { recursive: true });
    const real = spawnSync("bash", ["-c", "command -v stat"], { encoding: "utf8" }).stdout.trim();
    await writeFile(join(shims, "stat"), `#!/bin/bash\n${real} "$@" | sed 1d\n`, { mode: 0o755 });
    for (const [name, read] of READERS) {
      await assert.rejects(read(runsRoot, "r-v", { PATH: `${shims}:${process.env["PATH"]}` }), (e: unknown) => {
        assert.ok(e instanceof ConfigError, `${name}: ${String(e)}`);
        assert.match(e.message, /unsafe runs root \S+runs-vanishing: /, name);
        return true;
      }, name);
    }
    // Control: the same root with the real stat is ours, and its run is read.
    const logs = parseLogsOutput((await runBash(renderLogsReader({ runsRoot, runId: "r-v" }), env())).stdout);
    assert.equal(logs.found && logs.result?.status, "succeeded");
  });

  it("a step missing in the walk that another uid puts there before stat looks (renamed away for the walk, back for the read) is checked: every reader refuses", async () => {
    // Found 2026-12-06: the walk listed only the steps that existed, so a directory of theirs hidden during the walk
    // and back for stat was never checked, and the root under it (theirs, 0777, a forged verdict in it) was read.
    const hidden = join(shared, "toggled");
    const runsRoot = join(hidden, "runs");
    const shims = join(root, "toggle-shims");
    await mkdir(shims, { recursive: true });
    const real = spawnSync("bash", ["-c", "command -v stat"], { encoding: "utf8" }).stdout.trim();
    // stat as it runs when the attacker's renames land around it: theirs is back for each stat (forged run and all),
    // away again for the next walk, and back for good after the second stat (the reader reads the root then).
    const calls = join(shims, "calls");
    const as = `setpriv ${NOBODY.join(" ")}`;
    const shim = ["#!/bin/bash", `echo >>${calls}`, `[[ -e ${hidden} ]] || ${as} mv ${hidden}.away ${hidden}`, `${real} "$@"`, `(($(wc -l <${calls}) < 2)) && ${as} mv ${hidden} ${hidden}.away`, "exit 0"];
    await writeFile(join(shims, "stat"), `${shim.join("\n")}\n`, { mode: 0o755 });
    for (const [name, read] of READERS) {
      asNobody(`mkdir -p -m 777 ${runsRoot} && chmod 777 ${hidden}`);
      forgeAsNobody(runsRoot, "r-t");
      asNobody(`mv ${hidden} ${hidden}.away`);
      await rm(calls, { force: true });
      await assert.rejects(read(runsRoot, "r-t", { PATH: `${shims}:${process.env["PATH"]}` }), (e: unknown) => {
        assert.ok(e instanceof ConfigError, `${name}: ${String(e)}`);
        assert.match(e.message, new RegExp(`unsafe runs root ${runsRoot}: ${hidden} is a directory of nobody \\(uid 65534\\) mode 0777`), name);
        return true;
      }, name);
      asNobody(`rm -rf ${hidden} ${hidden}.away`);
    }
  });
});

describe("through the CLI: one clear line and exit 4, never a succeeded run", () => {
  const cases: Array<[string, (id: string) => string[]]> = [
    ["logs", (id) => ["logs", id]],
    ["logs --follow --wait-ms", (id) => ["logs", id, "--follow", "--wait-ms", "5000"]],
    ["runs", () => ["runs"]],
    ["cancel", (id) => ["cancel", id]],
    ["logs --json", (id) => ["logs", id, "--json"]],
  ];
  for (const [name, args] of cases) {
    it(`${name} of a run in a runs root another uid planted`, async () => {
      const runsRoot = join(shared, `cli-runs-${name.replace(/\W+/g, "-")}`);
      asNobody(`mkdir -m 777 ${runsRoot}`);
      forgeAsNobody(runsRoot, "r-cli");
      const backend = fakeBackend({ token: TOKEN });
      const vars = { HOME: root, UNIDESK_BACKEND_URL: "https://backend.test", UNIDESK_TOKEN: TOKEN, UNIDESK_CI_RUNS_ROOT: runsRoot };
      const cli = backend.tie(fakeEnv({ vars, fetch: backend.fetch, spawn: realSpawn, cwd: repo }));
      const code = await runMainChecked(args("r-cli"), cli);
      assert.equal(code, 4, cli.err());
      // The forged verdict's words: its status and its reason ("forged"), never the hint's "forged a verdict".
      assert.doesNotMatch(cli.out() + cli.err(), /succeeded|forged(?! a verdict)/);
      if (name.endsWith("--json")) {
        const doc = JSON.parse(cli.out()) as { ok: boolean; error: { code: string; exitCode: number; message: string } };
        assert.equal(doc.ok, false);
        assert.equal(doc.error.code, "config");
        assert.equal(doc.error.exitCode, 4);
        assert.match(doc.error.message, /unsafe runs root .* is a directory of nobody \(uid 65534\) mode 0777/);
      } else {
        const lines = cli.err().trim().split("\n");
        assert.match(lines[0]!, /^error: the \w[\w ]* refused: unsafe runs root \S+: \S+ is a directory of nobody \(uid 65534\) mode 0777; make it yours/);
        assert.ok(lines.length <= 2, cli.err());
      }
    });
  }
});
