// The runner's live record: progress.json kept while it waits, pod logs streamed into pods/ and completed at the end.
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it, type TestContext } from "node:test";
import { BINARY_CHUNK, scriptedTasks, type FakeKube } from "../kube/fake-api.ts";
import { assertClusterInvariants, hasFile, newTestRunId, prepareRun, readResult, runnerEnv, runRunner, startWorld, until, type World } from "./harness.ts";

interface Progress {
  updatedAt: string;
  runId: string;
  pipelineRun: { name: string; status: string; reason: string } | null;
  tasks: string[];
  taskRuns: { name: string; pipelineTask: string; status: string; reason: string; startTime: string | null; completionTime: string | null; pod: string | null }[];
  pods: { namespace: string; name: string; containers: { name: string; state: string; log: string }[] }[];
}

/** What a watcher saw of the result dir while the runner ran (sampled every 20 ms until result.json). */
interface Seen {
  progress: string[];
  /** pods/<file> → sizes seen, in order. */
  sizes: Map<string, number[]>;
}

/** Watches the result dir until result.json (or `isDone`): `seen` grows as it goes, `done` resolves at the end. */
function watch(resultDir: string, isDone: () => boolean): { seen: Seen; done: Promise<Seen> } {
  const seen: Seen = { progress: [], sizes: new Map() };
  const done = new Promise<Seen>((resolve) => {
    const tick = () => {
      if (existsSync(join(resultDir, "result.json")) || isDone()) return resolve(seen);
      try {
        const p = readFileSync(join(resultDir, "progress.json"), "utf8");
        if (seen.progress.at(-1) !== p) seen.progress.push(p);
      } catch {
        // not written yet
      }
      const pods = join(resultDir, "pods");
      for (const f of existsSync(pods) ? readdirSync(pods) : []) {
        const list = seen.sizes.get(f) ?? [];
        const size = statSync(join(pods, f), { throwIfNoEntry: false })?.size ?? 0;
        if (list.at(-1) !== size) list.push(size);
        seen.sizes.set(f, list);
      }
      setTimeout(tick, 20);
    };
    tick();
  });
  return { seen, done };
}

/** The progress.json versions seen while the PipelineRun ran. */
const runningVersions = (seen: Seen) => seen.progress.map((p) => JSON.parse(p) as Progress).filter((p) => p.pipelineRun?.status === "Unknown");
/** A version showing smoke-namespace running, check-inputs done and report not started. */
const smokeRunning = (versions: Progress[]) =>
  versions.find(
    (p) =>
      p.taskRuns.some((r) => r.pipelineTask === "smoke-namespace" && r.status === "Unknown") &&
      p.taskRuns.some((r) => r.pipelineTask === "check-inputs" && r.status === "True" && r.completionTime) &&
      !p.taskRuns.some((r) => r.pipelineTask === "report"),
  );
/** The distinct non-empty sizes seen of one pods/ file. */
const grownSizes = (seen: Seen, file: string) => (seen.sizes.get(file) ?? []).filter((s) => s > 0);

/** Every container of the run's pods in the fake, as pods/<file> → [namespace, pod, container]. */
function fakeContainers(kube: FakeKube, runId: string): Map<string, [string, string, string]> {
  const out = new Map<string, [string, string, string]>();
  const pods = [...kube.listObjects("v1", "pods", "unidesk-ci", `unidesk.ci/run-id=${runId}`), ...kube.listObjects("v1", "pods", `unidesk-ci-${runId}`)];
  for (const p of pods) {
    const spec = p.spec as { initContainers?: { name: string }[]; containers?: { name: string }[] };
    for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) out.set(`${p.metadata.name}_${c.name}.log`, [p.metadata.namespace!, p.metadata.name, c.name]);
  }
  return out;
}

/** Each saved pod log equals the fake's whole log, byte for byte; no temp file is left. */
async function assertLogsComplete(world: World, runId: string, resultDir: string): Promise<void> {
  const expected = fakeContainers(world.kube, runId);
  const files = (await readdir(join(resultDir, "pods"))).sort();
  assert.deepEqual(files, [...expected.keys()].sort(), "one file per container, no temp file left");
  for (const [file, [ns, pod, container]] of expected) {
    assert.deepEqual(await readFile(join(resultDir, "pods", file)), world.kube.podLog(ns, pod, container), `${file}: no byte lost or repeated`);
  }
  assert.deepEqual((await readdir(resultDir)).filter((f) => f.startsWith(".")), [], "no temp file in the result dir");
}

