// The runner's generated regions (build/runner.ts) are what `npm run build` writes: a contributor who changes
// src/rules.ts or src/host/run-liveness.sh runs the build and commits scripts/ci/dev-e2e.sh with it.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { assembleRunner, RUNNER_PATH, RUNNER_RULES } from "../../build/runner.ts";
import runLiveness from "../../src/host/run-liveness.sh";
import * as rules from "../../src/rules.ts";

const committed = readFileSync(new URL(`../../${RUNNER_PATH}`, import.meta.url), "utf8");

describe("dev-e2e.sh is assembled from its parts", () => {
  it("the committed runner is the assembled one (run npm run build and commit scripts/ci/dev-e2e.sh)", () => {
    assert.equal(committed, assembleRunner(committed));
  });

  it("its liveness rule is the readers' include, not a copy by hand", () => {
    const region = /^# >>> generated from src\/host\/run-liveness\.sh \(npm run build\) >>>\n([\s\S]*?)^# <<< generated <<<$/m.exec(committed)?.[1] ?? "";
    const body = (text: string) => text.split("\n").filter((l) => l.startsWith("uci_pid_runs() {") || l.startsWith("  ")).join("\n");
    assert.ok(region.includes("uci_pid_runs() {"));
    assert.equal(body(region), body(runLiveness));
    assert.doesNotMatch(committed, /^pid_runs\(\)/m, "the hand-kept copy is gone");
  });

  it("its rules are src/rules.ts, as bash evaluates them", () => {
    const lines = committed.split("\n").filter((l) => /^readonly [A-Z_]+=/.test(l) && !l.startsWith("readonly JQ_")).join("\n");
    const out = spawnSync("bash", ["-c", `${lines}\nprintf '%s\\0' ${RUNNER_RULES.map(([n]) => `"$${n}"`).join(" ")}`], { encoding: "utf8" }).stdout.split("\0");
    RUNNER_RULES.forEach(([name, rule], i) => {
      const value = rules[rule];
      const read = value instanceof RegExp ? new RegExp(out[i]!).source : typeof value === "string" ? out[i] : Number(out[i]);
      assert.equal(read, value instanceof RegExp ? value.source : value, name);
    });
  });

  it("a region naming an unknown source, or a missing region, is a build error", () => {
    assert.throws(() => assembleRunner(committed.replace("generated from src/rules.ts", "generated from src/nope.ts")), /unknown source src\/nope\.ts/);
    assert.throws(() => assembleRunner("#!/usr/bin/env bash\n"), /expected \d+ generated regions, found 0/);
  });
});
