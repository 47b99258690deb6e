// The answer stream of following (src/runs/answer-stream.ts) alone: an injected ask, a fixed clock reading and a
// pause that only records, so the retry rule is checked by the pauses asked for, not by time passing.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DispatchError } from "../../src/errors.ts";
import { parseWatchOutput, type WatchAnswer } from "../../src/host/watch-reader.ts";
import { AnswerStream, IDLE_MS, MAX_FAILED_POLLS, type AnswerSource } from "../../src/runs/answer-stream.ts";
import { watchAnswer } from "../host/answers.ts";

const RUN = "dev-20261127-162626-k3x9a2";
const ANSWER = parseWatchOutput(watchAnswer(RUN, {}), { runId: RUN });
const blip = () => new DispatchError("watch reader failed on D601 (exit 1)");

/** A stream over scripted outcomes (an answer, or an error to throw), recording each ask's wait and each pause. */
function scripted(outcomes: (WatchAnswer | Error)[], over: Partial<AnswerSource> = {}) {
  const asked: number[] = [];
  const paused: number[] = [];
  const source: AnswerSource = {
    ask: async (answerWaitMs) => {
      asked.push(answerWaitMs);
      const next = outcomes.shift();
      if (next === undefined) throw new Error("asked once too often");
      if (next instanceof Error) throw next;
      return next;
    },
    now: () => 0,
    pause: async (ms) => void paused.push(ms),
    deadline: Infinity,
    answerWaitMs: 35_000,
    ...over,
  };
  return { stream: new AnswerStream(source), asked, paused, outcomes };
}

describe("AnswerStream", () => {
  it("asks the first answer without a wait, later ones with answerWaitMs, counting answers", async () => {
    const s = scripted([ANSWER, ANSWER, ANSWER]);
    for (let i = 0; i < 3; i++) assert.equal((await s.stream.next())?.answer, ANSWER);
    assert.deepEqual(s.asked, [0, 35_000, 35_000]);
    assert.equal(s.stream.answers, 3);
    assert.deepEqual(s.paused, []);
  });

  it(`retries ${MAX_FAILED_POLLS} failed answers in a row with growing pauses, and answers with the wait it asked for`, async () => {
    const s = scripted([ANSWER, ...Array.from({ length: MAX_FAILED_POLLS }, blip), ANSWER]);
    await s.stream.next();
    const got = await s.stream.next();
    assert.equal(got?.answer, ANSWER);
    assert.equal(got?.answerWaitMs, 35_000);
    assert.deepEqual(s.paused, [1_000, 1_500, 2_250]);
    assert.equal(s.asked.length, 2 + MAX_FAILED_POLLS);
    assert.equal(s.stream.answers, 2, "failed answers are not counted");
  });

  it(`throws the failed answer ${MAX_FAILED_POLLS + 1} in a row; a success in between starts the count again`, async () => {
    const last = blip();
    const s = scripted([...Array.from({ length: MAX_FAILED_POLLS }, blip), ANSWER, ...Array.from({ length: MAX_FAILED_POLLS }, blip), last]);
    assert.equal((await s.stream.next())?.answer, ANSWER);
    await assert.rejects(s.stream.next(), (e) => e === last);
    assert.deepEqual(s.outcomes, []);
    assert.equal(s.paused.length, 2 * MAX_FAILED_POLLS, "no pause after the last one");
  });

  it("throws at once an error that is not a failed dispatch (a bug, Ctrl-C)", async () => {
    const bug = new TypeError("bug");
    const s = scripted([bug, ANSWER]);
    await assert.rejects(s.stream.next(), (e) => e === bug);
    assert.deepEqual(s.paused, []);
  });

  it("ends (null) when a failed answer comes at the deadline; a wait never reaches past it", async () => {
    let now = 0;
    const paused: number[] = [];
    // The pause after the first failure lasts until the deadline.
    const s = scripted([ANSWER, blip(), blip()], { now: () => now, deadline: 20_000, pause: async (ms) => void (paused.push(ms), (now = 20_000)) });
    await s.stream.next();
    now = 12_000;
    assert.equal(s.stream.nextWaitMs(), 8_000, "the wait ends on the deadline");
    assert.equal(await s.stream.next(), null);
    assert.deepEqual(s.asked, [0, 8_000, 0]);
    assert.deepEqual(paused, [1_000]);
    assert.deepEqual(s.outcomes, []);
  });

  it("idle pauses grow ×1.5 to the ceiling and never past the deadline; settle makes them short again", async () => {
    const s = scripted([], { now: () => 95_000, deadline: 100_000 });
    for (let i = 0; i < 8; i++) await s.stream.idle();
    s.stream.settle();
    await s.stream.idle();
    assert.deepEqual(s.paused, [1_000, 1_500, 2_250, 3_375, 5_000, 5_000, 5_000, 5_000, 1_000]);
    const unbounded = scripted([]);
    for (let i = 0; i < 8; i++) await unbounded.stream.idle();
    assert.deepEqual(unbounded.paused, [1_000, 1_500, 2_250, 3_375, 5_063, 7_595, IDLE_MS[1], IDLE_MS[1]]);
  });
});
