import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fakeEnv } from "../../src/env.ts";
import type { RunResult } from "../../src/host/result.ts";
import { waitForRun, type RunSnapshot, type WaitEnd, type WaitEvent } from "../../src/runs/wait.ts";

const testResult = (over: Partial<RunResult> = {}): RunResult => ({
  ok: true,
  status: "succeeded",
  runId: "dev-1",
  manifestCommit: "a".repeat(40),
  pipelineRun: "e2e-dev-1",
  temporaryNamespace: "unidesk-ci-dev-1",
  finishedAt: "2026-01-01T00:01:00Z",
  ...over,
});

/** Answers polls from a script, one snapshot per poll, repeating the last. */
function scripted(snapshots: RunSnapshot[]) {
  let i = 0;
  const poll = async () => snapshots[Math.min(i++, snapshots.length - 1)]!;
  return { poll, polls: () => i };
}

async function drain(gen: AsyncGenerator<WaitEvent, WaitEnd>) {
  const events: WaitEvent[] = [];
  for (;;) {
    const n = await gen.next();
    if (n.done) return { events, end: n.value };
    events.push(n.value);
  }
}

describe("waitForRun", () => {
  it("polls until result.json appears and reports each change once", async () => {
    const env = fakeEnv();
    const s = scripted([{ phase: "starting" }, { phase: "starting" }, { phase: "running", pipelineRun: "e2e-dev-1" }, { phase: "running", pipelineRun: "e2e-dev-1" }, { phase: "finished", result: testResult() }]);
    const { events, end } = await drain(waitForRun(s.poll, { timeoutMs: 600_000 }, env));
    assert.equal(end.kind, "finished");
    assert.equal(s.polls(), 5);
    assert.deepEqual(events.filter((e) => e.changed).map((e) => e.snapshot.phase), ["starting", "running", "finished"]);
  });

  it("backs off from 1 s by 1.5x up to 10 s", async () => {
    const env = fakeEnv();
    const s = scripted([{ phase: "running" }]);
    const { events } = await drain(waitForRun(s.poll, { timeoutMs: 60_000 }, env));
    const gaps = events.slice(1).map((e, i) => e.elapsedMs - events[i]!.elapsedMs);
    assert.deepEqual(gaps.slice(0, 7), [1000, 1500, 2250, 3375, 5063, 7595, 10000]);
    assert.ok(gaps.every((g) => g <= 10_000));
  });

  it("times out at the deadline with a last poll on it, and says where the run was", async () => {
    const env = fakeEnv();
    const s = scripted([{ phase: "running", pipelineRun: "e2e-dev-1" }]);
    const { events, end } = await drain(waitForRun(s.poll, { timeoutMs: 30_000 }, env));
    assert.equal(end.kind, "timeout");
    assert.equal(events.at(-1)!.elapsedMs, 30_000);
    if (end.kind === "timeout") assert.equal(end.last?.pipelineRun, "e2e-dev-1");
  });

  it("a run finishing on the last poll is seen as finished", async () => {
    const env = fakeEnv();
    const snapshots: RunSnapshot[] = [{ phase: "running" }, { phase: "running" }, { phase: "finished", result: testResult({ ok: false, status: "failed" }) }];
    const { end } = await drain(waitForRun(scripted(snapshots).poll, { timeoutMs: 2500 }, env));
    assert.equal(end.kind, "finished");
    if (end.kind === "finished") assert.equal(end.result.status, "failed");
  });

  for (const phase of ["corrupt", "mismatch", "lost"] as const) {
    it(`a ${phase} run ends the wait at that poll, without sleeping`, async () => {
      const env = fakeEnv();
      const s = scripted([{ phase: "running" }, { phase, problem: "result.json is not valid JSON" }, { phase: "finished", result: testResult() }]);
      const { end } = await drain(waitForRun(s.poll, { timeoutMs: 600_000 }, env));
      assert.deepEqual(end, { kind: phase, problem: "result.json is not valid JSON", elapsedMs: 1000, polls: 2 });
      assert.equal(s.polls(), 2);
    });
  }

  it("stops when the signal aborts", async () => {
    const controller = new AbortController();
    const env = fakeEnv({ signal: controller.signal });
    const gen = waitForRun(async () => (controller.abort(new Error("ctrl-c")), { phase: "running" }), { timeoutMs: 60_000 }, env);
    await gen.next();
    await assert.rejects(gen.next(), /ctrl-c/);
  });
});
