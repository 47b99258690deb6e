import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { until, RUN_END_WAIT_MS } from "../support/until.ts";
import { cli, show, withE2e } from "./sandbox-helpers.ts";


/** The sweep through the whole sandbox: the real launcher on D601 (its detached command line), the real runner, the fake cluster. */
describe("e2e: a run killed with its launcher ends lost at the next run", () => {
  it("launcher and runner SIGKILLed mid-run: the next run writes its result.json (lost), cancels its PipelineRun, deletes its namespace, spares the rest", () => withE2e(async (e2e) => {
    const { sb } = e2e;
    const kube = sb.kube!;
    const dead = "e2e-sweep-dead";
    const next = "e2e-sweep-next";
    kube.setOutcome(dead, { kind: "hang" });
    const foo = kube.createObject({ apiVersion: "v1", kind: "Namespace", metadata: { name: "unidesk-ci-foo" } });

    const submit = await cli(e2e, ["run-dev-e2e", "--run-id", dead]);
    assert.equal(submit.code, 0, show(submit));
    const dir = join(sb.runsRoot, dead);
    await until("the runner's wait loop", async () => /PipelineRun Unknown\/Running/.test(await readFile(join(dir, "runner.log"), "utf8").catch(() => "")));
    const launcherPid = Number((await readFile(join(dir, "launcher.pid"), "utf8")).trim());
    const runnerPid = Number((await readFile(join(dir, "runner.pid"), "utf8")).trim());
    process.kill(launcherPid, "SIGKILL");
    process.kill(runnerPid, "SIGKILL");
    await until("the launcher to die", () => !existsSync(`/proc/${launcherPid}/cmdline`) || readFile(`/proc/${launcherPid}/cmdline`, "utf8").then((c) => c === "", () => true));
    assert.ok(!existsSync(join(dir, "result.json")), "nobody wrote a result for the killed run");
    assert.ok(kube.getObject("v1", "namespaces", undefined, `unidesk-ci-${dead}`), "the killed run left its namespace");

    // Before any sweep, the readers already call it lost (not running), by the sweep's own rule.
    const why = new RegExp(`launcher\\.pid ${launcherPid} is (gone|a zombie), runner\\.pid ${runnerPid} is (gone|a zombie)`);
    const wait = await cli(e2e, ["run-dev-e2e", "--run-id", dead, "--wait-ms", RUN_END_WAIT_MS]);
    assert.equal(wait.code, 1, show(wait));
    assert.match(wait.stdout, /^status: +lost$/m, show(wait));
    assert.match(wait.stderr, new RegExp(`error: run ${dead} is lost: no launcher or runner process of it is alive and it wrote no result\\.json \\(${why.source}\\)`), show(wait));
    assert.match(wait.stderr, new RegExp(`the next run's sweep records it .*unidesk-ci logs ${dead}`), show(wait));
    const before = await cli(e2e, ["logs", dead, "--json"]);
    assert.equal(before.code, 0, show(before));
    const beforeDoc = JSON.parse(before.stdout) as { status: string; result: unknown; resultProblem: string };
    assert.deepEqual([beforeDoc.status, beforeDoc.result], ["lost", null]);
    assert.match(beforeDoc.resultProblem, why);
    const cancel = await cli(e2e, ["cancel", dead]);
    assert.equal(cancel.code, 1, show(cancel));
    assert.match(cancel.stderr, new RegExp(`run ${dead} is lost: .*; nothing to cancel`), show(cancel));
    assert.ok(!existsSync(join(dir, "result.json")), "only the sweep writes a lost run's result.json");
    const workDir = join(sb.workRoot, dead);
    assert.ok(existsSync(workDir), "the killed launcher left its work dir");

    const run = await cli(e2e, ["run-dev-e2e", "--run-id", next, "--wait-ms", RUN_END_WAIT_MS]);
    assert.equal(run.code, 0, show(run));

    const lost = JSON.parse(await readFile(join(dir, "result.json"), "utf8")) as Record<string, unknown>;
    assert.deepEqual([lost["status"], lost["ok"], lost["writer"], lost["sweptBy"], lost["runId"]], ["lost", false, "sweep", next, dead]);
    assert.equal(lost["manifestCommit"], sb.initialCommit);
    assert.equal(lost["pipelineRun"], `e2e-${dead}`);
    assert.equal(lost["namespaceDeleted"], true);
    assert.match(String(lost["reason"]), new RegExp(`launcher\\.pid ${launcherPid} is (gone|a zombie), runner\\.pid ${runnerPid} is (gone|a zombie)`));
    assert.equal(kube.getObject("v1", "namespaces", undefined, `unidesk-ci-${dead}`), undefined);
    assert.equal(kube.getObject("tekton.dev/v1", "pipelineruns", "unidesk-ci", `e2e-${dead}`)?.spec?.["status"], "Cancelled");
    assert.equal(kube.getObject("v1", "namespaces", undefined, "unidesk-ci-foo")?.metadata.resourceVersion, foo.metadata.resourceVersion, "an unlabelled unidesk-ci-foo survives");
    assert.ok(!existsSync(workDir), "the sweep removed the lost run's work dir");

    const logs = await cli(e2e, ["logs", dead]);
    assert.match(logs.stdout, /lost/, show(logs));
    // unidesk-ci-foo is the test's, not a run's: remove it before the end-of-file checks.
    kube.deleteObject("v1", "namespaces", undefined, "unidesk-ci-foo");
  }));
});
