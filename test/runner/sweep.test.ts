import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { mkdir, readdir, readFile, symlink, utimes, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { describe, it, type TestContext } from "node:test";
import type { KubeObject } from "../kube/fake-api.ts";
import { assertClusterInvariants, hasFile, launchRunner, newTestRunId, prepareRun, readPid, readResult, runnerEnv, runRunner, SHA, startWorld, untilWaiting, type World } from "./harness.ts";

const LABELS = (runId: string) => ({ "app.kubernetes.io/managed-by": "unidesk-ci", "unidesk.ci/run-id": runId, "unidesk.ci/manifest-commit": SHA });

/** The runner instance a hand-made run `runId` recorded in its directory (as a runner does before creating anything). */
function recordInstance(world: World, runId: string): string {
  const instance = Buffer.from(runId).toString("hex").slice(0, 12);
  mkdirSync(join(world.dir, "runs", runId), { recursive: true });
  writeFileSync(join(world.dir, "runs", runId, "runner-instance"), `${instance}\n`);
  return instance;
}

/** A namespace as the runner creates it (labels, keep-namespace and runner-instance annotations), put straight into the store; its run's directory records the instance. */
function runNamespace(world: World, runId: string, keep = false, record = true): KubeObject {
  const instance = record ? recordInstance(world, runId) : "0123abcd";
  return world.kube.createObject({ apiVersion: "v1", kind: "Namespace", metadata: { name: `unidesk-ci-${runId}`, labels: LABELS(runId), annotations: { "unidesk.ci/keep-namespace": String(keep), "unidesk.ci/runner-instance": instance } } });
}

/** A finished run's directory: result.json as the runner writes it. */
async function finishedRun(world: World, runId: string, fields: { keepNamespace?: boolean; finishedAt?: string } = {}): Promise<string> {
  const dir = join(world.dir, "runs", runId);
  await mkdir(dir, { recursive: true });
  const result = { ok: true, status: "succeeded", runId, manifestCommit: SHA, pipelineRun: `e2e-${runId}`, temporaryNamespace: `unidesk-ci-${runId}`, keepNamespace: fields.keepNamespace ?? false, namespaceDeleted: false, finishedAt: fields.finishedAt ?? "2026-01-01T00:00:00.000Z", writer: "runner" };
  await writeFile(join(dir, "result.json"), `${JSON.stringify(result, null, 2)}\n`);
  return dir;
}

/** A work-root entry as the launcher leaves it (a clone, runner.sh, deploy.json). */
async function workDir(world: World, runId: string): Promise<string> {
  const dir = join(world.dir, "work", runId);
  await mkdir(join(dir, "repo", ".git"), { recursive: true });
  await writeFile(join(dir, "runner.sh"), "# runner\n");
  await writeFile(join(dir, "deploy.json"), "{}\n");
  return dir;
}

/** Makes a directory look older than the sweep's grace period. */
async function age(dir: string, seconds = 3600): Promise<void> {
  const t = new Date(Date.now() - seconds * 1000);
  await utimes(dir, t, t);
}

/** An unrelated long-lived process (its pid is what a reused pid looks like). */
function unrelatedProcess(t: TestContext): ChildProcess {
  const child = spawn("sleep", ["300"], { stdio: "ignore" });
  t.after(() => child.kill("SIGKILL"));
  return child;
}

describe("dev-e2e.sh: the sweep at the start of every run", () => {
  it("ends dead runs as lost, cleans what they and finished runs left, touches nothing else", async (t: TestContext) => {
    const world = await startWorld({ defaultOutcome: { kind: "hang" } });
    t.after(() => world.close());
    const env = runnerEnv(world);

    // C: a live concurrent run, in its wait loop (started first, so only B can sweep what follows). Its deadline is
    // far beyond the test's: with the default 60 s, a loaded CI machine (97 s for this test) saw C time out and
    // delete its own namespace before the checks below.
    const c = await prepareRun(world, newTestRunId("live"), { timeoutMs: 1_800_000 });
    const launchedC = launchRunner(c, env);
    await untilWaiting(c);

    // A: launcher and runner SIGKILLed mid-run (its namespace and PipelineRun stay in the cluster).
    const a = await prepareRun(world, newTestRunId("killed"));
    const launchedA = launchRunner(a, env);
    await untilWaiting(a);
    const runnerPidA = await readPid(a.resultDir, "runner.pid");
    assert.equal(await readPid(a.resultDir, "launcher.pid"), launchedA.launcherPid);
    process.kill(launchedA.launcherPid, "SIGKILL");
    process.kill(runnerPidA, "SIGKILL");
    // Its log streams outlive it (bounded by the timeout) but hold no pipe of the launcher's: it ends now.
    assert.equal((await launchedA.exited).signal, "SIGKILL");
    assert.ok(world.kube.getObject("v1", "namespaces", undefined, `unidesk-ci-${a.runId}`), "the killed run left its namespace");

    // D: both pid files name an unrelated live process (a reused pid); it left a namespace and a PipelineRun.
    const d = await prepareRun(world, newTestRunId("reused"));
    const stranger = unrelatedProcess(t);
    for (const f of ["launcher.pid", "runner.pid"]) await writeFile(join(d.resultDir, f), `${stranger.pid}\n`);
    await writeFile(join(d.resultDir, "runner.log"), `2026-01-01T00:00:00.000Z runner started: pid ${stranger.pid}, run ${d.runId}, manifest commit ${SHA}\n`);
    runNamespace(world, d.runId);
    world.kube.createObject({ apiVersion: "tekton.dev/v1", kind: "PipelineRun", metadata: { name: `e2e-${d.runId}`, namespace: "unidesk-ci", labels: LABELS(d.runId), annotations: { "unidesk.ci/runner-instance": recordInstance(world, d.runId) } }, spec: { pipelineRef: { name: "unidesk-dev-namespace-e2e" } } });
    await age(d.resultDir);

    // L: in the launcher phase (launcher.pid only, its command line names the dir), for an hour already.
    const l = join(world.dir, "runs", newTestRunId("fetching"));
    await mkdir(l, { recursive: true });
    const standIn = spawn("bash", ["-c", "sleep 300; exit 0", "launcher-stand-in", l], { stdio: "ignore", detached: true });
    // Its own process group, killed whole: a SIGKILL to bash alone would leave its sleep running.
    t.after(() => process.kill(-standIn.pid!, "SIGKILL"));
    await writeFile(join(l, "launcher.pid"), `${standIn.pid}\n`);
    await age(l);

    // E: dead, its namespace already terminating (Kubernetes deletes namespaces asynchronously).
    const e = await prepareRun(world, newTestRunId("terminating"));
    await writeFile(join(e.resultDir, "runner.pid"), "999999999\n");
    await writeFile(join(e.resultDir, "runner.log"), `2026-01-01T00:00:00.000Z runner started: pid 999999999, run ${e.runId}, manifest commit ${SHA}\n`);
    world.kube.createObject({ apiVersion: "v1", kind: "Namespace", metadata: { name: `unidesk-ci-${e.runId}`, labels: LABELS(e.runId), annotations: { "unidesk.ci/runner-instance": recordInstance(world, e.runId) }, deletionTimestamp: "2026-01-01T00:00:00Z" }, status: { phase: "Terminating" } });

    // Y: a result dir just created by a launcher that has not written launcher.pid yet.
    const young = join(world.dir, "runs", newTestRunId("young"));
    await mkdir(young, { recursive: true });

    // F / G: finished runs whose runner was killed before its cleanup, G asked to keep its namespace.
    const f = newTestRunId("leftover");
    await finishedRun(world, f);
    runNamespace(world, f);
    const g = newTestRunId("kept");
    await finishedRun(world, g, { keepNamespace: true });
    runNamespace(world, g, true);

    // Work-root entries: F's and G's (finished), L's and Y's (live), one of a run id without a directory here, one
    // that is no run id, and a finished run H whose entry is a symlink to something that must survive.
    for (const id of [f, g, basename(l), basename(young), "t-no-such-run"]) await workDir(world, id);
    await mkdir(join(world.dir, "work", "Not_A_Run"), { recursive: true });
    const h = newTestRunId("linked");
    await finishedRun(world, h);
    const precious = join(world.dir, "precious");
    await mkdir(precious);
    await writeFile(join(precious, "keep.txt"), "keep\n");
    await symlink(precious, join(world.dir, "work", h));

    // What carries no proof: an unlabelled unidesk-ci-foo, a protected namespace and a mislabelled one
    // claiming the dead run D, a labelled namespace of a run id with no directory here.
    const foo = world.kube.createObject({ apiVersion: "v1", kind: "Namespace", metadata: { name: "unidesk-ci-foo" } });
    const protectedNs = world.kube.createObject({ apiVersion: "v1", kind: "Namespace", metadata: { name: "kube-public", labels: LABELS(d.runId) } });
    const misnamed = world.kube.createObject({ apiVersion: "v1", kind: "Namespace", metadata: { name: "unidesk-ci-foo-bar", labels: LABELS(d.runId) } });
    const unknown = runNamespace(world, "t-no-such-run", false, false);

    // B: the next run.
    const b = await prepareRun(world, newTestRunId("next"));
    world.kube.setOutcome(b.runId, { kind: "succeed", delayMs: 100 });
    const exitB = await runRunner(b.args, env);
    const logB = await readFile(join(b.resultDir, "runner.log"), "utf8");
    assert.equal(exitB.code, 0, `${exitB.stderr}\n${logB}`);

    // A: a definite end, its namespace gone, its PipelineRun cancelled.
    const lostA = await readResult(a.resultDir);
    assert.equal(lostA.status, "lost");
    assert.equal(lostA.ok, false);
    assert.equal(lostA.runId, a.runId);
    assert.equal(lostA.manifestCommit, SHA);
    assert.equal(lostA["writer"], "sweep");
    assert.equal(lostA["sweptBy"], b.runId);
    assert.equal(lostA.pipelineRun, `e2e-${a.runId}`);
    assert.equal(lostA.temporaryNamespace, `unidesk-ci-${a.runId}`);
    assert.equal(lostA["namespaceDeleted"], true);
    assert.match(lostA.reason ?? "", new RegExp(`launcher.pid ${launchedA.launcherPid} is gone, runner.pid ${runnerPidA} is (gone|a zombie)\\); swept by run ${b.runId}; PipelineRun e2e-${a.runId} cancelled; temporary namespace unidesk-ci-${a.runId} deleted`));
    assert.equal(world.kube.getObject("v1", "namespaces", undefined, `unidesk-ci-${a.runId}`), undefined);
    const prA = world.kube.getObject("tekton.dev/v1", "pipelineruns", "unidesk-ci", `e2e-${a.runId}`)!;
    assert.equal(prA.spec?.["status"], "Cancelled");
    assert.equal((prA.status?.["conditions"] as { reason: string }[])[0]?.reason, "Cancelled");

    // D: a reused pid is not a live run.
    const lostD = await readResult(d.resultDir);
    assert.equal(lostD.status, "lost");
    assert.match(lostD.reason ?? "", new RegExp(`launcher.pid ${stranger.pid} is another program, runner.pid ${stranger.pid} is another program`));
    assert.equal(world.kube.getObject("v1", "namespaces", undefined, `unidesk-ci-${d.runId}`), undefined);
    assert.equal(world.kube.getObject("tekton.dev/v1", "pipelineruns", "unidesk-ci", `e2e-${d.runId}`)?.spec?.["status"], "Cancelled");

    // C: live, untouched.
    assert.ok(!hasFile(c.resultDir, "result.json"), "a live run gets no result.json");
    assert.ok(world.kube.getObject("v1", "namespaces", undefined, `unidesk-ci-${c.runId}`), "a live run keeps its namespace");
    assert.equal(world.kube.getObject("tekton.dev/v1", "pipelineruns", "unidesk-ci", `e2e-${c.runId}`)?.spec?.["status"], undefined);
    // Y: too young to judge; L: its launcher is alive.
    assert.ok(!existsSync(join(young, "result.json")));
    assert.ok(!existsSync(join(l, "result.json")));
    // E: lost, its terminating namespace named and not deleted again.
    const lostE = await readResult(e.resultDir);
    assert.deepEqual([lostE.status, lostE.temporaryNamespace, lostE["namespaceDeleted"]], ["lost", `unidesk-ci-${e.runId}`, false]);
    assert.match(lostE.reason ?? "", /runner\.pid 999999999 is gone/);
    assert.deepEqual(world.kube.writes().filter((w) => w.namespace === `unidesk-ci-${e.runId}`), [], "a terminating namespace is not deleted again");
    // F cleaned, G kept.
    assert.equal(world.kube.getObject("v1", "namespaces", undefined, `unidesk-ci-${f}`), undefined);
    assert.ok(world.kube.getObject("v1", "namespaces", undefined, `unidesk-ci-${g}`));
    // No proof, no touch.
    for (const ns of [foo, protectedNs, misnamed, unknown]) {
      assert.equal(world.kube.getObject("v1", "namespaces", undefined, ns.metadata.name)?.metadata.resourceVersion, ns.metadata.resourceVersion, `${ns.metadata.name} must be untouched`);
    }
    assert.match(logB, /sweep: 9 other runs in .*, 3 lost/);

    // Work root: the entries of finished runs (lost ones just swept included) are gone; live runs', this run's,
    // unknown or invalid names and a symlink (not followed) stay.
    const work = (await readdir(join(world.dir, "work"))).sort();
    assert.deepEqual(work, [b.runId, c.runId, h, basename(l), "Not_A_Run", "t-no-such-run", basename(young)].sort());
    assert.equal(await readFile(join(precious, "keep.txt"), "utf8"), "keep\n");
    assert.match(logB, new RegExp(`work root: removed 5 work dirs of finished runs from ${join(world.dir, "work")}`));

    // C ends normally on SIGTERM; then every write of every run stayed in its own or swept namespaces.
    process.kill(await readPid(c.resultDir, "runner.pid"), "SIGTERM");
    assert.equal((await launchedC.exited).code, 143);
    assert.equal((await readResult(c.resultDir)).status, "cancelled");
    assertClusterInvariants(world, [a.runId, b.runId, c.runId, d.runId, e.runId, f, g], { kept: [e.runId, g] });
  });

  it("a second sweep changes nothing: a lost result is never rewritten", async (t: TestContext) => {
    const world = await startWorld({ defaultOutcome: { kind: "succeed", delayMs: 100 } });
    t.after(() => world.close());
    const dead = await prepareRun(world, newTestRunId("dead"));
    await writeFile(join(dead.resultDir, "launcher.log"), `2026-01-01T00:00:00.000Z launcher accepted run ${dead.runId}: repo https://github.com/pikasTech/unidesk commit ${SHA} script scripts/ci/dev-e2e.sh\n`);
    await age(dead.resultDir);
    const first = await prepareRun(world, newTestRunId("first"));
    assert.equal((await runRunner(first.args, runnerEnv(world))).code, 0);
    const lost = await readFile(join(dead.resultDir, "result.json"), "utf8");
    const parsed = await readResult(dead.resultDir);
    assert.equal(parsed.status, "lost");
    assert.equal(parsed.manifestCommit, SHA, "the commit comes from launcher.log");
    assert.match(parsed.reason ?? "", /no launcher\.pid or runner\.pid after 60s/);
    assert.equal(parsed.pipelineRun, null);
    assert.equal(parsed.temporaryNamespace, null);
    const second = await prepareRun(world, newTestRunId("second"));
    assert.equal((await runRunner(second.args, runnerEnv(world))).code, 0);
    assert.equal(await readFile(join(dead.resultDir, "result.json"), "utf8"), lost);
    assertClusterInvariants(world, [first.runId, second.runId]);
  });
});

describe("dev-e2e.sh: the sweep records a definite end for runs that left little behind", () => {
  it("a launcher that died right after claiming the id (only manifest-commit), and one dated a day ahead of a clock set back: both lost, with the commit", async (t: TestContext) => {
    const world = await startWorld({ defaultOutcome: { kind: "succeed", delayMs: 100 } });
    t.after(() => world.close());
    const claimed = join(world.dir, "runs", newTestRunId("claimed"));
    const future = join(world.dir, "runs", newTestRunId("future"));
    for (const dir of [claimed, future]) {
      await mkdir(dir, { recursive: true });
      // The launcher's owner record, as it writes it before launcher.log; nothing else.
      await writeFile(join(dir, "manifest-commit"), `${SHA}\n`);
    }
    await age(claimed);
    await age(future, -86_400);
    const sweeper = await prepareRun(world, newTestRunId("sweeper"));
    assert.equal((await runRunner(sweeper.args, runnerEnv(world))).code, 0);
    for (const dir of [claimed, future]) {
      const lost = await readResult(dir);
      assert.equal(lost.status, "lost", basename(dir));
      assert.equal(lost.writer, "sweep");
      assert.equal(lost.manifestCommit, SHA, "the commit comes from manifest-commit");
      assert.match(lost.reason ?? "", /no launcher\.pid or runner\.pid after 60s/);
    }
    assert.match((await readResult(future)).reason ?? "", /dated \d+s in the future: the clock was set back/);
    assertClusterInvariants(world, [sweeper.runId]);
  });
});

describe("dev-e2e.sh: the sweep touches only what a dead run's own runner created", () => {
  it("a namespace and a PipelineRun labelled for a dead run by someone else (another runner-instance, or none): the run is recorded lost, their objects stay", async (t: TestContext) => {
    // Found 2026-12-06: the sweep knew a run's objects by name and labels only, which any cluster user can give theirs.
    const world = await startWorld({ defaultOutcome: { kind: "succeed", delayMs: 100 } });
    t.after(() => world.close());
    const id = newTestRunId("squatted");
    const dir = join(world.dir, "runs", id);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, "runner.pid"), "999999999\n");
    await writeFile(join(dir, "runner.log"), `2026-01-01T00:00:00.000Z runner started: pid 999999999, run ${id}, manifest commit ${SHA}\n`);
    recordInstance(world, id);
    await age(dir);
    const ns = world.kube.createObject({ apiVersion: "v1", kind: "Namespace", metadata: { name: `unidesk-ci-${id}`, labels: LABELS(id), annotations: { "unidesk.ci/keep-namespace": "false", "unidesk.ci/runner-instance": "ffff0000" } } });
    const pr = world.kube.createObject({ apiVersion: "tekton.dev/v1", kind: "PipelineRun", metadata: { name: `e2e-${id}`, namespace: "unidesk-ci", labels: LABELS(id) }, spec: { pipelineRef: { name: "unidesk-dev-namespace-e2e" } } });
    const sweeper = await prepareRun(world, newTestRunId("sweeper"));
    assert.equal((await runRunner(sweeper.args, runnerEnv(world))).code, 0);
    assert.equal((await readResult(dir)).status, "lost");
    assert.equal(world.kube.getObject("v1", "namespaces", undefined, ns.metadata.name)?.metadata.resourceVersion, ns.metadata.resourceVersion, "their namespace untouched");
    assert.equal(world.kube.getObject("tekton.dev/v1", "pipelineruns", "unidesk-ci", pr.metadata.name)?.metadata.resourceVersion, pr.metadata.resourceVersion, "their PipelineRun not cancelled");
    const log = await readFile(join(sweeper.resultDir, "runner.log"), "utf8");
    assert.match(log, new RegExp(`sweep: namespace unidesk-ci-${id} is labelled for run ${id} but its runner did not create it`));
    assert.match(log, new RegExp(`sweep: PipelineRun e2e-${id} is labelled for run ${id} but its runner did not create it`));
  });
});

