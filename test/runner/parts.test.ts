// The runner in parts (docs/runner.md#testing-in-parts): a bash that sources scripts/ci/dev-e2e.sh (the main guard
// keeps it from running), sets the run's settings, replaces the kubectl seam `kc` with canned answers, and calls
// one function. The sweep's decisions and the result writer, without the fake API server or a PipelineRun.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { RUNNER_PATH } from "../../build/runner.ts";
import { checkResultJson } from "../../src/host/result.ts";
import { FAILURE_LINE_MAX_CHARS, FAILURES_MAX, RESULT_MAX_BYTES } from "../../src/rules.ts";

const RUNNER = new URL(`../../${RUNNER_PATH}`, import.meta.url).pathname;
const root = mkdtempSync(join(tmpdir(), "uci-parts-"));
after(() => rmSync(root, { recursive: true, force: true }));
const SHA = "a".repeat(40);
const OTHER_SHA = "b".repeat(40);

/**
 * Runs `body` in a bash that sourced the runner as run `me` in <dir>/runs, with `kc` replaced: every call is appended
 * to <dir>/kc.calls, and `get` answers with <dir>/namespaces.json or <dir>/pipelineruns.json (exit 1 when the file is
 * missing: the cluster cannot be listed). runner.log lines go to <dir>/runner.log.
 */
function sourced(dir: string, body: string): { calls: string[]; log: string; stdout: string } {
  const script = `
set -uo pipefail
source ${JSON.stringify(RUNNER)}
T=${JSON.stringify(dir)}
run_id=me runs_root=$T/runs result_dir=$T/runs/me manifest_file=$T/runs/me/deploy.json work_root="" keep_runs=100
manifest_commit=${SHA} started_at=2026-01-01T00:00:00.000Z start_ms=$(ms_now) keep_namespace=false
temp_namespace=unidesk-ci-me pipeline_run=e2e-me
work_tmp=$T/tmp kubectl_err=$T/tmp/kubectl.err
mkdir -p "$work_tmp" "$result_dir"
kc() {
  printf '%s\\n' "$*" >>"$T/kc.calls"
  case "$*" in
    "get namespaces "*) [[ -f $T/namespaces.json ]] && cat "$T/namespaces.json" || { echo "connection refused" >"$kubectl_err"; return 1; } ;;
    *" get pipelineruns.v1.tekton.dev -l "*) [[ -f $T/pipelineruns.json ]] && cat "$T/pipelineruns.json" || { echo "connection refused" >"$kubectl_err"; return 1; } ;;
    *) : >"$kubectl_err" ;;
  esac
}
${body}
`;
  const r = spawnSync("bash", ["-c", script], { encoding: "utf8", timeout: 60_000 });
  assert.equal(r.status, 0, `bash: ${r.stderr}`);
  const read = (f: string) => (existsSync(join(dir, f)) ? readFileSync(join(dir, f), "utf8") : "");
  return { calls: read("kc.calls").split("\n").filter((l) => l !== ""), log: read("runner.log"), stdout: r.stdout };
}

const labels = (id: string) => ({ "app.kubernetes.io/managed-by": "unidesk-ci", "unidesk.ci/run-id": id, "unidesk.ci/manifest-commit": OTHER_SHA });
/** The runner instance run `id` recorded (runDir writes it) and annotated its objects with. */
const instance = (id: string) => Buffer.from(id).toString("hex");
const namespace = (name: string, id: string, keep: string) => ({ metadata: { name, labels: labels(id), annotations: { "unidesk.ci/keep-namespace": keep, "unidesk.ci/runner-instance": instance(id) } }, status: { phase: "Active" } });
const pipelineRun = (id: string, status: string) => ({ metadata: { name: `e2e-${id}`, labels: labels(id), annotations: { "unidesk.ci/runner-instance": instance(id) } }, status: { conditions: [{ type: "Succeeded", status }] } });

