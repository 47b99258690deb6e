import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { scriptedTasks } from "../kube/fake-tekton.ts";
import { SAMPLE_SERVICE } from "../sandbox/sandbox.ts";
import { cli, jsonOf, show, sharedE2e } from "./sandbox-helpers.ts";
import { RUN_END_WAIT_MS } from "../support/until.ts";

/**
 * From a red run to its cause through the whole sandbox (docs/commands.md#the-failure-digest), on ONE sandbox: a
 * green run, a pushed change of one service's commit, then failing runs. The failed step's headline and last lines
 * end every human screen (`run-dev-e2e --wait-ms`, `--follow`, `logs --follow`) and open `logs`; `--json` carries
 * them; `--failed` keeps only the failed step's lines; `@latest` / `@latest-failed` resolve and are named; the
 * changed service (`backend-core: old → new`) shows in `logs`, the digest, `report --markdown` and `runs`.
 */
describe("e2e: from a red run to its cause", () => {
  const e2e = sharedE2e();
  const GREEN = "e2e-digest-green";
  const RED = ["e2e-digest-red-1", "e2e-digest-red-2", "e2e-digest-red-3"] as const;
  const NEW_COMMIT = "1234567890abcdef1234567890abcdef12345678";
  const SUBJECT = "dev: backend-core to 1234567";
  const HEADLINE = '✗ smoke-namespace/deploy-dev exited 1: "step-deploy-dev" exited with code 1';
  const ERROR_LINE = 'Error from server: deployments.apps "backend-core" not found';
  const CHANGED = `backend-core: ${SAMPLE_SERVICE.commitId.slice(0, 7)} → ${NEW_COMMIT.slice(0, 7)}`;
  let pushed = "";

  /** The next run of `runId` fails in smoke-namespace's deploy-dev step with {@link ERROR_LINE}. */
  const failNext = (runId: string) =>
    e2e().sb.kube!.setOutcome(runId, {
      kind: "tasks",
      tasks: scriptedTasks({ lines: 2, intervalMs: 20, failTask: "smoke-namespace", failSteps: [{ name: "deploy-dev", exitCode: 1, chunks: [`${ERROR_LINE}\n`] }] }),
    });

  /** The digest in a human screen: the headline, the step's last lines after it, and the changed service. */
  function assertDigest(text: string, where: string): void {
    const at = text.indexOf(HEADLINE);
    assert.ok(at >= 0, `${where}: no failure headline\n${text}`);
    assert.match(text.slice(at), new RegExp(`^  last lines of pods/e2e-e2e-digest-red-\\d-smoke-namespace-pod_step-deploy-dev\\.log:\\n(  │ .*\\n)*  │ ${ERROR_LINE.replaceAll(".", "\\.")}\\n`, "m"), `${where}: the step's last lines\n${text}`);
    assert.ok(text.slice(at).includes(`since the last green run ${GREEN}`), `${where}: the last green run\n${text}`);
    assert.ok(text.slice(at).includes(`  ${CHANGED}\n`), `${where}: the changed service\n${text}`);
  }

  it("a green run: @latest names it, @latest-failed names nothing (exit 2)", async () => {
    e2e().sb.kube!.setOutcome(GREEN, { kind: "tasks", tasks: scriptedTasks({ lines: 2, intervalMs: 20 }) });
    const green = await cli(e2e(), ["run-dev-e2e", "--run-id", GREEN, "--wait-ms", RUN_END_WAIT_MS]);
    assert.equal(green.code, 0, show(green));
    assert.ok(!green.stderr.includes("✗"), show(green));

    const latest = await cli(e2e(), ["logs", "@latest"]);
    assert.equal(latest.code, 0, show(latest));
    assert.match(latest.stderr, new RegExp(`^@latest is run ${GREEN}$`, "m"));
    const latestJson = await cli(e2e(), ["logs", "@latest", "--json"]);
    assert.deepEqual([jsonOf(latestJson).runId, jsonOf(latestJson).reference], [GREEN, "@latest"]);
    const none = await cli(e2e(), ["logs", "@latest-failed"]);
    assert.equal(none.code, 2, show(none));
    assert.match(none.stderr, /^error: @latest-failed names nothing: /m);
  });

  it("a pushed service commit, then a failed run: the digest ends run-dev-e2e --wait-ms, human and --json", async () => {
    const manifest = JSON.parse(readFileSync(join(e2e().sb.operatorRepoDir, "deploy.json"), "utf8"));
    manifest.environments.dev.services[0].commitId = NEW_COMMIT;
    pushed = await e2e().sb.commit({ files: { "deploy.json": `${JSON.stringify(manifest, null, 2)}\n` }, message: SUBJECT });

    failNext(RED[0]);
    const waited = await cli(e2e(), ["run-dev-e2e", "--run-id", RED[0], "--wait-ms", RUN_END_WAIT_MS]);
    assert.equal(waited.code, 1, show(waited));
    assertDigest(waited.stdout, "run-dev-e2e --wait-ms");
    assert.match(waited.stderr, new RegExp(`^run ${RED[0]} failed; the failed steps' logs: unidesk-ci logs ${RED[0]} --failed$`, "m"));

    failNext(RED[1]);
    const json = await cli(e2e(), ["run-dev-e2e", "--run-id", RED[1], "--wait-ms", RUN_END_WAIT_MS, "--json"]);
    assert.equal(json.code, 1, show(json));
    const doc = jsonOf(json);
    assert.equal(doc.error.code, "run_failed", show(json));
    const failures = doc.failures;
    assert.deepEqual(failures.map((f: Record<string, unknown>) => [f.task, f.step, f.exitCode, f.message]), [["smoke-namespace", "deploy-dev", 1, '"step-deploy-dev" exited with code 1']]);
    assert.equal(failures[0].tail.at(-2), ERROR_LINE);
  });

  it("run-dev-e2e --follow: the digest at the end of the human screen; the NDJSON task event carries the message", async () => {
    failNext(RED[2]);
    const followed = await cli(e2e(), ["run-dev-e2e", "--run-id", RED[2], "--follow"]);
    assert.equal(followed.code, 1, show(followed));
    const screen = followed.stdout;
    assertDigest(screen, "run-dev-e2e --follow");
    assert.ok(screen.lastIndexOf(HEADLINE) > screen.lastIndexOf("\n[smoke-namespace/deploy-dev] "), `the digest comes after the followed lines\n${screen}`);

    const events = await cli(e2e(), ["logs", RED[2], "--follow", "--json"]);
    const tasks = events.stdout.trim().split("\n").map((l) => JSON.parse(l)).filter((e) => e.event === "task" && e.task === "smoke-namespace" && e.state === "failed");
    assert.ok(tasks.length >= 1, show(events));
    assert.equal(tasks.at(-1).message, '"step-deploy-dev" exited with code 1');
  });

  it("logs --follow of the finished run: task lines, then the digest; logs: the digest on top", async () => {
    const follow = await cli(e2e(), ["logs", RED[0], "--follow"]);
    assert.equal(follow.code, 1, show(follow));
    assertDigest(follow.stdout, "logs --follow");
    const taskLine = follow.stderr.indexOf("task smoke-namespace failed");
    assert.ok(taskLine >= 0 && taskLine < follow.stderr.indexOf("finished: failed"), `the task lines before finished:\n${follow.stderr}`);
    assert.ok(follow.stdout.lastIndexOf(HEADLINE) > follow.stdout.lastIndexOf("\n[smoke-namespace/deploy-dev] "), `the digest comes after the task lines\n${follow.stdout}`);

    const logs = await cli(e2e(), ["logs", RED[0]]);
    assert.equal(logs.code, 0, show(logs));
    assertDigest(logs.stdout, "logs");
    assert.ok(logs.stdout.indexOf(HEADLINE) < logs.stdout.indexOf("[launcher]"), `the digest is on top\n${logs.stdout}`);
    assert.ok(logs.stdout.indexOf(HEADLINE) < logs.stdout.indexOf("[runner]"), `the digest is on top\n${logs.stdout}`);
  });

  it("logs --failed: only the failed step's lines after the digest", async () => {
    const failed = await cli(e2e(), ["logs", RED[0], "--failed"]);
    assert.equal(failed.code, 0, show(failed));
    assertDigest(failed.stdout, "logs --failed");
    const sourced = failed.stdout.split("\n").filter((l) => /^\[[^\]]+\] /.test(l));
    assert.ok(sourced.length >= 3, failed.stdout);
    assert.deepEqual([...new Set(sourced.map((l) => /^\[([^\]]+)\]/.exec(l)![1]))], ["smoke-namespace/deploy-dev"], failed.stdout);
    assert.ok(sourced.includes(`[smoke-namespace/deploy-dev] ${ERROR_LINE}`), failed.stdout);

    const json = await cli(e2e(), ["logs", RED[0], "--failed", "--json"]);
    const paths = jsonOf(json).files.map((f: { path: string }) => f.path).filter((p: string) => p.endsWith(".log"));
    assert.deepEqual(paths, [`pods/e2e-${RED[0]}-smoke-namespace-pod_step-deploy-dev.log`]);
  });

  it("@latest-failed names the newest red run; report --markdown and runs show the changed service and the clone's commit subject", async () => {
    const md = await cli(e2e(), ["report", "@latest-failed", "--markdown", "-"]);
    assert.equal(md.code, 0, show(md));
    assert.match(md.stderr, new RegExp(`^@latest-failed is run ${RED[2]}$`, "m"));
    assert.match(md.stdout, new RegExp(`^## ✗ unidesk-ci run \`${RED[2]}\`: failed$`, "m"));
    assert.ok(md.stdout.includes(`\`backend-core\`: \`${SAMPLE_SERVICE.commitId.slice(0, 12)}\` → \`${NEW_COMMIT.slice(0, 12)}\``), md.stdout);
    assert.ok(md.stdout.includes(`\`${pushed.slice(0, 12)}\` \`${SUBJECT}\``), `the operator clone's commit subject\n${md.stdout}`);
    assert.ok(md.stdout.includes(ERROR_LINE), md.stdout);

    const latest = await cli(e2e(), ["report", "@latest", "--junit", "-"]);
    assert.match(latest.stderr, new RegExp(`^@latest is run ${RED[2]}$`, "m"));

    const logs = await cli(e2e(), ["logs", "@latest-failed"]);
    assert.match(logs.stderr, new RegExp(`^@latest-failed is run ${RED[2]}$`, "m"));
    assert.ok(logs.stdout.includes(`    ${pushed.slice(0, 7)} ${SUBJECT}\n`), logs.stdout);

    const runs = await cli(e2e(), ["runs"]);
    assert.equal(runs.code, 0, show(runs));
    // CHANGED is against the previous run: the first red run after the push shows the change, the next ones none.
    assert.match(runs.stdout, new RegExp(`^${RED[0]} .*failed .* ${CHANGED}$`, "m"), runs.stdout);
    for (const id of RED.slice(1)) assert.match(runs.stdout, new RegExp(`^${id} .*failed .* -$`, "m"), runs.stdout);
    const runsJson = jsonOf(await cli(e2e(), ["runs", "--json"]));
    const red = runsJson.runs.find((r: { runId: string }) => r.runId === RED[0]);
    assert.deepEqual(red.changes.services.changed, [{ id: "backend-core", from: SAMPLE_SERVICE.commitId, to: NEW_COMMIT }]);
  });
});
