// The runner's jq parts (src/runner/jq/*.jq, docs/runner.md#jq-parts), each run alone with the real `jq -f <file>` on
// small fixtures: input JSON → expected output. The runner inlines these very files (build/runner.ts); that the
// committed runner holds them is test/runner/assembled.test.ts.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { RUNNER_JQ, RUNNER_JQ_DIR } from "../../build/runner.ts";
import { FAILURE_LINE_MAX_CHARS, FAILURES_MAX, ISO_TIME, MANIFEST_MAX_DEPTH, SERVICES_MAX } from "../../src/rules.ts";

const DIR = new URL(`../../${RUNNER_JQ_DIR}/`, import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), "uci-jq-parts-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

let files = 0;
/** A fixture file holding `text` (objects as JSON). */
function fixture(value: unknown): string {
  const file = join(tmp, `f${++files}.json`);
  writeFileSync(file, typeof value === "string" ? value : JSON.stringify(value));
  return file;
}

/** stdout of `jq <args> -f <part> <inputs>`; a non-zero exit fails the test. */
function jq(part: string, args: readonly string[], inputs: readonly string[] = []): string {
  const r = spawnSync("jq", [...args, "-f", join(DIR, part), ...inputs], { encoding: "utf8" });
  assert.equal(r.status, 0, `jq -f ${part}: ${r.stderr}`);
  return r.stdout;
}
const lines = (out: string) => out.split("\n").filter((l) => l !== "");
const json = (out: string): unknown => JSON.parse(out);

const cond = (status: string, reason: string, message = "") => ({ conditions: [{ type: "Succeeded", status, reason, message }] });
const taskRun = (name: string, task: string, status: Record<string, unknown>) => ({ kind: "TaskRun", metadata: { name, labels: { "tekton.dev/pipelineTask": task } }, status });
const step = (name: string, exitCode: number, extra: Record<string, unknown> = {}) => ({ name, container: `step-${name}`, terminated: { exitCode, reason: exitCode === 0 ? "Completed" : "Error" }, ...extra });

