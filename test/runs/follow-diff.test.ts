// The pure diff step of following (src/runs/follow-diff.ts) alone: the state before and a watch answer in; the
// state after, the events and the new log bytes out. No dispatch, no clock.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseWatchOutput, type WatchAnswer } from "../../src/host/watch-reader.ts";
import { followDiff, initialFollowState, type FollowEvent, type FollowState } from "../../src/runs/follow-diff.ts";
import { testProgress, testResult, watchAnswer } from "../host/answers.ts";

const RUN = "dev-20261127-162626-k3x9a2";
const PR = `e2e-${RUN}`;
const POD = `pods/e2e-${RUN}-check-inputs-pod_step-check-inputs.log`;
const progress = (runs: [string, string, string][], pr = "Unknown") => testProgress(RUN, ["check-inputs", "report"], runs, pr);
const answer = (opts: Parameters<typeof watchAnswer>[1]): WatchAnswer => parseWatchOutput(watchAnswer(RUN, opts), { runId: RUN });
const kinds = (events: FollowEvent[]) => events.map((e) => (e.type === "status" ? `status ${e.snapshot.phase}` : e.type === "task" ? `task ${e.task.task} ${e.task.state}` : e.type === "resolved" ? `resolved ${e.reference} ${e.runId}` : e.type));
const text = (chunks: { path: string; bytes: Uint8Array }[]) => chunks.map((c) => `${c.path}=${Buffer.from(c.bytes).toString()}`);

/** The steps of `answers` from the initial state, each with its events and chunks. */
function steps(answers: WatchAnswer[], runId = RUN) {
  let state: FollowState = initialFollowState(runId);
  return answers.map((a, i) => {
    const step = followDiff(state, a, 1000 * i);
    state = step.state;
    return step;
  });
}

describe("followDiff", () => {
  it("the first answer: its status, every task seen, its bytes; the offsets and version to send back", () => {
    const [s] = steps([answer({ pipelineRun: PR, progress: { version: "1:10:1", json: progress([["check-inputs", "Unknown", "Running"]]) }, chunks: [{ path: "runner.log", offset: 0, data: "up\nhal" }, { path: POD, offset: 0, data: "one\n" }] })]);
    assert.deepEqual(kinds(s!.events), ["status running", "task check-inputs running", "task report pending"]);
    assert.deepEqual(text(s!.chunks), ["runner.log=up\nhal", `${POD}=one\n`]);
    assert.deepEqual([...s!.state.offsets], [["runner.log", 6], [POD, 4]]);
    assert.equal(s!.state.version, "1:10:1");
    assert.equal(s!.news, true);
  });

  it("an answer with nothing new: no event, no chunk, no news; the state carried over", () => {
    const first = answer({ pipelineRun: PR, progress: { version: "1:10:1", json: progress([["check-inputs", "Unknown", "Running"]]) } });
    const same = answer({ pipelineRun: PR, progress: { version: "1:10:1" }, waitedMs: 35_000 });
    const [a, b] = steps([first, same]);
    assert.deepEqual(b!.events, []);
    assert.deepEqual(b!.chunks, []);
    assert.equal(b!.news, false);
    assert.deepEqual(b!.state.tasks, a!.state.tasks);
    assert.equal(b!.state.version, "1:10:1", "an unchanged progress.json keeps the version");
  });

  it("only the tasks that changed, and a finished run's status after its task changes", () => {
    const answers = [
      answer({ pipelineRun: PR, progress: { version: "1:1:1", json: progress([["check-inputs", "Unknown", "Running"]]) } }),
      answer({ pipelineRun: PR, progress: { version: "1:2:1", json: progress([["check-inputs", "True", "Succeeded"], ["report", "Unknown", "Running"]]) } }),
      answer({ pipelineRun: PR, result: testResult(RUN), progress: { version: "1:3:1", json: progress([["check-inputs", "True", "Succeeded"], ["report", "True", "Succeeded"]], "True") } }),
    ];
    assert.deepEqual(steps(answers).map((s) => kinds(s.events)), [
      ["status running", "task check-inputs running", "task report pending"],
      ["task check-inputs succeeded", "task report running"],
      ["task report succeeded", "status finished"],
    ]);
  });

  it("a file shorter than its offset (replaced) goes on from its end; offsets advance by the bytes received", () => {
    const state = { ...initialFollowState(RUN), offsets: new Map([["runner.log", 500]]) };
    const s = followDiff(state, answer({ chunks: [{ path: "runner.log", offset: 500, data: "abc\n" }] }), 0);
    // The reader sends no bytes for a file shorter than asked (bytes null): the offset jumps to its size.
    const cut: WatchAnswer = { ...answer({}), chunks: [{ path: "runner.log", offset: 500, sizeBytes: 120, bytes: null } as WatchAnswer["chunks"][number]] };
    const t = followDiff(state, cut, 0);
    assert.deepEqual([...t.state.offsets], [["runner.log", 120]]);
    assert.deepEqual(t.chunks, []);
    assert.equal(s.state.offsets.get("runner.log"), 504);
    assert.equal(state.offsets.get("runner.log"), 500, "the state before is not changed");
  });

  it("a reference resolved: one resolved event, then the run asked for by its id", () => {
    const named: WatchAnswer = { ...answer({ pipelineRun: PR }), reference: "@latest" };
    const s = followDiff(initialFollowState("@latest"), named, 0);
    assert.deepEqual(kinds(s.events), [`resolved @latest ${RUN}`, "status running"]);
    assert.equal(s.state.runId, RUN);
  });

  it("remembers the changes since the last green run once an answer carried them", () => {
    const changes = { since: null, services: [], commits: null } as unknown as NonNullable<WatchAnswer["changes"]>;
    const [a, b] = steps([{ ...answer({}), changes }, answer({})]);
    assert.equal(a!.state.changes, changes);
    assert.equal(b!.state.changes, changes);
  });
});
