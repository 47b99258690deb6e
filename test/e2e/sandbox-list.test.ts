import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { isAlive } from "../host/helpers.ts";
import { until, RUN_END_WAIT_MS } from "../support/until.ts";
import { cli, cliCounted, dispatchKinds, jsonOf, show, withE2e } from "./sandbox-helpers.ts";

/** `runs` through the whole sandbox: the built bundle, backend-core, D601 over SSH, the real runner and launcher. */
describe("e2e: runs", () => {
  it("lists succeeded, failed and killed runs newest first in one read-only dispatch", () =>
    withE2e(async (e2e) => {
      const { sb } = e2e;
      const ok = await cli(e2e, ["run-dev-e2e", "--run-id", "e2e-runs-ok", "--wait-ms", RUN_END_WAIT_MS]);
      assert.equal(ok.code, 0, show(ok));
      sb.kube!.setOutcome("e2e-runs-failed", { kind: "fail", message: "e2e assertion failed" });
      const failed = await cli(e2e, ["run-dev-e2e", "--run-id", "e2e-runs-failed", "--wait-ms", RUN_END_WAIT_MS]);
      assert.equal(failed.code, 1, show(failed));

      // Killed: the process groups of the launcher and the runner (with its log streams) get SIGKILL mid-run.
      const killed = "e2e-runs-killed";
      sb.kube!.setOutcome(killed, { kind: "hang" });
      const submitted = await cli(e2e, ["run-dev-e2e", "--run-id", killed]);
      assert.equal(submitted.code, 0, show(submitted));
      const dir = join(sb.runsRoot, killed);
      await until("the runner's PipelineRun and progress", () => existsSync(join(dir, "pipelinerun.txt")) && existsSync(join(dir, "progress.json")));
      const pids = ["launcher.pid", "runner.pid"].map((f) => Number(readFileSync(join(dir, f), "utf8").trim()));
      for (const pid of pids) {
        const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
        const pgid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[2]);
        for (const target of [-pgid, pid]) {
          try {
            process.kill(target, "SIGKILL");
          } catch {
            // already gone
          }
        }
      }
      await until("the killed run's processes to be gone", () => pids.every((p) => !isAlive(p)));

      const from = sb.backend.requests.length;
      const listed = await cliCounted(e2e, ["runs", "--json"]);
      assert.equal(listed.code, 0, show(listed));
      assert.equal(listed.calls, 1);
      assert.deepEqual(dispatchKinds(sb, from), ["runs"], "one dispatch, of the lister");
      assert.match(String((sb.backend.requests[from]!.body as { command: string }).command), /unidesk-ci-runs/);
      const doc = jsonOf(listed);
      assert.equal(doc.ok, true);
      assert.equal(doc.total, 3);
      const okResult = await sb.waitForResult("e2e-runs-ok");
      assert.deepEqual(
        doc.runs.map((r: Record<string, unknown>) => [r["runId"], r["status"], r["manifestCommit"], r["pipelineRun"]]),
        [
          [killed, "lost", okResult["manifestCommit"], `e2e-${killed}`],
          ["e2e-runs-failed", "failed", okResult["manifestCommit"], "e2e-e2e-runs-failed"],
          ["e2e-runs-ok", "succeeded", okResult["manifestCommit"], "e2e-e2e-runs-ok"],
        ],
      );
      assert.equal(doc.runs[2].durationMs, okResult["durationMs"]);
      assert.equal(doc.runs[0].durationMs, null);

      const text = await cli(e2e, ["runs"]);
      assert.equal(text.code, 0, show(text));
      const lines = text.stdout.trimEnd().split("\n");
      assert.match(lines[0]!, /^RUN ID\s+STATUS\s+STARTED\s+DURATION\s+COMMIT\s+PIPELINERUN\s+CHANGED$/);
      assert.match(lines[1]!, new RegExp(`^${killed}\\s+lost\\s+\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\dZ\\s+-\\s+[0-9a-f]{12}\\s+e2e-${killed}\\s+-$`));
      assert.match(lines[3]!, /^e2e-runs-ok\s+succeeded\s+/);
      const limited = jsonOf(await cli(e2e, ["runs", "--limit", "2", "--json"]));
      assert.deepEqual([limited.runs.length, limited.total], [2, 3]);
      const bad = await cliCounted(e2e, ["runs", "--limit", "501"]);
      assert.deepEqual([bad.code, bad.calls], [2, 0], show(bad));

      // What the runner's start-of-run sweep does for a dead run, so the sandbox's end checks hold.
      sb.kube!.deleteObject("v1", "namespaces", undefined, `unidesk-ci-${killed}`);
      for (const pod of sb.kube!.listObjects("v1", "pods", "unidesk-ci", `unidesk.ci/run-id=${killed}`)) sb.kube!.deleteObject("v1", "pods", "unidesk-ci", pod.metadata.name);
      await writeFile(join(dir, "result.json"), JSON.stringify({ ok: false, status: "error", runId: killed, manifestCommit: okResult["manifestCommit"], pipelineRun: null, temporaryNamespace: null, finishedAt: new Date().toISOString(), writer: "test" }));
    }));
});