describe("the runner's jq parts", () => {
  it("every part the assembly inlines is a file here, and every file here is inlined", () => {
    assert.deepEqual(readdirSync(DIR).filter((f) => f.endsWith(".jq")).sort(), RUNNER_JQ.map(([, f]) => f).sort());
    assert.ok(RUNNER_JQ.every(([name]) => /^JQ_[A-Z_]+$/.test(name)));
  });

  it("failures.jq: failed steps in TaskRun start order; skipped steps, cancelled and succeeded TaskRuns are not failures", () => {
    const taskruns = fixture({
      items: [
        taskRun("r-test", "test", { ...cond("False", "Failed", '"step-unit" exited with code 2'), podName: "p-test", startTime: "2026-01-01T00:00:05Z", completionTime: "2026-01-01T00:00:09Z",
          steps: [step("build", 0), step("unit", 2), step("report", 1, { terminationReason: "Skipped" })] }),
        taskRun("r-lint", "lint", { ...cond("False", "Failed", "two steps failed"), podName: "p-lint", startTime: "2026-01-01T00:00:01Z", completionTime: "2026-01-01T00:00:03Z",
          steps: [step("a", 1, { onError: "continue" }), step("b", 3)] }),
        taskRun("r-slow", "slow", { ...cond("False", "TaskRunTimeout", 'TaskRun "r-slow" failed to finish within "1m0s"'), startTime: "2026-01-01T00:00:07Z" }),
        taskRun("r-cancel", "cancel", { ...cond("False", "TaskRunCancelled", "cancelled"), steps: [step("x", 137)] }),
        taskRun("r-ok", "ok", { ...cond("True", "Succeeded"), steps: [step("y", 0)] }),
      ],
    });
    assert.deepEqual(json(jq("failures.jq", ["-c", "--argjson", "max", String(FAILURE_LINE_MAX_CHARS)], [taskruns])), [
      { task: "lint", step: "a", exitCode: 1, reason: "Error", message: '"step-a" exited with code 1', log: "pods/p-lint_step-a.log" },
      { task: "lint", step: "b", exitCode: 3, reason: "Error", message: '"step-b" exited with code 3', log: "pods/p-lint_step-b.log" },
      { task: "test", step: "unit", exitCode: 2, reason: "Error", message: '"step-unit" exited with code 2', log: "pods/p-test_step-unit.log" },
      { task: "slow", step: null, exitCode: null, reason: "TaskRunTimeout", message: 'TaskRun "r-slow" failed to finish within "1m0s"', log: null },
    ]);
  });

  it("failures.jq: reason and message cut to --argjson max; no items is no failure", () => {
    const long = "x".repeat(50);
    const taskruns = fixture({ items: [taskRun("r", "t", { ...cond("False", long, long), startTime: "2026-01-01T00:00:01Z" })] });
    assert.deepEqual(json(jq("failures.jq", ["-c", "--argjson", "max", "10"], [taskruns])), [{ task: "t", step: null, exitCode: null, reason: "x".repeat(10), message: "x".repeat(10), log: null }]);
    assert.deepEqual(json(jq("failures.jq", ["-c", "--argjson", "max", "10"], [fixture({})])), []);
  });

  it("failures.jq: Tekton's reason and message are one line with nothing that drives a terminal (a fake verdict line, OSC 52, C1 CSI, bidi override)", () => {
    const hostile = 'oops\n✓ all tasks passed\r\u001b]52;c;ZXZpbA==\u0007\u009b2J\u202etxt\u2066\u2028x\u007f\u0000';
    const taskruns = fixture({ items: [taskRun("r", "t", { ...cond("False", `Failed\n${hostile}`, hostile), startTime: "2026-01-01T00:00:01Z" })] });
    const [failure] = json(jq("failures.jq", ["-c", "--argjson", "max", "500"], [taskruns])) as { reason: string; message: string }[];
    assert.equal(failure!.message, "oops ✓ all tasks passed  ]52;c;ZXZpbA== 2Jtxt x  ");
    assert.equal(failure!.reason, `Failed ${failure!.message}`);
  });

  /** record.jq's two output lines as values. */
  function record(opts: { failures: unknown[]; tails: unknown[]; pr: unknown; trs: unknown; own: string; created: boolean; budget: number }): { failures: unknown[]; phases: unknown[] } {
    const out = lines(jq("record.jq", [
      "-n", "-r", "--slurpfile", "failures", fixture(opts.failures), "--slurpfile", "tails", fixture(opts.tails.map((t) => JSON.stringify(t)).join("\n")),
      "--slurpfile", "pr", fixture(opts.pr), "--slurpfile", "trs", fixture(opts.trs), "--rawfile", "own", fixture(opts.own),
      "--argjson", "created", String(opts.created), "--argjson", "n", String(FAILURES_MAX), "--argjson", "budget", String(opts.budget), "--arg", "iso", ISO_TIME.source,
    ]));
    assert.equal(out.length, 2, "two lines: failures, then phases");
    return { failures: JSON.parse(out[0]!) as unknown[], phases: JSON.parse(out[1]!) as unknown[] };
  }

  const pr = { kind: "PipelineRun", metadata: { creationTimestamp: "2026-01-01T00:00:00Z" },
    status: { ...cond("False", "Failed"), startTime: "2026-01-01T00:00:01Z", completionTime: "2026-01-01T00:00:20Z", pipelineSpec: { tasks: [{ name: "build" }, { name: "test" }], finally: [{ name: "report" }] } } };
  const trs = { items: [
    taskRun("r-test", "test", { ...cond("False", "Failed"), startTime: "2026-01-01T00:00:05Z", completionTime: "2026-01-01T00:00:09Z" }),
    taskRun("r-build", "build", { ...cond("True", "Succeeded"), startTime: "2026-01-01T00:00:02Z", completionTime: "2026-01-01T00:00:04Z" }),
    taskRun("r-report", "report", { ...cond("Unknown", "Running"), startTime: "2026-01-01T00:00:05Z" }),
  ] };
  const own = "namespace\t2026-01-01T00:00:00.100Z\t2026-01-01T00:00:00.200Z\npipelinerun\t2026-01-01T00:00:00.300Z\t\nlogs\t2026-01-01T00:00:21.000Z\t2026-01-01T00:00:22.000Z\n";

  it("record.jq: the phases in order — runner's, the PipelineRun as Tekton timed it, tasks by start then declared order, logs last", () => {
    const { failures, phases } = record({ failures: [], tails: [], pr, trs, own, created: true, budget: 100_000 });
    assert.deepEqual(failures, []);
    assert.deepEqual(phases, [
      { name: "namespace", startedAt: "2026-01-01T00:00:00.100Z", finishedAt: "2026-01-01T00:00:00.200Z" },
      { name: "pipelinerun", startedAt: "2026-01-01T00:00:01Z", finishedAt: "2026-01-01T00:00:20Z" },
      { name: "task:build", startedAt: "2026-01-01T00:00:02Z", finishedAt: "2026-01-01T00:00:04Z" },
      { name: "task:test", startedAt: "2026-01-01T00:00:05Z", finishedAt: "2026-01-01T00:00:09Z" },
      { name: "task:report", startedAt: "2026-01-01T00:00:05Z", finishedAt: null },
      { name: "logs", startedAt: "2026-01-01T00:00:21.000Z", finishedAt: "2026-01-01T00:00:22.000Z" },
    ]);
  });

  it("record.jq: failures get their tails and are fitted into the budget, oldest tail lines first, then from the end", () => {
    const failures = [1, 2, 3].map((i) => ({ task: `t${i}`, step: "s", exitCode: 1, reason: "Error", message: "m", log: `pods/p_step-s${i}.log` }));
    const tails = [1, 2, 3].map((i) => ({ log: `pods/p_step-s${i}.log`, tail: Array.from({ length: 20 }, (_, n) => `line ${n} ${"y".repeat(80)}`) }));
    const roomy = record({ failures, tails, pr, trs, own, created: true, budget: 100_000 });
    assert.deepEqual(roomy.failures.map((f) => (f as { tail: string[] }).tail.length), [20, 20, 20]);
    const budget = 4000;
    const tight = record({ failures, tails, pr, trs, own, created: true, budget });
    assert.ok(JSON.stringify(tight.phases).length <= budget / 4, "phases within a quarter");
    assert.ok(JSON.stringify(tight.failures).length <= budget - JSON.stringify(tight.phases).length, "failures within the rest");
    const kept = tight.failures.map((f) => (f as { tail: string[] }).tail);
    assert.equal(kept.length, 3);
    for (const tail of kept) {
      assert.ok(tail.length > 0 && tail.length < 20);
      assert.match(tail.at(-1)!, /^line 19 /, "the last line is the last to go");
    }
    const none = record({ failures, tails, pr, trs, own, created: true, budget: 0 });
    assert.deepEqual([none.failures, none.phases], [[], []]);
  });

  it("poll.jq: the condition row, then progress.json's body (the PipelineRun, declared tasks, TaskRuns by start, pods with their containers and log files), then the containers to stream", () => {
    const ci = fixture({ items: [
      { kind: "PipelineRun", metadata: { name: "e2e-r1", uid: "u-1" }, status: { ...cond("Unknown", "Running", "m".repeat(600)), startTime: "2026-01-01T00:00:01Z", pipelineSpec: { tasks: [{ name: "build" }], finally: [{ name: "report" }] } } },
      taskRun("r-b", "build", { ...cond("Unknown", "Running"), startTime: "2026-01-01T00:00:03Z", podName: "p-b" }),
      taskRun("r-a", "", { startTime: "2026-01-01T00:00:02Z" }),
      { kind: "Pod", metadata: { namespace: "unidesk-ci", name: "p-b" }, status: { phase: "Running", initContainerStatuses: [{ name: "prepare", state: { terminated: {} } }], containerStatuses: [{ name: "step-x", state: { running: {} } }, { name: "step-y" }] } },
    ] });
    const ns = fixture({ items: [{ kind: "Pod", metadata: { namespace: "unidesk-ci-r1", name: "app" }, status: { phase: "Pending" } }] });
    const out = lines(jq("poll.jq", ["-r", "-s", "--arg", "run", "r1", "--arg", "sha", "a".repeat(40), "--arg", "started", "2026-01-01T00:00:00.000Z", "--arg", "pr", "e2e-r1", "--arg", "uid", "u-1"], [ci, ns]));
    assert.equal(out.length, 4, out.join("\n"));
    assert.equal(out[0], `Unknown\tRunning\t${"m".repeat(500)}`);
    assert.deepEqual(out.slice(2), ["unidesk-ci\tp-b\tprepare", "unidesk-ci\tp-b\tstep-x"]);
    const body = json(out[1]!) as Record<string, unknown>;
    assert.deepEqual(body, {
      runId: "r1", manifestCommit: "a".repeat(40), startedAt: "2026-01-01T00:00:00.000Z",
      pipelineRun: { name: "e2e-r1", status: "Unknown", reason: "Running", message: "m".repeat(500), startTime: "2026-01-01T00:00:01Z", completionTime: null },
      tasks: ["build", "report"],
      taskRuns: [
        { name: "r-a", pipelineTask: "", status: "Unknown", reason: "", message: null, startTime: "2026-01-01T00:00:02Z", completionTime: null, pod: null },
        { name: "r-b", pipelineTask: "build", status: "Unknown", reason: "Running", message: "", startTime: "2026-01-01T00:00:03Z", completionTime: null, pod: "p-b" },
      ],
      pods: [
        { namespace: "unidesk-ci", name: "p-b", phase: "Running", containers: [
          { name: "prepare", state: "terminated", log: "pods/p-b_prepare.log" },
          { name: "step-x", state: "running", log: "pods/p-b_step-x.log" },
          { name: "step-y", state: "waiting", log: "pods/p-b_step-y.log" }] },
        { namespace: "unidesk-ci-r1", name: "app", phase: "Pending", containers: [] },
      ],
    });
    const none = lines(jq("poll.jq", ["-r", "-s", "--arg", "run", "r1", "--arg", "sha", "s", "--arg", "started", "t", "--arg", "pr", "e2e-r1", "--arg", "uid", "u-1"], [fixture({ items: [] }), fixture({ items: [] })]));
    assert.equal(none.length, 2);
    assert.equal(none[0], "-", "no PipelineRun in the list");
    const empty = json(none[1]!) as Record<string, unknown>;
    assert.deepEqual([empty["pipelineRun"], empty["tasks"], empty["taskRuns"], empty["pods"]], [null, [], [], []]);
  });

  it("poll.jq: a condition row of one line whatever Tekton wrote: tabs and newlines escaped, text bounded, odd types as JSON", () => {
    const pr = (c: Record<string, unknown>) => fixture({ items: [{ kind: "PipelineRun", metadata: { name: "e2e-r1", uid: "u-1" }, status: { conditions: [{ type: "Succeeded", ...c }] } }] });
    const row = (c: Record<string, unknown>) => lines(jq("poll.jq", ["-r", "-s", "--arg", "run", "r", "--arg", "sha", "s", "--arg", "started", "t", "--arg", "pr", "e2e-r1", "--arg", "uid", "u-1"], [pr(c), fixture({ items: [] })]))[0];
    assert.equal(row({ status: "False", reason: "Failed", message: "a\tb\nc" }), "False\tFailed\ta\\tb\\nc");
    assert.equal(row({ status: "True", reason: "r".repeat(300), message: 7 }), `True\t${"r".repeat(100)}\t7`);
    assert.equal(row({ reason: { x: 1 } }), `Unknown\t{"x":1}\t`);
  });

  it("poll.jq: a PipelineRun of the run's name that is not the one it created (another uid) is `!`, and nothing of it reaches progress.json", () => {
    const swapped = fixture({ items: [{ kind: "PipelineRun", metadata: { name: "e2e-r1", uid: "theirs" }, status: { ...cond("True", "Succeeded", "all green"), pipelineSpec: { tasks: [{ name: "x" }] } } }] });
    const out = lines(jq("poll.jq", ["-r", "-s", "--arg", "run", "r1", "--arg", "sha", "s", "--arg", "started", "t", "--arg", "pr", "e2e-r1", "--arg", "uid", "u-1"], [swapped, fixture({ items: [] })]));
    assert.equal(out[0], "!");
    const body = json(out[1]!) as Record<string, unknown>;
    assert.deepEqual([body["pipelineRun"], body["tasks"]], [null, []]);
  });

  it("sweep-namespaces.jq and sweep-pipelineruns.jq: one TSV row per object, terminating and missing fields spelled out", () => {
    const labels = (id: string) => ({ "app.kubernetes.io/managed-by": "unidesk-ci", "unidesk.ci/run-id": id, "unidesk.ci/manifest-commit": "b".repeat(40) });
    const namespaces = fixture({ items: [
      { metadata: { name: "unidesk-ci-a", labels: labels("a"), annotations: { "unidesk.ci/keep-namespace": "true", "unidesk.ci/runner-instance": "0a1b" } }, status: { phase: "Active" } },
      { metadata: { name: "unidesk-ci-b", labels: { "unidesk.ci/run-id": "b" }, deletionTimestamp: "2026-01-01T00:00:00Z" } },
      { metadata: { name: "kube-public", labels: labels("c") }, status: { phase: "Terminating" } },
    ] });
    assert.deepEqual(lines(jq("sweep-namespaces.jq", ["-r"], [namespaces])), [
      `unidesk-ci-a\ta\ttrue\tactive\t${"b".repeat(40)}\t0a1b`,
      "unidesk-ci-b\tb\t\tterminating\t\t",
      `kube-public\tc\t\tterminating\t${"b".repeat(40)}\t`,
    ]);
    const pipelineRuns = fixture({ items: [
      { metadata: { name: "e2e-a", labels: labels("a"), annotations: { "unidesk.ci/runner-instance": "0a1b" } }, status: cond("Unknown", "Running") },
      { metadata: { name: "e2e-b", labels: labels("b") }, spec: { status: "Cancelled" }, status: cond("False", "Cancelled") },
      { metadata: { name: "e2e-c", labels: { "unidesk.ci/run-id": "c" } } },
    ] });
    assert.deepEqual(lines(jq("sweep-pipelineruns.jq", ["-r"], [pipelineRuns])), [
      `e2e-a\ta\tUnknown\t\t${"b".repeat(40)}\t0a1b`,
      `e2e-b\tb\tFalse\tCancelled\t${"b".repeat(40)}\t`,
      "e2e-c\tc\tUnknown\t\t\t",
    ]);
  });

  it("sweep-namespaces.jq and sweep-pipelineruns.jq: an answer that is no list (a Status with exit 0) is an error, never no rows", () => {
    for (const part of ["sweep-namespaces.jq", "sweep-pipelineruns.jq"]) {
      for (const answer of [{ kind: "Status", status: "Failure", message: "the server is busy" }, { kind: "NamespaceList", items: null }]) {
        const r = spawnSync("jq", ["-r", "-f", join(DIR, part), fixture(answer)], { encoding: "utf8" });
        assert.notEqual(r.status, 0, `${part} on ${JSON.stringify(answer)}: ${r.stdout}`);
        assert.equal(r.stdout, "");
      }
      assert.equal(spawnSync("jq", ["-r", "-f", join(DIR, part), fixture({ kind: "List", items: [] })], { encoding: "utf8" }).status, 0, `${part}: an empty list is fine`);
    }
  });

  it("duplicate-key.jq: the first key repeated in one object, with its path; nothing when keys are unique", () => {
    const dup = (text: string) => jq("duplicate-key.jq", ["-n", "--stream", "-r"], [fixture(text)]).trim();
    assert.equal(dup('{"a":1,"b":2,"a":3}'), 'duplicate key "a" at .');
    assert.equal(dup('{"environments":{"dev":{"services":[{"id":"x","repo":"r","id":"y"}]}}}'), 'duplicate key "id" at .environments.dev.services[0]');
    assert.equal(dup('{"x":{"a b":{"k":1,"k":2}}}'), 'duplicate key "k" at .x["a b"]');
    assert.equal(dup('{"a":{"k":1},"b":{"k":1},"c":[{"k":1},{"k":2}]}'), "");
  });

  const rows = (manifest: unknown) => lines(jq("manifest-rows.jq", ["-r", "--argjson", "maxDepth", String(MANIFEST_MAX_DEPTH), "--argjson", "maxServices", String(SERVICES_MAX)], [fixture(manifest)]));
  it("manifest-rows.jq: one service row each, or the problem jq sees", () => {
    const svc = { id: "api", repo: "https://example.test/api.git", commitId: "c".repeat(40) };
    assert.deepEqual(rows({ schemaVersion: 2, environments: { dev: { services: [svc, { id: 7 }, "x"] } } }), [
      `service\t0\tapi\thttps://example.test/api.git\t${"c".repeat(40)}`,
      "service\t1\t\t\t",
      "problem\tenvironments.dev.services[2] must be an object { id, repo, commitId }",
    ]);
    assert.deepEqual(rows([]), ["problem\tdeploy.json must be a JSON object"]);
    assert.deepEqual(rows({ schemaVersion: 1 }), ["problem\tschemaVersion must be 2 (this runner reads deploy.json schema version 2)"]);
    assert.deepEqual(rows({ schemaVersion: 2, environments: {} }), ["problem\tenvironments.dev is missing"]);
    assert.deepEqual(rows({ schemaVersion: 2, environments: { dev: { services: Array(SERVICES_MAX + 1).fill(svc) } } }),
      [`problem\tenvironments.dev.services has ${SERVICES_MAX + 1} entries; at most ${SERVICES_MAX} are accepted`]);
    let deep: unknown = 1;
    for (let i = 0; i < MANIFEST_MAX_DEPTH; i++) deep = [deep];
    assert.deepEqual(rows({ schemaVersion: 2, deep }), [`problem\tdeploy.json nests ${MANIFEST_MAX_DEPTH + 1} levels deep; at most ${MANIFEST_MAX_DEPTH} are accepted`]);
  });

  it("pipelinerun-object.jq: the PipelineRun with the run's params and one commit param per service", () => {
    const manifest = fixture({ schemaVersion: 2, environments: { dev: { services: [{ id: "api", repo: "https://example.test/api.git", commitId: "c".repeat(40), extra: "dropped" }] } } });
    const meta = fixture({ labels: { l: "1" }, annotations: { a: "2" } });
    const args = ["-c", "--arg", "name", "e2e-r1", "--arg", "ns", "unidesk-ci", "--arg", "pipeline", "p", "--arg", "sa", "sa", "--arg", "run", "r1", "--arg", "sha", "a".repeat(40),
      "--arg", "tmpns", "unidesk-ci-r1", "--arg", "keep", "false", "--arg", "timeout", "60000ms", "--slurpfile", "meta", meta];
    const services = [{ id: "api", repo: "https://example.test/api.git", commitId: "c".repeat(40) }];
    assert.deepEqual(json(jq("pipelinerun-object.jq", args, [manifest])), {
      apiVersion: "tekton.dev/v1", kind: "PipelineRun",
      metadata: { name: "e2e-r1", namespace: "unidesk-ci", labels: { l: "1" }, annotations: { a: "2" } },
      spec: {
        pipelineRef: { name: "p" },
        params: [
          { name: "run-id", value: "r1" }, { name: "manifest-commit", value: "a".repeat(40) }, { name: "temporary-namespace", value: "unidesk-ci-r1" },
          { name: "keep-namespace", value: "false" }, { name: "dev-services", value: JSON.stringify(services) }, { name: "service-api-commit", value: "c".repeat(40) },
        ],
        timeouts: { pipeline: "60000ms" },
        taskRunTemplate: { serviceAccountName: "sa" },
      },
    });
  });
});
