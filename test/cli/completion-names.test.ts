// `logs <runId> --file|--task <Tab>` in process: the names come from one logs-reader dispatch (the reader in real
// bash behind the httpmock backend); without a run id or a backend, or on any failure, nothing and exit 0.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fakeEnv } from "../../src/env.ts";
import { COMPLETION_DISPATCH_MS } from "../../src/cli/completions.ts";
import { backendError, HttpMock, REST } from "../http-mock.ts";
import { testProgress, testResult } from "../host/answers.ts";
import { fakeBackend, runMainChecked } from "./helpers.ts";

const TOKEN = "tok-complete-9b2f";
const RUN = "dev-20261127-162626-c0mp1e";
const POD = `pods/e2e-${RUN}-report-pod_step-report.log`;

describe("completion of a run's --file and --task names", () => {
  let dir: string;
  let runsRoot: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "unidesk-ci-complete-"));
    runsRoot = join(dir, "runs");
    const run = join(runsRoot, RUN);
    mkdirSync(join(run, "pods"), { recursive: true });
    writeFileSync(join(run, "result.json"), JSON.stringify(testResult(RUN)));
    writeFileSync(join(run, "progress.json"), JSON.stringify(testProgress(RUN, ["check-inputs", "deploy-dev", "report"], [["check-inputs", "True", "Succeeded"], ["deploy-dev", "True", "Succeeded"], ["report", "Unknown", "Running"]])));
    writeFileSync(join(run, "runner.log"), "runner up\n");
    writeFileSync(join(run, POD), "[report] hello\n");
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const base = () => ({ HOME: dir, UNIDESK_BACKEND_URL: "https://backend.test", UNIDESK_TOKEN: TOKEN, UNIDESK_CI_RUNS_ROOT: runsRoot });
  const complete = async (shell: string, words: string[], env: ReturnType<typeof fakeEnv>) => {
    assert.equal(await runMainChecked(["completions", shell, "--complete", "--", ...words], env), 0);
    return env.out();
  };
  const backendEnv = (backend: ReturnType<typeof fakeBackend>, extra: Record<string, string | undefined> = {}) =>
    fakeEnv({ vars: { ...base(), ...extra }, fetch: backend.fetch, cwd: dir });

  it("--file: every file of the run directory, from one read-only logs-reader dispatch of one attempt", async () => {
    const backend = fakeBackend({ token: TOKEN });
    const env = backendEnv(backend);
    const out = await complete("bash", ["logs", RUN, "--file", ""], env);
    assert.deepEqual(out.split("\n").filter(Boolean).sort(), [POD, "progress.json", "result.json", "runner.log"].sort());
    assert.deepEqual(backend.received.map((r) => r.kind), ["logs"]);
    assert.equal(env.err(), "");
    assert.ok(!out.includes(TOKEN));
  });

  it("--task: the pipeline's task names from progress.json, filtered by what is typed; @latest names the run", async () => {
    const backend = fakeBackend({ token: TOKEN });
    assert.equal(await complete("fish", ["logs", RUN, "--task", ""], backendEnv(backend)), "check-inputs\ndeploy-dev\nreport\n");
    assert.equal(await complete("bash", ["logs", "@latest", "--follow", "--task", "de"], backendEnv(backend)), "deploy-dev\n");
    assert.equal(await complete("zsh", ["logs", RUN, "--file", "pods/"], backendEnv(backend)), `${POD}\n`);
    assert.equal(backend.received.length, 3);
  });

  it("no dispatch without a run id on the line, for other flags, or with another command", async () => {
    const backend = fakeBackend({ token: TOKEN });
    for (const words of [["logs", "--file", ""], ["logs", RUN, "--wait-ms", ""], ["report", RUN, "--junit", ""], ["logs", "not a run id!", "--task", ""]]) {
      assert.equal(await complete("bash", words, backendEnv(backend)), "", words.join(" "));
    }
    assert.equal(backend.received.length, 0);
  });

  it("without a configured backend or token: nothing, exit 0, no dispatch, nothing on stderr", async () => {
    for (const extra of [{ UNIDESK_BACKEND_URL: undefined }, { UNIDESK_TOKEN: undefined }, { UNIDESK_CI_RUNS_ROOT: "relative/runs" }]) {
      const mock = new HttpMock();
      const env = fakeEnv({ vars: { ...base(), ...extra }, fetch: mock.fetch, cwd: dir });
      assert.equal(await complete("bash", ["logs", RUN, "--task", ""], env), "", JSON.stringify(extra));
      assert.equal(env.err(), "");
      assert.equal(mock.requests.length, 0);
    }
  });

  it("on a failure (backend error, unknown run, a malformed answer): nothing, exit 0, nothing on stderr, no retry", async () => {
    const failing = [backendError(503, "provider_unavailable", "D601 busy"), backendError(401, "unauthorized", "bad token"), () => Response.json({ ok: true, exitCode: 0, stdout: "garbage\n", stderr: "", durationMs: 1 })];
    for (const respond of failing) {
      const mock = new HttpMock().register(REST("POST", "/api/dispatch"), respond);
      const env = fakeEnv({ vars: base(), fetch: mock.fetch, cwd: dir });
      assert.equal(await complete("bash", ["logs", RUN, "--file", ""], env), "");
      assert.equal(env.err(), "");
      mock.verify();
    }
    const backend = fakeBackend({ token: TOKEN });
    assert.equal(await complete("bash", ["logs", "dev-20261127-162626-n0n3xx", "--file", ""], backendEnv(backend)), "");
  });

  it("gives the dispatch a 3 s budget: the request is aborted then, and nothing is printed", async () => {
    let seen: AbortSignal | undefined;
    const mock = new HttpMock().register(REST("POST", "/api/dispatch"), (req) => ((seen = req.signal), new Promise<never>(() => undefined)));
    const env = fakeEnv({ vars: base(), fetch: mock.fetch, cwd: dir });
    assert.equal(COMPLETION_DISPATCH_MS, 3000);
    // The request's own timer does not hold the event loop (a real request's socket does): this one stands in for it.
    const socket = setTimeout(() => undefined, 60_000);
    try {
      assert.equal(await complete("bash", ["logs", RUN, "--task", ""], env), "");
    } finally {
      clearTimeout(socket);
    }
    assert.equal(seen?.aborted, true);
    assert.equal(env.err(), "");
  });
});