/** Processes whose command line names the run (its `kubectl logs -f` streams). */
function processesOf(runId: string): string[] {
  const out: string[] = [];
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ");
      if (cmd.includes("logs") && cmd.includes(runId)) out.push(`${pid}: ${cmd}`);
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

describe("dev-e2e.sh: live progress and pod log streaming", () => {
  it("keeps progress.json while it waits, streams growing logs into pods/, ends with exact copies (binary, long line)", async (t: TestContext) => {
    const world = await startWorld();
    t.after(() => world.close());
    const runId = newTestRunId("live");
    const step = `e2e-${runId}-smoke-namespace-pod_step-smoke-namespace.log`;
    // The fake holds the run until the watcher saw what this test asserts, so none of it is a sampling race:
    // check-inputs ends only once the watcher saw a progress.json of the running PipelineRun (so the version with
    // smoke-namespace running is a second one), the second smoke-namespace chunk waits until the watcher saw that
    // log non-empty, and smoke-namespace ends only once the watcher saw the log grow and smoke-namespace running.
    let watcher: Seen | undefined;
    const printsWhen = { "smoke-namespace": (index: number) => index === 0 || grownSizes(watcher!, step).length >= 1 };
    const endsWhen = {
      "check-inputs": () => runningVersions(watcher!).length >= 1,
      "smoke-namespace": () => grownSizes(watcher!, step).length >= 2 && smokeRunning(runningVersions(watcher!)) !== undefined,
    };
    world.kube.setOutcome(runId, { kind: "tasks", tasks: scriptedTasks({ lines: 4, intervalMs: 50, binary: true, longLineBytes: 70_000, printsWhen, endsWhen }) });
    const inv = await prepareRun(world, runId, { keep: true });
    let exited = false;
    const run = runRunner(inv.args, runnerEnv(world)).finally(() => (exited = true));
    const watching = watch(inv.resultDir, () => exited);
    watcher = watching.seen;
    const seen = await watching.done;
    const exit = await run;
    assert.equal(exit.code, 0, `${exit.stderr}\n${await readFile(join(inv.resultDir, "runner.log"), "utf8")}`);

    // progress.json appeared and changed while the run went on.
    const versions = runningVersions(seen);
    assert.ok(versions.length >= 2, `progress.json versions seen while the PipelineRun ran: ${versions.length}`);
    assert.ok(versions.every((p) => p.runId === runId));
    assert.deepEqual(versions[0]!.tasks, ["check-inputs", "smoke-namespace", "report"]);
    assert.ok(smokeRunning(versions), "a version shows smoke-namespace running, check-inputs done and report not started");

    // The log grew in pods/ before the run ended.
    const sizes = grownSizes(seen, step);
    assert.ok(sizes.length >= 2 && sizes.every((s, i) => i === 0 || s > sizes[i - 1]!), `${step} grew while running: sizes ${sizes.join(",")}`);

    // The final record: progress complete, logs exact.
    const final = JSON.parse(await readFile(join(inv.resultDir, "progress.json"), "utf8")) as Progress;
    assert.equal(final.pipelineRun?.status, "True");
    // Every task once, complete; in the record's order: by start time (whole seconds: two tasks started in the same
    // second come by name, docs/runner.md#live-progress-progressjson-and-pods-streaming).
    const rows = final.taskRuns.map((r) => [r.pipelineTask, r.status, r.reason, r.pod]);
    assert.deepEqual([...rows].sort(), [
      ["check-inputs", "True", "Succeeded", `e2e-${runId}-check-inputs-pod`],
      ["report", "True", "Succeeded", `e2e-${runId}-report-pod`],
      ["smoke-namespace", "True", "Succeeded", `e2e-${runId}-smoke-namespace-pod`],
    ]);
    assert.ok(final.taskRuns.every((r) => r.startTime && r.completionTime));
    const key = (r: Progress["taskRuns"][number]) => `${r.startTime}\u0000${r.name}`;
    assert.ok(final.taskRuns.every((r, i) => i === 0 || key(final.taskRuns[i - 1]!) <= key(r)), `sorted by start time, then name: ${JSON.stringify(final.taskRuns)}`);
    assert.equal(rows[0]![0], "check-inputs", "check-inputs ends before the others start");
    assert.ok(final.pods.some((p) => p.namespace === `unidesk-ci-${runId}` && p.containers[0]!.log === "pods/e2e-smoke_smoke.log"));
    await assertLogsComplete(world, runId, inv.resultDir);
    const saved = await readFile(join(inv.resultDir, "pods", step));
    assert.ok(saved.includes(Buffer.from(BINARY_CHUNK)), "binary chunk kept");
    assert.ok((await readFile(join(inv.resultDir, "pods", `e2e-${runId}-check-inputs-pod_step-check-inputs.log`), "utf8")).includes(`${"L".repeat(70_000)}\n`));
    assert.match(await readFile(join(inv.resultDir, "runner.log"), "utf8"), /saved pods\/e2e-t-live-\S+_step-report\.log \(\d+ bytes, [1-9]\d* streamed, stream exit 0\)/);
    assert.deepEqual(processesOf(runId), [], "no stream outlives the runner");
    assert.equal((await readResult(inv.resultDir)).status, "succeeded");
    assertClusterInvariants(world, [runId], { kept: [runId] });
  });

  it("a stream cut short (kubectl exits 0 on a dropped connection): the whole log replaces the streamed part, no duplicate", async (t: TestContext) => {
    const world = await startWorld();
    t.after(() => world.close());
    const runId = newTestRunId("drop");
    // check-inputs ends only once a stream was dropped: its stream is still open when the test drops it.
    let dropped = 0;
    world.kube.setOutcome(runId, { kind: "tasks", tasks: scriptedTasks({ lines: 6, intervalMs: 50, binary: true, endsWhen: { "check-inputs": () => dropped > 0 } }) });
    const inv = await prepareRun(world, runId, { keep: true });
    const run = runRunner(inv.args, runnerEnv(world));
    const step = join(inv.resultDir, "pods", `e2e-${runId}-check-inputs-pod_step-check-inputs.log`);
    await until(() => existsSync(step) && statSync(step).size > 0, "the first stream's bytes");
    await until(() => (dropped = world.kube.dropLogStreams()) > 0, "an open stream to drop");
    const exit = await run;
    assert.equal(exit.code, 0, exit.stderr);
    const log = await readFile(join(inv.resultDir, "runner.log"), "utf8");
    assert.match(log, new RegExp(`saved pods/e2e-${runId}-check-inputs-pod_step-check-inputs\\.log \\(\\d+ bytes, [1-9]\\d* streamed`), "re-fetched whole");
    await assertLogsComplete(world, runId, inv.resultDir);
    assert.deepEqual(processesOf(runId), []);
    assertClusterInvariants(world, [runId], { kept: [runId] });
  });

  it("SIGTERM while streaming: streams stopped and reaped, logs complete, progress shows the cancel", async (t: TestContext) => {
    const world = await startWorld();
    t.after(() => world.close());
    const runId = newTestRunId("live-term");
    world.kube.setOutcome(runId, { kind: "tasks", tasks: scriptedTasks({ lines: 2, intervalMs: 100 }), hang: true });
    const inv = await prepareRun(world, runId, { keep: true, timeoutMs: 60_000 });
    const exit = await runRunner(inv.args, runnerEnv(world), (pid) => {
      void until(async () => hasFile(inv.resultDir, "progress.json") && /streaming pods\/e2e-smoke_smoke/.test(await readFile(join(inv.resultDir, "runner.log"), "utf8")), "streams").then(() => process.kill(pid, "SIGTERM"));
    });
    assert.equal(exit.code, 143, exit.stderr);
    assert.equal((await readResult(inv.resultDir)).status, "cancelled");
    const final = JSON.parse(await readFile(join(inv.resultDir, "progress.json"), "utf8")) as Progress;
    assert.equal(final.pipelineRun?.reason, "Cancelled");
    await assertLogsComplete(world, runId, inv.resultDir);
    assert.deepEqual(processesOf(runId), []);
    assertClusterInvariants(world, [runId], { kept: [runId] });
  });
});