/** A run directory: pid files, a result.json, logs, its runner's instance record, and an mtime in the past unless `young`. */
function runDir(dir: string, id: string, files: Record<string, string>, young = false): void {
  const d = join(dir, "runs", id);
  mkdirSync(d, { recursive: true });
  for (const [name, text] of Object.entries({ "runner-instance": `${instance(id)}\n`, ...files })) writeFileSync(join(d, name), text);
  if (!young) utimesSync(d, new Date(Date.now() - 3_600_000), new Date(Date.now() - 3_600_000));
}
const GONE_PID = "2147483646\n";
const finishedResult = (id: string, keep: boolean) => JSON.stringify({ ok: true, status: "succeeded", runId: id, manifestCommit: OTHER_SHA, pipelineRun: null, temporaryNamespace: null, keepNamespace: keep, finishedAt: "2026-01-01T00:00:00.000Z" });

describe("the runner in parts: sourced, with kc stubbed", () => {
  it("sourcing defines functions and runs nothing", () => {
    const dir = mkdtempSync(join(root, "src-"));
    const { calls, stdout } = sourced(dir, "declare -F main sweep_and_prune write_result_json kc >/dev/null && echo defined; [[ -z ${run_state[*]-} ]] && echo idle");
    assert.deepEqual([stdout, calls], ["defined\nidle\n", []]);
  });

  it("runner.log lines: outside text is cleaned (C0, C1, bidi, newlines), plain ASCII passes as it is without a tr or sed process", () => {
    const dir = mkdtempSync(join(root, "log-"));
    const hostile = ["esc \u001b[31m red", "c1 \u009b x", "bidi \u202e x \u2066", "new\nline\ttab", "del \u007f x", "utf8 é ü"];
    const quoted = hostile.map((t) => `$'${[...Buffer.from(t)].map((b) => `\\x${b.toString(16).padStart(2, "0")}`).join("")}'`);
    const { stdout } = sourced(dir, `${quoted.map((q) => `log ${q}`).join("\n")}\ntr() { echo "tr ran"; }\nsed() { echo "sed ran"; }\nlog 'plain: run me, 42 ~!@#$%^&*()[]{}|;:<>?/'`);
    const lines = stdout.split("\n").filter((l) => l !== "").map((l) => l.replace(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z /, ""));
    assert.deepEqual(lines, ["esc  [31m red", "c1  x", "bidi  x ", "new line tab", "del   x", "utf8 é ü", "plain: run me, 42 ~!@#$%^&*()[]{}|;:<>?/"]);
  });

  it("the sweep: dead runs lost (namespace deleted or kept, PipelineRun cancelled), a finished run's namespace deleted, live and unproven runs untouched", async (t) => {
    const dir = mkdtempSync(join(root, "sweep-"));
    // A live run: its runner.pid is a process whose command line names the run's result dir.
    const live = spawn("bash", ["-c", "sleep 60; : \"$0\"", join(dir, "runs", "live1")], { stdio: "ignore" });
    t.after(() => live.kill("SIGKILL"));
    runDir(dir, "live1", { "runner.pid": `${live.pid}\n` });
    runDir(dir, "dead1", { "runner.pid": GONE_PID, "runner.log": `2026 runner started: run dead1, manifest commit ${OTHER_SHA}\n`, "pipelinerun.txt": "e2e-dead1\n" });
    runDir(dir, "dead2", { "launcher.pid": GONE_PID });
    runDir(dir, "dead3", { "runner.pid": GONE_PID });
    runDir(dir, "young1", {}, true);
    runDir(dir, "fin1", { "result.json": finishedResult("fin1", false) });
    runDir(dir, "fin2", { "result.json": finishedResult("fin2", true) });
    writeFileSync(join(dir, "namespaces.json"), JSON.stringify({ items: [
      namespace("unidesk-ci-dead1", "dead1", "false"),
      namespace("unidesk-ci-dead2", "dead2", "true"),
      namespace("kube-public", "dead3", "false"), // labelled for a dead run, but not its name: never touched
      namespace("unidesk-ci-live1", "live1", "false"),
      namespace("unidesk-ci-young1", "young1", "false"),
      namespace("unidesk-ci-fin1", "fin1", "true"), // result.json says keepNamespace false: that wins
      namespace("unidesk-ci-fin2", "fin2", "false"), // result.json says true
    ] }));
    writeFileSync(join(dir, "pipelineruns.json"), JSON.stringify({ items: [pipelineRun("dead1", "Unknown"), pipelineRun("dead2", "False"), pipelineRun("live1", "Unknown")] }));
    const { calls } = sourced(dir, 'sweep_and_prune >>"$T/runner.log" 2>&1');
    assert.deepEqual(calls.filter((c) => !/(^| )get /.test(c)).sort(), [
      "-n unidesk-ci patch pipelineruns.v1.tekton.dev e2e-dead1 --type merge -p {\"spec\":{\"status\":\"Cancelled\"}} -o name",
      "delete namespace unidesk-ci-dead1 --wait=false -o name",
      "delete namespace unidesk-ci-fin1 --wait=false -o name",
    ]);
    const result = (id: string) => {
      const text = readFileSync(join(dir, "runs", id, "result.json"), "utf8");
      const { result: r, resultProblem } = checkResultJson(text);
      assert.equal(resultProblem, null, `${id}: ${resultProblem}`);
      return r as Record<string, unknown>;
    };
    const dead1 = result("dead1");
    assert.deepEqual([dead1["status"], dead1["writer"], dead1["sweptBy"], dead1["manifestCommit"], dead1["pipelineRun"], dead1["temporaryNamespace"], dead1["namespaceDeleted"]],
      ["lost", "sweep", "me", OTHER_SHA, "e2e-dead1", "unidesk-ci-dead1", true]);
    assert.match(String(dead1["reason"]), /runner\.pid 2147483646 is gone\); swept by run me; PipelineRun e2e-dead1 cancelled; temporary namespace unidesk-ci-dead1 deleted/);
    const dead2 = result("dead2");
    assert.deepEqual([dead2["status"], dead2["keepNamespace"], dead2["namespaceDeleted"], dead2["pipelineRun"]], ["lost", true, false, "e2e-dead2"]);
    // dead3 names no manifest commit (no log, its only namespace is not its own): no result.json, kept as evidence.
    assert.equal(existsSync(join(dir, "runs", "dead3", "result.json")), false);
    for (const id of ["live1", "young1"]) assert.equal(existsSync(join(dir, "runs", id, "result.json")), false, `${id} is live`);
    assert.ok(statSync(join(dir, "runs", "fin2")).isDirectory());
  });

  it("the sweep refuses a protected or foreign namespace name before any kc call, and leaves the cluster alone when it cannot list it", () => {
    const dir = mkdtempSync(join(root, "refuse-"));
    const { calls, stdout } = sourced(dir, `
      run_state[x]=dead
      for ns in unidesk-ci kube-system unidesk-dev unidesk-ci-y; do sweep_delete_namespace "$ns" x >>"$T/runner.log" 2>&1 || echo "refused $ns"; done
      temp_namespace=kube-system; assert_own_namespace kube-system >>"$T/runner.log" 2>&1 || echo "not own kube-system"`);
    assert.deepEqual([stdout, calls], ["refused unidesk-ci\nrefused kube-system\nrefused unidesk-dev\nrefused unidesk-ci-y\nnot own kube-system\n", []]);

    runDir(dir, "dead1", { "runner.pid": GONE_PID, "runner.log": `commit ${OTHER_SHA}\n` });
    runDir(dir, "fin1", { "result.json": finishedResult("fin1", false) });
    const unlisted = sourced(dir, 'sweep_and_prune >>"$T/runner.log" 2>&1');
    assert.deepEqual(unlisted.calls.filter((c) => !/(^| )get /.test(c)), [], "no delete or patch without a listing");
    assert.match(unlisted.log, /cannot list unidesk-ci's namespaces and PipelineRuns, leaving the cluster alone: connection refused/);
    assert.match(unlisted.log, /retention: skipped \(the cluster could not be swept\)/);
    assert.equal(checkResultJson(readFileSync(join(dir, "runs", "dead1", "result.json"), "utf8")).result?.status, "lost", "the dead run is still recorded lost");
  });

  it("the result writer: one object, valid against resultSchema, failures and phases within RESULT_MAX_BYTES, never over an existing result when new", () => {
    const dir = mkdtempSync(join(root, "result-"));
    const rd = join(dir, "runs", "me");
    mkdirSync(join(rd, "pods"), { recursive: true });
    // 26 failed steps whose logs are 20 lines of 5000 bytes each: far over the budget before fitting.
    const steps = Array.from({ length: 26 }, (_, i) => ({ name: `s${i}`, container: `step-s${i}`, terminated: { exitCode: 1, reason: "Error" } }));
    writeFileSync(join(rd, "taskruns.json"), JSON.stringify({ items: [{ kind: "TaskRun", metadata: { name: "r", labels: { "tekton.dev/pipelineTask": "t" } },
      status: { conditions: [{ type: "Succeeded", status: "False", reason: "Failed", message: "many" }], podName: "p", startTime: "2026-01-01T00:00:01Z", completionTime: "2026-01-01T00:00:02Z", steps } }] }));
    writeFileSync(join(rd, "pipelinerun.json"), JSON.stringify({ kind: "PipelineRun", status: { conditions: [{ type: "Succeeded", status: "False", reason: "Failed" }], startTime: "2026-01-01T00:00:00Z", completionTime: "2026-01-01T00:00:03Z" } }));
    for (const s of steps) writeFileSync(join(rd, "pods", `p_step-${s.name}.log`), Array.from({ length: 30 }, (_, n) => `${s.name} line ${n} ${"z".repeat(5000)}\n`).join(""));
    const { stdout } = sourced(dir, `
      pipeline_run_created=true namespace_created=true namespace_deleted=true tekton_reason=Failed
      phase_begin namespace; phase_done namespace; phase_begin pipelinerun
      record_failures_phases failed "PipelineRun e2e-me failed (Failed): many" >>"$T/runner.log" 2>&1
      write_result failed "PipelineRun e2e-me failed (Failed): many" && echo written
      write_result_json "$result_dir" new ok true status '"succeeded"' || echo "kept the first"`);
    assert.deepEqual(stdout, "written\nkept the first\n");
    const text = readFileSync(join(rd, "result.json"), "utf8");
    assert.ok(Buffer.byteLength(text) <= RESULT_MAX_BYTES, `${Buffer.byteLength(text)} bytes`);
    const { result, resultProblem } = checkResultJson(text);
    assert.equal(resultProblem, null);
    const r = result as Record<string, unknown> & { failures: { step: string; tail: string[]; log: string }[]; phases: { name: string }[] };
    assert.deepEqual([r["status"], r["ok"], r["writer"], r["pipelineRun"], r["temporaryNamespace"], r["namespaceDeleted"], r["tektonReason"]],
      ["failed", false, "runner", "e2e-me", "unidesk-ci-me", true, "Failed"]);
    assert.ok(r.failures.length > 0 && r.failures.length <= FAILURES_MAX);
    assert.deepEqual(r.failures.map((f) => f.step), steps.slice(0, r.failures.length).map((s) => s.name), "in step order, from the end when cut");
    for (const f of r.failures) {
      assert.equal(f.log, `pods/p_step-${f.step}.log`);
      assert.ok(f.tail.every((l) => [...l].length <= FAILURE_LINE_MAX_CHARS && l.endsWith("…")));
      if (f.tail.length > 0) assert.match(f.tail.at(-1)!, new RegExp(`^${f.step} line 29 `), "its last line is the last to go");
    }
    assert.deepEqual(r.phases.map((p) => p.name), ["namespace", "pipelinerun", "task:t"]);
    assert.deepEqual(text.split("\n").slice(0, 3), ["{", '  "ok": false,', '  "status": "failed",'], "one field a line");
  });
});
