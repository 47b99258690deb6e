import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, it } from "node:test";
import { describeRun, drawPlan, drawRun, FAULT_KINDS, mulberry32 } from "./plan.ts";

describe("soak plan: the same seed draws the same runs", () => {
  it("mulberry32 is pinned (seed 1 starts 0.6270739405881613, as published): a change would redraw every soak", () => {
    const r = mulberry32(1);
    assert.deepEqual([r(), r(), r()].map((x) => Math.floor(x * 2 ** 32)), [2693262067, 11749833, 2265367787]);
  });

  it("the plan for a seed is identical across two draws, and differs for another seed", () => {
    const a = drawPlan(42, 50);
    assert.deepEqual(drawPlan(42, 50), a);
    const b = drawPlan(43, 50);
    assert.notDeepEqual(b, a);
    assert.ok(a.filter((p, i) => describeRun(p) === describeRun(b[i]!)).length < 5, "another seed draws other runs");
  });

  it("--only K replays run K as drawn inside the whole soak; a run does not depend on how many runs there are", () => {
    const all = drawPlan(7, 40);
    assert.deepEqual(drawPlan(7, 40, FAULT_KINDS, 17), [all[17]]);
    assert.deepEqual(drawPlan(7, 10), all.slice(0, 10));
  });

  it("draws every outcome, command and fault kind over a few hundred runs; --faults limits the kinds", () => {
    const plan = drawPlan(1, 400);
    assert.deepEqual(new Set(plan.map((p) => p.outcome.kind)), new Set(["succeed", "fail", "hang", "tasks"]));
    assert.equal(new Set(plan.map((p) => p.command)).size, 7);
    assert.deepEqual(new Set(plan.flatMap((p) => (p.fault ? [p.fault.kind] : []))), new Set(FAULT_KINDS));
    assert.ok(plan.some((p) => p.fault === null), "clean runs too (they sweep)");
    const only = drawPlan(1, 100, ["reboot", "kube-409"]);
    assert.deepEqual(new Set(only.flatMap((p) => (p.fault ? [p.fault.kind] : []))), new Set(["reboot", "kube-409"]));
    assert.deepEqual(drawRun(1, 3, ["reboot"]).outcome, drawRun(1, 3).outcome, "the fault list does not change the outcome drawn");
  });

  it("npm run soak -- --plan prints the plan without running anything, the same twice", () => {
    const run = () => spawnSync(process.execPath, ["--import", "tsx", "--import", "./test/text-loader.mjs", "test/soak/soak.ts", "--runs", "5", "--seed", "9", "--plan"], { encoding: "utf8" });
    const a = run();
    assert.equal(a.status, 0, a.stderr);
    assert.equal(a.stdout, drawPlan(9, 5).map((p) => `${describeRun(p)}\n`).join(""));
    assert.equal(run().stdout, a.stdout);
    const bad = spawnSync(process.execPath, ["--import", "tsx", "--import", "./test/text-loader.mjs", "test/soak/soak.ts", "--faults", "nope", "--plan"], { encoding: "utf8" });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /^soak: unknown fault kind nope; known: kill-launcher,/);
  });
});
