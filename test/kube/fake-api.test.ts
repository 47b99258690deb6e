import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { until } from "../support/until.ts";
import { BINARY_CHUNK, scriptedTasks, startFakeKube, type FakeKube } from "./fake-api.ts";

interface Out {
  code: number;
  stdout: string;
  stderr: string;
}

describe("fake Kubernetes API with the real kubectl", () => {
  let kube: FakeKube;
  let dir: string;
  let env: Record<string, string>;

  /** Runs the real kubectl against the fake (asynchronously: the server lives in this process). */
  function kubectl(args: string[], input?: string): Promise<Out> {
    return new Promise((resolve) => {
      const child = execFile("kubectl", args, { env, encoding: "utf8" }, (err, stdout, stderr) => {
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      });
      child.stdin?.end(input ?? "");
    });
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "fake-kube-"));
    kube = await startFakeKube({ defaultOutcome: { kind: "succeed", delayMs: 200 } });
    const kubeconfig = await kube.writeKubeconfig(join(dir, "kubeconfig"), "suite");
    env = { PATH: process.env["PATH"] ?? "/usr/bin:/bin", HOME: dir, KUBECONFIG: kubeconfig, KUBECACHEDIR: join(dir, "cache") };
  });
  after(async () => {
    await kube.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("serves a v1.32 version and discovery (kubectl api-resources)", async () => {
    const version = await kubectl(["version", "-o", "json"]);
    assert.equal(version.code, 0, version.stderr);
    assert.equal(JSON.parse(version.stdout).serverVersion.gitVersion, "v1.32.4+fake");
    const res = await kubectl(["api-resources", "-o", "name"]);
    assert.equal(res.code, 0, res.stderr);
    for (const r of ["namespaces", "pods", "deployments.apps", "statefulsets.apps", "pipelineruns.tekton.dev", "taskruns.tekton.dev"]) {
      assert.ok(res.stdout.split("\n").includes(r), `${r} in ${res.stdout}`);
    }
  });

  it("starts with the production objects", async () => {
    const out = await kubectl(["-n", "unidesk", "get", "deployments,services,statefulsets", "-o", "name"]);
    assert.equal(out.code, 0, out.stderr);
    assert.deepEqual(out.stdout.trim().split("\n").sort(), [
      "deployment.apps/backend-core",
      "deployment.apps/frontend",
      "service/backend-core",
      "service/frontend",
      "service/postgres",
      "statefulset.apps/postgres",
    ]);
    assert.ok(Object.keys(kube.snapshot()).includes("apps/v1/statefulsets/unidesk-dev/postgres"));
  });

  it("creates, lists by label, patches and deletes; errors are Status objects; writes are recorded", async () => {
    const before = kube.snapshot();
    const ns = { apiVersion: "v1", kind: "Namespace", metadata: { name: "fake-t1", labels: { "unidesk.ci/run-id": "t1" } } };
    assert.equal((await kubectl(["create", "-f", "-", "-o", "name"], JSON.stringify(ns))).stdout.trim(), "namespace/fake-t1");
    const dup = await kubectl(["create", "-f", "-"], JSON.stringify(ns));
    assert.notEqual(dup.code, 0);
    assert.match(dup.stderr, /AlreadyExists.*namespaces "fake-t1" already exists/);
    const cm = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c", namespace: "fake-t1", labels: { a: "b" } }, data: { x: "1" } };
    assert.equal((await kubectl(["create", "-f", "-", "-o", "name"], JSON.stringify(cm))).code, 0);
    assert.equal((await kubectl(["-n", "fake-t1", "get", "cm", "-l", "a=b", "-o", "name"])).stdout.trim(), "configmap/c");
    assert.equal((await kubectl(["-n", "fake-t1", "get", "cm", "-l", "a!=b", "-o", "name"])).stdout.trim(), "");
    assert.equal((await kubectl(["-n", "fake-t1", "patch", "cm", "c", "--type", "merge", "-p", '{"data":{"x":"2"}}', "-o", "jsonpath={.data.x}"])).stdout, "2");
    const missing = await kubectl(["-n", "fake-t1", "get", "cm", "nope"]);
    assert.match(missing.stderr, /NotFound.*configmaps "nope" not found/);
    const orphan = await kubectl(["create", "-f", "-"], JSON.stringify({ ...cm, metadata: { name: "c", namespace: "no-such-ns" } }));
    assert.match(orphan.stderr, /namespaces "no-such-ns" not found/);
    assert.equal((await kubectl(["delete", "namespace", "fake-t1", "--wait=false"])).code, 0);
    assert.equal(kube.listObjects("v1", "configmaps", "fake-t1").length, 0, "a namespace takes its contents along");
    const writes = kube.writes({ client: "suite" }).map((w) => `${w.method} ${w.resource} ${w.namespace} ${w.code}`);
    assert.deepEqual(writes, [
      "POST namespaces fake-t1 201",
      "POST namespaces fake-t1 409",
      "POST configmaps fake-t1 201",
      "PATCH configmaps fake-t1 200",
      "POST configmaps no-such-ns 404",
      "DELETE namespaces fake-t1 200",
    ]);
    assert.deepEqual(kube.snapshot(), before);
    const protobuf = await kubectl(["create", "namespace", "via-protobuf"]);
    assert.match(protobuf.stderr, /UnsupportedMediaType/);
  });

  it("serves what the runner's sweep asks: namespaces and PipelineRuns by label (with a key-only term), cancel, delete -o name", async () => {
    const labels = (run: string) => ({ "app.kubernetes.io/managed-by": "unidesk-ci", "unidesk.ci/run-id": run });
    for (const name of ["unidesk-ci-s1", "unidesk-ci-s2"]) kube.createObject({ apiVersion: "v1", kind: "Namespace", metadata: { name, labels: labels(name.slice(11)) } });
    kube.createObject({ apiVersion: "v1", kind: "Namespace", metadata: { name: "unidesk-ci-other", labels: { "app.kubernetes.io/managed-by": "unidesk-ci" } } });
    kube.createObject({ apiVersion: "tekton.dev/v1", kind: "PipelineRun", metadata: { name: "e2e-s1", namespace: "unidesk-ci", labels: labels("s1") }, spec: { pipelineRef: { name: "unidesk-dev-namespace-e2e" } } });
    const selector = "app.kubernetes.io/managed-by=unidesk-ci,unidesk.ci/run-id";
    const nsList = JSON.parse((await kubectl(["get", "namespaces", "-l", selector, "-o", "json"])).stdout) as { items: { metadata: { name: string } }[] };
    assert.deepEqual(nsList.items.map((n) => n.metadata.name), ["unidesk-ci-s1", "unidesk-ci-s2"]);
    const prList = await kubectl(["-n", "unidesk-ci", "get", "pipelineruns.tekton.dev", "-l", selector, "-o", "name"]);
    assert.equal(prList.stdout.trim(), "pipelinerun.tekton.dev/e2e-s1");
    const cancel = await kubectl(["-n", "unidesk-ci", "patch", "pipelineruns.tekton.dev", "e2e-s1", "--type", "merge", "-p", '{"spec":{"status":"Cancelled"}}', "-o", "name"]);
    assert.equal(cancel.code, 0, cancel.stderr);
    await until("a PipelineRun Tekton never started to be cancelled too", () => (kube.getObject("tekton.dev/v1", "pipelineruns", "unidesk-ci", "e2e-s1")?.status?.["conditions"] as { reason: string }[] | undefined)?.[0]?.reason === "Cancelled");
    assert.equal((await kubectl(["delete", "namespace", "unidesk-ci-s1", "--wait=false", "-o", "name"])).stdout.trim(), "namespace/unidesk-ci-s1");
    const again = await kubectl(["delete", "namespace", "unidesk-ci-s1", "--wait=false"]);
    assert.match(again.stderr, /NotFound/);
    for (const name of ["unidesk-ci-s2", "unidesk-ci-other"]) kube.deleteObject("v1", "namespaces", undefined, name);
  });

  it("moves PipelineRuns through outcomes: default, by run id, by name; watch works for kubectl wait", async () => {
    kube.setOutcome("r-fail", { kind: "fail", reason: "Failed", message: "boom", delayMs: 100 });
    kube.setOutcome("e2e-r-hang", { kind: "hang" });
    const pr = (name: string, runId: string) =>
      JSON.stringify({ apiVersion: "tekton.dev/v1", kind: "PipelineRun", metadata: { name, namespace: "unidesk-ci", labels: { "unidesk.ci/run-id": runId } }, spec: { pipelineRef: { name: "unidesk-dev-namespace-e2e" } } });
    for (const [name, id] of [["e2e-r-ok", "r-ok"], ["e2e-r-fail", "r-fail"], ["e2e-r-hang", "r-hang"]]) {
      assert.equal((await kubectl(["create", "-f", "-", "-o", "name"], pr(name!, id!))).code, 0);
    }
    const waited = await kubectl(["-n", "unidesk-ci", "wait", "--for=condition=Succeeded", "pipelinerun/e2e-r-ok", "--timeout=10s"]);
    assert.equal(waited.code, 0, waited.stderr);
    const failed = await kubectl(["-n", "unidesk-ci", "wait", "--for=condition=Succeeded=False", "pipelinerun/e2e-r-fail", "--timeout=10s"]);
    assert.equal(failed.code, 0, failed.stderr);
    const reason = (n: string) => kubectl(["-n", "unidesk-ci", "get", "pr", n, "-o", "jsonpath={.status.conditions[0].reason}"]);
    assert.equal((await reason("e2e-r-fail")).stdout, "Failed");
    assert.equal((await reason("e2e-r-hang")).stdout, "Running");
    const trs = await kubectl(["-n", "unidesk-ci", "get", "taskruns", "-l", "tekton.dev/pipelineRun=e2e-r-ok", "-o", "name"]);
    assert.equal(trs.stdout.trim().split("\n").length, 3);
    const log = await kubectl(["-n", "unidesk-ci", "logs", "e2e-r-fail-report-pod", "-c", "step-report"]);
    assert.match(log.stdout, /\[report\] FAILED: boom/);
    const defaulted = await kubectl(["-n", "unidesk-ci", "logs", "e2e-r-fail-report-pod"]);
    assert.match(defaulted.stderr, /Defaulted container "step-report" out of: step-report, prepare \(init\)/);
    assert.match(defaulted.stdout, /FAILED: boom/);
    await kubectl(["-n", "unidesk-ci", "patch", "pr", "e2e-r-hang", "--type", "merge", "-p", '{"spec":{"status":"Cancelled"}}']);
    const cancelled = await kubectl(["-n", "unidesk-ci", "wait", "--for=jsonpath={.status.conditions[0].reason}=Cancelled", "pipelinerun/e2e-r-hang", "--timeout=10s"]);
    assert.equal(cancelled.code, 0, cancelled.stderr);
  });

  it("a cancel is honoured before an end: a PipelineRun cancelled while running never ends Succeeded or Failed (soak seed 269 run 12)", async () => {
    // The last task is held until the cancel is set; its end is then due within 5 ms, before the fake's 50 ms
    // reconcile of the cancel (timers fire in order): Tekton checks a cancel first, so the end must not win.
    for (const [id, failTask] of [["r-race-ok", undefined], ["r-race-fail", "report"]] as const) {
      let cancelled = false;
      kube.setOutcome(id, { kind: "tasks", tasks: scriptedTasks({ lines: 1, intervalMs: 5, ...(failTask ? { failTask } : {}), endsWhen: { report: () => cancelled } }) });
      const body = JSON.stringify({ apiVersion: "tekton.dev/v1", kind: "PipelineRun", metadata: { name: `e2e-${id}`, namespace: "unidesk-ci", labels: { "unidesk.ci/run-id": id } }, spec: { pipelineRef: { name: "unidesk-dev-namespace-e2e" } } });
      assert.equal((await kubectl(["create", "-f", "-", "-o", "name"], body)).code, 0);
      const reason = () => (kube.getObject("tekton.dev/v1", "pipelineruns", "unidesk-ci", `e2e-${id}`)?.status?.["conditions"] as { reason: string }[] | undefined)?.[0]?.reason;
      const taskRuns = () => kube.listObjects("tekton.dev/v1", "taskruns", "unidesk-ci", `tekton.dev/pipelineRun=e2e-${id}`).length;
      await until(`${id}: its last task to start`, () => taskRuns() === 3);
      assert.equal(reason(), "Running", id);
      assert.ok(kube.cancelFromOutside("unidesk-ci", `e2e-${id}`));
      cancelled = true;
      await until(`${id} to end`, () => reason() !== "Running");
      assert.equal(reason(), "Cancelled", id);
    }
  });

  it("runs scripted tasks in sequence; kubectl logs -f streams a growing, binary log and ends with the container", async () => {
    // smoke-namespace ends only once its stream delivered bytes: some arrive while it runs, however slow the machine.
    let arrived = false;
    const tasks = scriptedTasks({ lines: 4, intervalMs: 80, binary: true, longLineBytes: 100_000, endsWhen: { "smoke-namespace": () => arrived } });
    kube.setOutcome("r-seq", { kind: "tasks", tasks });
    const pr = { apiVersion: "tekton.dev/v1", kind: "PipelineRun", metadata: { name: "e2e-r-seq", namespace: "unidesk-ci", labels: { "unidesk.ci/run-id": "r-seq" } }, spec: { pipelineRef: { name: "unidesk-dev-namespace-e2e" } } };
    assert.equal((await kubectl(["create", "-f", "-", "-o", "name"], JSON.stringify(pr))).code, 0);
    const taskRuns = () => kube.listObjects("tekton.dev/v1", "taskruns", "unidesk-ci", "tekton.dev/pipelineRun=e2e-r-seq");
    assert.deepEqual(taskRuns().map((t) => t.metadata.labels?.["tekton.dev/pipelineTask"]), ["check-inputs"], "only the first task has started");
    const spec = kube.getObject("tekton.dev/v1", "pipelineruns", "unidesk-ci", "e2e-r-seq")!.status?.["pipelineSpec"];
    assert.deepEqual(spec, { tasks: [{ name: "check-inputs" }, { name: "smoke-namespace" }, { name: "report" }] });

    // Follow the second task's step from before its pod exists until its container ends.
    const pod = "e2e-r-seq-smoke-namespace-pod";
    await until(`pod ${pod}`, () => kube.getObject("v1", "pods", "unidesk-ci", pod) !== undefined);
    const chunks: { at: number; running: boolean; bytes: Buffer }[] = [];
    const code = await new Promise<number | null>((resolve) => {
      const child = spawn("kubectl", ["-n", "unidesk-ci", "logs", "-f", pod, "-c", "step-smoke-namespace"], { env, stdio: ["ignore", "pipe", "pipe"] });
      child.stdout.on("data", (b: Buffer) => {
        const tr = kube.getObject("tekton.dev/v1", "taskruns", "unidesk-ci", "e2e-r-seq-smoke-namespace");
        chunks.push({ at: Date.now(), running: (tr?.status?.["conditions"] as { status: string }[])[0]!.status === "Unknown", bytes: b });
        arrived = true;
      });
      child.on("close", resolve);
    });
    assert.equal(code, 0);
    const streamed = Buffer.concat(chunks.map((c) => c.bytes));
    assert.ok(chunks.some((c) => c.running), "bytes arrived while the task was still running");
    assert.ok(streamed.includes(Buffer.from(BINARY_CHUNK)), "the binary chunk is byte-exact");
    assert.deepEqual(streamed, kube.podLog("unidesk-ci", pod, "step-smoke-namespace"), "the stream is the whole log, once");
    assert.match(streamed.toString("latin1"), /\[smoke-namespace\] line 4 of 4\n\[smoke-namespace\] ok\n$/);

    const done = await kubectl(["-n", "unidesk-ci", "wait", "--for=condition=Succeeded", "pipelinerun/e2e-r-seq", "--timeout=20s"]);
    assert.equal(done.code, 0, done.stderr);
    const [first, second, third] = ["check-inputs", "smoke-namespace", "report"].map((t) => taskRuns().find((x) => x.metadata.labels?.["tekton.dev/pipelineTask"] === t)!.status!);
    assert.ok(String(first!["completionTime"]) <= String(second!["startTime"]) && String(second!["completionTime"]) <= String(third!["startTime"]), "in sequence");
    const long = await kubectl(["-n", "unidesk-ci", "logs", "e2e-r-seq-check-inputs-pod", "-c", "step-check-inputs"]);
    assert.ok(long.stdout.includes(`${"L".repeat(100_000)}\n`), "the long line arrives whole");
    // A finished container: -f prints the log and returns.
    const again = await kubectl(["-n", "unidesk-ci", "logs", "-f", "e2e-r-seq-report-pod", "-c", "step-report"]);
    assert.equal(again.code, 0);
    assert.match(again.stdout, /\[report\] ok\n$/);
  });

  it("fails the PipelineRun at the first failing scripted task; later tasks never start", async () => {
    kube.setOutcome("r-seqf", { kind: "tasks", tasks: scriptedTasks({ lines: 1, intervalMs: 20, failTask: "smoke-namespace" }) });
    const pr = { apiVersion: "tekton.dev/v1", kind: "PipelineRun", metadata: { name: "e2e-r-seqf", namespace: "unidesk-ci", labels: { "unidesk.ci/run-id": "r-seqf" } }, spec: { pipelineRef: { name: "unidesk-dev-namespace-e2e" } } };
    assert.equal((await kubectl(["create", "-f", "-", "-o", "name"], JSON.stringify(pr))).code, 0);
    const failed = await kubectl(["-n", "unidesk-ci", "wait", "--for=condition=Succeeded=False", "pipelinerun/e2e-r-seqf", "--timeout=20s"]);
    assert.equal(failed.code, 0, failed.stderr);
    const trs = kube.listObjects("tekton.dev/v1", "taskruns", "unidesk-ci", "tekton.dev/pipelineRun=e2e-r-seqf");
    assert.deepEqual(trs.map((t) => [t.metadata.labels?.["tekton.dev/pipelineTask"], (t.status?.["conditions"] as { reason: string }[])[0]!.reason]), [["check-inputs", "Succeeded"], ["smoke-namespace", "Failed"]]);
    const cond = (kube.getObject("tekton.dev/v1", "pipelineruns", "unidesk-ci", "e2e-r-seqf")!.status!["conditions"] as { message: string }[])[0]!;
    assert.match(cond.message, /Skipped: 1/);
  });

  it("records Tekton's step states: the failing step and its exit code in status.steps and the Succeeded message, later steps skipped", async () => {
    const failSteps = [{ name: "lint", exitCode: 3, onError: "continue" as const }, { name: "deploy-dev", exitCode: 2, chunks: ["deploying\n"] }, { name: "verify" }];
    kube.setOutcome("r-steps", { kind: "tasks", tasks: scriptedTasks({ lines: 1, intervalMs: 20, failTask: "smoke-namespace", failSteps }) });
    const pr = { apiVersion: "tekton.dev/v1", kind: "PipelineRun", metadata: { name: "e2e-r-steps", namespace: "unidesk-ci", labels: { "unidesk.ci/run-id": "r-steps" } }, spec: { pipelineRef: { name: "unidesk-dev-namespace-e2e" } } };
    assert.equal((await kubectl(["create", "-f", "-", "-o", "name"], JSON.stringify(pr))).code, 0);
    const failed = await kubectl(["-n", "unidesk-ci", "wait", "--for=condition=Succeeded=False", "pipelinerun/e2e-r-steps", "--timeout=20s"]);
    assert.equal(failed.code, 0, failed.stderr);
    const tr = kube.getObject("tekton.dev/v1", "taskruns", "unidesk-ci", "e2e-r-steps-smoke-namespace")!;
    const cond = (tr.status!["conditions"] as { reason: string; message: string }[])[0]!;
    assert.deepEqual([cond.reason, cond.message], ["Failed", '"step-deploy-dev" exited with code 2']);
    type Step = { name: string; container: string; terminated: { exitCode: number; reason: string; startedAt: string; finishedAt: string }; terminationReason: string };
    const steps = tr.status!["steps"] as Step[];
    assert.deepEqual(steps.map((s) => [s.name, s.container, s.terminated.exitCode, s.terminated.reason, s.terminationReason]), [
      ["lint", "step-lint", 3, "Error", "Continued"],
      ["deploy-dev", "step-deploy-dev", 2, "Error", "Error"],
      ["verify", "step-verify", 1, "Error", "Skipped"],
    ]);
    assert.ok(steps.every((s) => s.terminated.startedAt <= s.terminated.finishedAt));
    const pod = kube.getObject("v1", "pods", "unidesk-ci", "e2e-r-steps-smoke-namespace-pod")!;
    const exit = (c: string) => ((pod.status!["containerStatuses"] as { name: string; state: { terminated: { exitCode: number } } }[]).find((s) => s.name === c)!.state.terminated.exitCode);
    assert.deepEqual([exit("step-lint"), exit("step-deploy-dev"), exit("step-verify")], [3, 2, 1]);
    assert.equal(pod.status!["phase"], "Failed");
    assert.match(kube.podLog("unidesk-ci", "e2e-r-steps-smoke-namespace-pod", "step-deploy-dev")!.toString(), /line 1 of 1\ndeploying\n\[smoke-namespace\/deploy-dev\] FAILED: assertion failed\n$/);
  });

  it("tells clients apart by path prefix", async () => {
    const other = await kube.writeKubeconfig(join(dir, "other"), "other-client");
    const out = await new Promise<number>((resolve) => {
      const c = execFile("kubectl", ["create", "-f", "-"], { env: { ...env, KUBECONFIG: other } }, (err) => resolve(err ? 1 : 0));
      c.stdin?.end(JSON.stringify({ apiVersion: "v1", kind: "Namespace", metadata: { name: "from-other" } }));
    });
    assert.equal(out, 0);
    assert.deepEqual(kube.writes({ client: "other-client" }).map((w) => w.namespace), ["from-other"]);
    assert.ok(!kube.writes({ client: "suite" }).some((w) => w.namespace === "from-other"));
  });
});
