import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { cliCounted, dispatchKinds, jsonOf, runIdOf, show, sharedE2e } from "./sandbox-helpers.ts";
import { RUN_END_WAIT_MS } from "../support/until.ts";

/** The built bundle (node) against the whole sandbox: submit → wait → logs, text and JSON, and the dispatch calls of each. */
describe("e2e: a succeeding run through the sandbox", () => {
  const e2e = sharedE2e();

  let runId = "";
  it("run-dev-e2e --wait-ms exits 0 with status succeeded; 1 submit + 1 dispatch per watch answer", async () => {
    const from = e2e().sb.backend.requests.length;
    const r = await cliCounted(e2e(), ["run-dev-e2e", "--wait-ms", RUN_END_WAIT_MS]);
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout, /^status:\s+succeeded$/m);
    assert.match(r.stdout, /^pipelineRun:\s+e2e-dev-/m);
    runId = runIdOf(r);
    assert.match(r.stderr, /finished: succeeded/);
    const kinds = dispatchKinds(e2e().sb, from);
    assert.equal(r.calls, kinds.length);
    assert.equal(kinds[0], "launcher");
    assert.ok(kinds.length >= 2, `at least one answer: ${kinds.join(",")}`);
    assert.deepEqual(kinds.slice(1), kinds.slice(1).map(() => "watch"), `one watch reader per answer: ${kinds.join(",")}`);
    assert.match(r.stderr, /^\[\d+s\] task check-inputs succeeded/m, "one line per task change, naming the task");
  });

  it("logs <runId> in 1 dispatch: the summary, the task table, the logs by source, the JSON artifacts listed with sizes", async () => {
    const r = await cliCounted(e2e(), ["logs", runId]);
    assert.equal(r.code, 0, show(r));
    assert.equal(r.calls, 1);
    assert.match(r.stdout, /^status:\s+succeeded$/m);
    assert.match(r.stdout, /^TASK +STATUS +DURATION\ncheck-inputs +succeeded +\d+s\nsmoke-namespace +succeeded +\d+s\nreport +succeeded +\d+s$/m);
    for (const file of ["result.json", "pipelinerun.txt", "pipelinerun.json", "taskruns.json", "progress.json"]) {
      assert.match(r.stdout, new RegExp(`^ {2}${file.replace(".", "\\.")} +\\d+ bytes$`, "m"), `${file} not listed`);
    }
    assert.match(r.stdout, /^\[check-inputs\/check-inputs\] \[check-inputs\] started for /m);
    assert.match(r.stdout, /^\[report\/report\] \[report\] ok$/m);
    assert.match(r.stdout, /^\[launcher\] .*launcher done/m);
    assert.match(r.stdout, /^\[runner\] /m);
    assert.doesNotMatch(r.stdout, /"writer"|"apiVersion"/, "no JSON artifact dumped");
  });

  it("logs <runId> --file NAME prints that file whole, in 1 dispatch", async () => {
    const r = await cliCounted(e2e(), ["logs", runId, "--file", "result.json"]);
    assert.equal(r.code, 0, show(r));
    assert.equal(r.calls, 1);
    assert.equal(JSON.parse(r.stdout).writer, "runner");
    const missing = await cliCounted(e2e(), ["logs", runId, "--file", "no-such.json"]);
    assert.equal(missing.code, 2, show(missing));
  });

  it("logs <runId> --json parses: status, every file, pod logs", async () => {
    const r = await cliCounted(e2e(), ["logs", runId, "--json"]);
    assert.equal(r.code, 0, show(r));
    assert.equal(r.calls, 1);
    const doc = jsonOf(r);
    assert.equal(doc.ok, true);
    assert.equal(doc.runId, runId);
    assert.equal(doc.status, "succeeded");
    assert.equal(doc.result.status, "succeeded");
    assert.equal(doc.result.pipelineRun, `e2e-${runId}`);
    const files = new Map((doc.files as { path: string; content: string; encoding: string; truncated: boolean }[]).map((f) => [f.path, f]));
    for (const p of ["result.json", "launcher.log", "runner.log", "pipelinerun.txt", "pipelinerun.json"]) assert.ok(files.has(p), `${p} missing`);
    assert.equal(files.get("pipelinerun.txt")!.content.trim(), `e2e-${runId}`);
    assert.equal(JSON.parse(files.get("result.json")!.content).status, "succeeded");
    assert.equal(JSON.parse(files.get("pipelinerun.json")!.content).metadata.name, `e2e-${runId}`);
    const pods = [...files.keys()].filter((p) => p.startsWith("pods/")).sort();
    // Each task's pod (its prepare and step containers) and the smoke pod in the run's namespace: exactly these.
    const taskPods = ["check-inputs", "report", "smoke-namespace"].flatMap((t) => [`pods/e2e-${runId}-${t}-pod_prepare.log`, `pods/e2e-${runId}-${t}-pod_step-${t}.log`]);
    assert.deepEqual(pods, [...taskPods, "pods/e2e-smoke_smoke.log"].sort(), `pod logs: ${pods.join(", ")}`);
    assert.ok([...files.values()].every((f) => f.encoding === "utf8" && !f.truncated));
  });

  it("run-dev-e2e --json --wait-ms: one document; dispatch calls = 1 + polls", async () => {
    const r = await cliCounted(e2e(), ["run-dev-e2e", "--json", "--wait-ms", RUN_END_WAIT_MS]);
    assert.equal(r.code, 0, show(r));
    const doc = jsonOf(r);
    assert.equal(doc.ok, true);
    assert.equal(doc.state, "started");
    assert.equal(doc.result.status, "succeeded");
    assert.equal(doc.result.runId, doc.runId);
    assert.ok(Number.isInteger(doc.polls) && doc.polls >= 1);
    assert.equal(r.calls, 1 + doc.polls);
    assert.equal(r.stderr, "");
  });

  it("submit alone makes exactly 1 dispatch call; --json submit too", async () => {
    const text = await cliCounted(e2e(), ["run-dev-e2e"]);
    assert.equal(text.code, 0, show(text));
    assert.equal(text.calls, 1);
    assert.match(text.stdout, /^state:\s+started$/m);
    assert.match(text.stdout, /^ {2}unidesk-ci logs \S+$/m);
    const json = await cliCounted(e2e(), ["run-dev-e2e", "--json"]);
    assert.equal(json.code, 0, show(json));
    assert.equal(json.calls, 1);
    const doc = jsonOf(json);
    assert.equal(doc.state, "started");
    assert.notEqual(doc.runId, runIdOf(text));
    for (const id of [runIdOf(text), doc.runId as string]) assert.equal((await e2e().sb.waitForResult(id)).status, "succeeded");
  });

  it("logs of an unknown run id: exit 2 naming the directory, 1 dispatch", async () => {
    const r = await cliCounted(e2e(), ["logs", "dev-20000101-000000-nope00"]);
    assert.equal(r.code, 2, show(r));
    assert.equal(r.calls, 1);
    assert.match(r.stderr, /no run dev-20000101-000000-nope00/);
    assert.equal(r.stdout, "");
  });
});
