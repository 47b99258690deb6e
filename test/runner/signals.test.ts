import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it, type TestContext } from "node:test";
import { assertClusterInvariants, hasFile, newTestRunId, prepareRun, readResult, runnerEnv, runRunner, startWorld, until } from "./harness.ts";

for (const [signal, code] of [["SIGTERM", 143], ["SIGINT", 130]] as const) {
  describe(`dev-e2e.sh: ${signal} mid-run`, () => {
    it(`cancels the PipelineRun, collects logs, deletes the namespace, writes status cancelled, exits ${code}`, async (t: TestContext) => {
      const world = await startWorld({ defaultOutcome: { kind: "hang" } });
      t.after(() => world.close());
      const runId = newTestRunId(signal.toLowerCase());
      const inv = await prepareRun(world, runId, { timeoutMs: 60_000 });
      const exit = await runRunner(inv.args, runnerEnv(world), (pid) => {
        void until(() => hasFile(inv.resultDir, "pipelinerun.txt"), "pipelinerun.txt").then(async () => {
          // Let the runner reach its wait loop, then interrupt it.
          await until(async () => /PipelineRun Unknown\/Running/.test(await readFile(join(inv.resultDir, "runner.log"), "utf8")), "the wait loop");
          assert.equal((await readFile(join(inv.resultDir, "runner.pid"), "utf8")).trim(), String(pid), "runner.pid names the runner");
          process.kill(pid, signal);
        });
      });
      assert.equal(exit.code, code, exit.stderr);
      const result = await readResult(inv.resultDir);
      assert.equal(result.status, "cancelled");
      assert.equal(result.ok, false);
      assert.match(result.reason ?? "", new RegExp(`runner received ${signal}`));
      const pr = world.kube.getObject("tekton.dev/v1", "pipelineruns", "unidesk-ci", `e2e-${runId}`)!;
      assert.equal(pr.spec?.["status"], "Cancelled");
      assert.ok(hasFile(inv.resultDir, "pipelinerun.json"));
      assert.ok(hasFile(inv.resultDir, "taskruns.json"));
      assert.ok(hasFile(inv.resultDir, join("pods", `e2e-${runId}-report-pod_step-report.log`)));
      assert.match(await readFile(join(inv.resultDir, "runner.log"), "utf8"), new RegExp(`received ${signal}`));
      assertClusterInvariants(world, [runId]);
    });
  });
}

describe("dev-e2e.sh: SIGTERM while the run is still being set up", () => {
  it("a signal before the run's own traps (runner.pid written, open_run still working) still ends cancelled, exit 143", async (t: TestContext) => {
    const world = await startWorld({ defaultOutcome: { kind: "hang" } });
    t.after(() => world.close());
    const runId = newTestRunId("early");
    const inv = await prepareRun(world, runId, { timeoutMs: 60_000 });
    // open_run's mktemp (after runner.pid and the log redirect, before main's traps) says it started, then dawdles.
    const shims = join(world.dir, "early-shims");
    await mkdir(shims);
    const started = join(shims, "mktemp-started");
    const real = execFileSync("bash", ["-c", "command -v mktemp"], { encoding: "utf8" }).trim();
    await writeFile(join(shims, "mktemp"), `#!/bin/bash\n: > ${started}\nsleep 1\nexec ${real} "$@"\n`);
    await chmod(join(shims, "mktemp"), 0o755);
    const env = runnerEnv(world);
    const exit = await runRunner(inv.args, { ...env, PATH: `${shims}:${env["PATH"]}` }, (pid) => {
      void until(() => hasFile(shims, "mktemp-started"), "open_run's mktemp").then(() => process.kill(pid, "SIGTERM"));
    });
    assert.equal(exit.code, 143, `${exit.signal ?? ""} ${exit.stderr}`);
    const result = await readResult(inv.resultDir);
    assert.equal(result.status, "cancelled");
    assert.match(result.reason ?? "", /runner received SIGTERM/);
    assert.equal(world.kube.getObject("tekton.dev/v1", "pipelineruns", "unidesk-ci", `e2e-${runId}`), undefined, "nothing was created");
    assertClusterInvariants(world, []);
  });
});

describe("dev-e2e.sh: SIGTERM between runner.pid and its handlers", () => {
  // runner.pid (what `unidesk-ci cancel` signals) is written before the handlers can work: a TERM in that window
  // used to kill the runner outright, and the launcher recorded `error` ("runner killed by signal 15") for what the
  // operator had cancelled. `od`, which the runner calls in that window, waits here until the test has signalled.
  it("soak kill-runner/SIGTERM in the runner's first moments: the held signal ends the run cancelled, exit 143, nothing created", async (t: TestContext) => {
    const world = await startWorld({ defaultOutcome: { kind: "succeed" } });
    const bin = join(world.dir, "slow-od-bin");
    const inWindow = join(world.dir, "od-started");
    const release = join(world.dir, "od-release");
    // The stub is released first, whatever happened, then the world goes.
    t.after(async () => {
      await writeFile(release, "");
      await world.close();
    });
    await mkdir(bin);
    const env = runnerEnv(world);
    const realOd = env["PATH"]!.split(":").map((d) => join(d, "od")).find((f) => existsSync(f));
    assert.ok(realOd, "no od on the runner's PATH");
    const stub = `#!/bin/bash\n: >'${inWindow}'\nfor _ in $(seq 300); do [[ -e '${release}' ]] && break; sleep 0.1; done\nexec '${realOd}' "$@"\n`;
    await writeFile(join(bin, "od"), stub);
    await chmod(join(bin, "od"), 0o755);
    const runId = newTestRunId("early-term");
    const inv = await prepareRun(world, runId, { timeoutMs: 60_000 });
    const exit = await runRunner(inv.args, { ...env, PATH: `${bin}:${env["PATH"]}` }, (pid) => {
      void until(() => hasFile(inv.resultDir, "runner.pid") && existsSync(inWindow), "the runner between runner.pid and its handlers").then(async () => {
        assert.equal((await readFile(join(inv.resultDir, "runner.pid"), "utf8")).trim(), String(pid), "runner.pid names the runner");
        process.kill(pid, "SIGTERM");
        await writeFile(release, "");
      });
    });
    assert.equal(exit.code, 143, exit.stderr);
    const result = await readResult(inv.resultDir);
    assert.equal(result.status, "cancelled");
    assert.match(result.reason ?? "", /runner received SIGTERM/);
    assert.equal(result.runId, runId);
    assert.equal(world.kube.getObject("tekton.dev/v1", "pipelineruns", "unidesk-ci", `e2e-${runId}`), undefined, "no PipelineRun once cancelled");
    assertClusterInvariants(world, [runId]);
  });
});
