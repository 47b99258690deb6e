/**
 * The CI soak: a short soak with a FIXED seed (so CI stays deterministic in what it draws), on the sandbox of real
 * parts and the built bundle. Seed 269's first 20 runs draw no hang (a hang costs the run's 60 s timeout), every
 * command of the mix and 17 fault kinds. Long and random-seed soaks run outside CI: `npm run soak` (docs/soak.md).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { drawPlan } from "./plan.ts";
import { formatReport, soak } from "./soak.ts";

export const CI_SEED = 269;
export const CI_RUNS = 20;

describe("soak (fixed seed, CI)", () => {
  it(`seed ${CI_SEED}, ${CI_RUNS} runs, 2 at a time: every invariant holds after every run and in the final sweep`, { timeout: 14 * 60_000 }, async () => {
    const plan = drawPlan(CI_SEED, CI_RUNS);
    assert.ok(plan.every((p) => p.outcome.kind !== "hang"), "the CI seed draws no hang");
    const lines: string[] = [];
    const report = await soak({ runs: CI_RUNS, seed: CI_SEED, parallel: 2, log: (l) => lines.push(l) });
    const text = formatReport(report);
    assert.equal(report.runs.length, CI_RUNS);
    assert.ok(new Set(report.runs.flatMap((r) => r.faults.filter((f) => f.hit).map((f) => f.kind))).size >= 10, `at least 10 fault kinds hit:\n${text}`);
    assert.deepEqual(report.violations, [], `${lines.join("\n")}\n${text}`);
  });
});
