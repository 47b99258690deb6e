// `logs --follow`, `logs --file` and `run-dev-e2e --follow` in-process against stubbed dispatches (test/http-mock.ts):
// what reaches stdout and stderr, the NDJSON of --json (checked against its schema), the exit codes.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fakeEnv } from "../../src/env.ts";
import { LOGS_CAP_MAX_BYTES } from "../../src/rules.ts";
import { after, dispatchOf, hostAnswer, HttpMock } from "../http-mock.ts";
import { testProgress, testResult, watchAnswer } from "../host/answers.ts";
import { runMainChecked } from "./helpers.ts";

const TOKEN = "tok-logs-5c1d";
const RUN = "dev-20261127-162626-k3x9a2";
const vars = { HOME: "/nonexistent-home", UNIDESK_BACKEND_URL: "https://backend.test", UNIDESK_TOKEN: TOKEN };
const watch = dispatchOf("watch");
const POD = `pods/e2e-${RUN}-report-pod_step-report.log`;
const progress = (runs: [string, string, string][]) => ({ version: `1:${runs.length}:1`, json: testProgress(RUN, ["report"], runs) });
const b64 = (s: string) => Buffer.from(s).toString("base64");

/** result.json's record of the failed step (what the runner writes, docs/runner.md#failures). */
const FAILURE = { task: "report", step: "report", exitCode: 1, reason: "Failed", message: '"step-report" exited with code 1', log: POD, tail: ["[report] half line", "boom: the report failed"] };

/** A run followed over three answers: a task starts and prints (a line split across answers), then the result. */
function followedRun(status: "succeeded" | "failed") {
  return new HttpMock()
    .register(watch, hostAnswer(watchAnswer(RUN, { pipelineRun: `e2e-${RUN}`, progress: progress([["report", "Unknown", "Running"]]), chunks: [{ path: "runner.log", offset: 0, data: "runner up\n" }, { path: POD, offset: 0, data: "[report] half" }] })))
    .register(watch, hostAnswer(watchAnswer(RUN, { pipelineRun: `e2e-${RUN}`, progress: progress([["report", status === "succeeded" ? "True" : "False", status === "succeeded" ? "Succeeded" : "Failed"]]), chunks: [{ path: POD, offset: 13, data: " line\n" }] })))
    .register(watch, hostAnswer(watchAnswer(RUN, { pipelineRun: `e2e-${RUN}`, result: testResult(RUN, { status, ...(status === "failed" ? { failures: [FAILURE] } : {}) }), progress: { version: "1:1:1" } })));
}

