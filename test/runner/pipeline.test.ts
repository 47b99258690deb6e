import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readdir, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { describe, it, type TestContext } from "node:test";
import { DEFAULT_TASKS } from "../kube/fake-tekton.ts";
import { newTestRunId, prepareRun, runnerEnv, runRunner, startWorld, type World } from "./harness.ts";

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, "../..");
const PIPELINE_FILE = join(ROOT, "scripts/ci/tekton/unidesk-dev-namespace-e2e.yaml");

interface PipelineTask {
  name: string;
  params?: { name: string; value: string }[];
  taskSpec: { steps: { name: string; script?: string }[] };
}
interface Pipeline {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string };
  spec: { params: { name: string; default?: string }[]; tasks: PipelineTask[]; finally?: PipelineTask[] };
}

/** Parses the YAML with the real kubectl (client-side dry run against the fake API's discovery). */
async function loadPipeline(world: World): Promise<Pipeline> {
  const { stdout } = await run("kubectl", ["create", "--dry-run=client", "-f", PIPELINE_FILE, "-o", "json"], {
    env: runnerEnv(world),
  });
  return JSON.parse(stdout) as Pipeline;
}

describe("the reference Pipeline and the runner stay in step", () => {
  it("declares exactly the params the runner passes (per-service params are Tekton extras)", async (t: TestContext) => {
    const world = await startWorld({ defaultOutcome: { kind: "succeed", delayMs: 50 } });
    t.after(() => world.close());
    const pipeline = await loadPipeline(world);
    assert.equal(pipeline.apiVersion, "tekton.dev/v1");
    assert.equal(pipeline.kind, "Pipeline");
    assert.equal(pipeline.metadata.name, "unidesk-dev-namespace-e2e");
    assert.equal(pipeline.metadata.namespace, "unidesk-ci");

    const runId = newTestRunId("params");
    const inv = await prepareRun(world, runId);
    assert.equal((await runRunner(inv.args, runnerEnv(world))).code, 0);
    const pr = world.kube.getObject("tekton.dev/v1", "pipelineruns", "unidesk-ci", `e2e-${runId}`)!;
    const passed = ((pr.spec?.["params"] ?? []) as { name: string }[]).map((p) => p.name);
    const fixed = passed.filter((n) => !/^service-[a-z0-9-]+-commit$/.test(n));
    assert.deepEqual(passed.filter((n) => !fixed.includes(n)), ["service-backend-core-commit", "service-frontend-commit"]);
    assert.deepEqual(pipeline.spec.params.map((p) => p.name).sort(), [...fixed].sort());
  });

  it("uses only declared params, keeps task names short, matches the fake controller's tasks", async (t: TestContext) => {
    const world = await startWorld();
    t.after(() => world.close());
    const pipeline = await loadPipeline(world);
    const declared = new Set(pipeline.spec.params.map((p) => p.name));
    const tasks = [...pipeline.spec.tasks, ...(pipeline.spec.finally ?? [])];
    for (const task of tasks) {
      assert.ok(task.name.length <= 18, `task ${task.name} must be at most 18 characters (TaskRun names <= 63)`);
      for (const p of task.params ?? []) {
        for (const [, ref] of p.value.matchAll(/\$\(params\.([a-z0-9-]+)\)/g)) assert.ok(declared.has(ref!), `${task.name} uses undeclared param ${ref}`);
      }
    }
    assert.deepEqual(tasks.map((t) => t.name), DEFAULT_TASKS);
  });

  it("its step scripts pass shellcheck", async (t: TestContext) => {
    const world = await startWorld();
    t.after(() => world.close());
    const pipeline = await loadPipeline(world);
    const files: string[] = [];
    for (const task of [...pipeline.spec.tasks, ...(pipeline.spec.finally ?? [])]) {
      for (const step of task.taskSpec.steps) {
        if (!step.script) continue;
        const file = join(world.dir, `${task.name}-${step.name}.sh`);
        await writeFile(file, step.script);
        files.push(file);
      }
    }
    assert.equal(files.length, 3);
    await run("shellcheck", files).catch((err: { stdout: string }) => assert.fail(`shellcheck:\n${err.stdout}`));
  });
});

describe("shellcheck", () => {
  it("passes on every script under scripts/ and on .ci/install-kubectl.sh", async () => {
    const scripts = (await readdir(join(ROOT, "scripts"), { recursive: true })).filter((f) => f.endsWith(".sh")).map((f) => join(ROOT, "scripts", f));
    assert.ok(scripts.includes(join(ROOT, "scripts/ci/dev-e2e.sh")));
    await run("shellcheck", ["--version"]).catch(() => assert.fail("shellcheck is not installed: apt-get install -y shellcheck"));
    await run("shellcheck", [...scripts, join(ROOT, ".ci/install-kubectl.sh")]).catch((err: { stdout: string }) => assert.fail(`shellcheck:\n${err.stdout}`));
  });
});