describe("dev-e2e.sh: the work root is known only from the launcher's layout", () => {
  for (const layout of ["elsewhere", "the runs root"] as const) {
    it(`a --manifest-file in ${layout} names no work root: every work dir stays`, async (t: TestContext) => {
      const world = await startWorld({ defaultOutcome: { kind: "succeed", delayMs: 100 } });
      t.after(() => world.close());
      const done = newTestRunId("done");
      await finishedRun(world, done);
      const entry = await workDir(world, done);
      const run = await prepareRun(world, newTestRunId("odd"));
      const manifest = layout === "elsewhere" ? join(world.dir, "manifests", "deploy.json") : join(run.resultDir, "deploy.json");
      await mkdir(join(manifest, ".."), { recursive: true });
      await writeFile(manifest, await readFile(run.manifestFile, "utf8"));
      const args = run.args.map((a, i) => (run.args[i - 1] === "--manifest-file" ? manifest : a));
      const exit = await runRunner(args, runnerEnv(world));
      const log = await readFile(join(run.resultDir, "runner.log"), "utf8");
      assert.equal(exit.code, 0, log);
      assert.ok(existsSync(join(entry, "runner.sh")), "the finished run's work dir stays");
      assert.ok(existsSync(join(world.dir, "runs", done, "result.json")));
      assert.match(log, layout === "elsewhere" ? /work root: --manifest-file is not <workRoot>\/t-odd-[^/]+\/deploy\.json; leaving work dirs alone/ : /work root: .* is the runs root; leaving it alone/);
    });
  }
});