describe("logs --follow", () => {
  it("prints each line with its source as it arrives, the task changes on stderr, then the summary: exit 0", async () => {
    const mock = followedRun("succeeded");
    const env = fakeEnv({ vars, fetch: mock.fetch });
    assert.equal(await runMainChecked(["logs", RUN, "--follow"], env), 0);
    mock.verify();
    assert.match(env.out(), /^\[runner\] runner up\n\[report\/report\] \[report\] half line\n\nstatus: +succeeded\n/);
    assert.equal(env.err(), `[0s] running e2e-${RUN}\n[0s] task report running\n[0s] task report succeeded (2s)\n[0s] finished: succeeded\n`);
  });

  it("a run that ended otherwise: exit 1 (like gh run watch --exit-status)", async () => {
    const env = fakeEnv({ vars, fetch: followedRun("failed").fetch });
    assert.equal(await runMainChecked(["logs", RUN, "-f"], env), 1);
    assert.match(env.out(), /^status: +failed$/m);
    // The digest ends stdout: the failed step, its exit code and message, its last lines.
    assert.match(env.out(), /\n✗ report\/report exited 1: "step-report" exited with code 1\n  last lines of pods\/\S+:\n  │ \[report\] half line\n  │ boom: the report failed\n$/);
    assert.match(env.err(), /run dev-\S+ failed; the failed steps' logs: unidesk-ci logs dev-\S+ --failed/);
  });

  it("--json: one event per line, the result last (checked against the follow schema)", async () => {
    const env = fakeEnv({ vars, fetch: followedRun("succeeded").fetch });
    assert.equal(await runMainChecked(["logs", RUN, "--follow", "--json"], env), 0);
    const docs = env.out().trim().split("\n").map((l) => JSON.parse(l));
    assert.deepEqual(docs.map((d) => d.event), ["status", "task", "line", "task", "line", "status", "result"]);
    assert.deepEqual(docs.filter((d) => d.event === "line").map((d) => [d.source, d.content, d.eol]), [["runner", "runner up", true], ["report/report", "[report] half line", true]]);
    assert.deepEqual([docs.at(-1).ok, docs.at(-1).result.status, docs.at(-1).polls], [true, "succeeded", 3]);
    assert.equal(env.err(), "");
  });

  it("--json of a failed run: the failure document (event result, run_failed) is the last line, exit 1", async () => {
    const env = fakeEnv({ vars, fetch: followedRun("failed").fetch });
    assert.equal(await runMainChecked(["logs", RUN, "--follow", "--json"], env), 1);
    const last = JSON.parse(env.out().trim().split("\n").at(-1)!);
    assert.deepEqual([last.ok, last.event, last.result.status, last.error.code], [false, "result", "failed", "run_failed"]);
    assert.deepEqual(last.failures, [FAILURE]);
    assert.deepEqual(last.running, []);
  });

  it("--wait-ms bounds it: exit 3, the partial line flushed, a hint to resume", async () => {
    const mock = new HttpMock().register(watch, hostAnswer(watchAnswer(RUN, { pipelineRun: `e2e-${RUN}`, chunks: [{ path: "runner.log", offset: 0, data: "no newline yet" }] })));
    const env = fakeEnv({ vars, fetch: mock.fetch });
    assert.equal(await runMainChecked(["logs", RUN, "--follow", "--wait-ms", "0"], env), 3);
    mock.verify();
    assert.equal(env.out(), "[runner] no newline yet\n");
    assert.match(env.err(), /^error: gave up following after 0s; run \S+ was not cancelled and goes on\nhint: resume following with: unidesk-ci logs \S+ --follow\n/m);
  });

  it("Ctrl-C stops the following, not the run: exit 130 with a hint to resume (and --json's last line says so)", async () => {
    for (const json of [false, true]) {
      const controller = new AbortController();
      const mock = new HttpMock().register(watch, hostAnswer(watchAnswer(RUN, { pipelineRun: `e2e-${RUN}`, chunks: [{ path: "runner.log", offset: 0, data: "a\n" }] }))).register(watch, after(() => controller.abort(new Error("SIGINT")), hostAnswer(watchAnswer(RUN))));
      const env = fakeEnv({ vars, fetch: mock.fetch, signal: controller.signal });
      assert.equal(await runMainChecked(["logs", RUN, "--follow", ...(json ? ["--json"] : [])], env), 130);
      if (json) assert.deepEqual(JSON.parse(env.out().trim().split("\n").at(-1)!).error.code, "interrupted");
      else assert.match(env.err(), /stopped following run \S+, which goes on on the host\nhint: resume following with: unidesk-ci logs \S+ --follow/);
    }
  });

  it("an unknown run id: exit 2 after one answer, like logs", async () => {
    const mock = new HttpMock().register(watch, hostAnswer(`unidesk-ci-watch\t1\nrunid\t${RUN}\nrun\tabsent\nend\t0\t0\t0\n`));
    const env = fakeEnv({ vars, fetch: mock.fetch });
    assert.equal(await runMainChecked(["logs", RUN, "--follow"], env), 2);
    mock.verify();
    assert.match(env.err(), /^error: no run \S+ on D601/);
  });
});

describe("logs --file", () => {
  const logsAnswer = (files: [string, string][]) =>
    hostAnswer([`unidesk-ci-logs\t1`, `runid\t${RUN}`, `caps\t${LOGS_CAP_MAX_BYTES}\t${LOGS_CAP_MAX_BYTES}\t200`, "run\tpresent", "liveness\tlive\tlauncher.pid 1 runs it", "result\t-\t0", ...files.map(([p, c]) => `file\t${b64(p)}\t${c.length}\tb64:${b64(c)}`), "omitted\t0\texact", `end\t${files.length}\t0`, ""].join("\n"));

  it("prints one file whole, asking the reader for that file only", async () => {
    const mock = new HttpMock().register(dispatchOf("logs"), logsAnswer([["taskruns.json", '{"items": []}\n']]));
    const env = fakeEnv({ vars, fetch: mock.fetch });
    assert.equal(await runMainChecked(["logs", RUN, "--file", "taskruns.json"], env), 0);
    mock.verify();
    assert.equal(env.out(), '{"items": []}\n');
    assert.match(JSON.parse(mock.requests[0]!.body).command, /^UCI_ONLY='taskruns\.json'$/m);
  });

  it("a file the run does not have: exit 2; a name outside the run dir: exit 2, nothing dispatched", async () => {
    const mock = new HttpMock().register(dispatchOf("logs"), logsAnswer([]));
    const env = fakeEnv({ vars, fetch: mock.fetch });
    assert.equal(await runMainChecked(["logs", RUN, "--file", "nope.json"], env), 2);
    assert.match(env.err(), /^error: run \S+ has no file nope\.json$/m);
    mock.verify();
    for (const name of ["../../etc/passwd", "/etc/passwd", "pods/../x"]) {
      const none = new HttpMock();
      const e = fakeEnv({ vars, fetch: none.fetch });
      assert.equal(await runMainChecked(["logs", RUN, "--file", name], e), 2);
      assert.match(e.err(), /is not a file of a run directory/);
      none.verify();
    }
  });

  it("bad combinations are usage errors (exit 2)", async () => {
    for (const args of [["--file", "x", "--follow"], ["--wait-ms", "10"], ["--follow", "--dry-run"]]) {
      const e = fakeEnv({ vars, fetch: new HttpMock().fetch });
      assert.equal(await runMainChecked(["logs", RUN, ...args], e), 2, args.join(" "));
    }
  });
});
