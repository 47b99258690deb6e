import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { GENERATED_RUN_ID, RUN_ID_MAX, checkRunId } from "../../src/rules.ts";
import { newRunId } from "../../src/runs/run-id.ts";

const NOW = new Date("2026-11-27T16:26:26.123Z");
// A DNS-1123 label, what Kubernetes demands of namespace names and label values.
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

describe("run ids", () => {
  it("have the documented form, UTC date and time first", () => {
    const id = newRunId(NOW);
    assert.match(id, GENERATED_RUN_ID);
    assert.ok(id.startsWith("dev-20261127-162626-"), id);
    assert.equal(checkRunId(id), undefined);
  });

  it("are unique for many ids made in the same millisecond", () => {
    const ids = new Set(Array.from({ length: 5000 }, () => newRunId(NOW)));
    assert.equal(ids.size, 5000);
  });

  it("are unique across parallel processes started in the same second", () => {
    const script = `import { newRunId } from "./src/runs/run-id.ts"; const d = new Date("2026-11-27T16:26:26Z"); for (let i = 0; i < 200; i++) console.log(newRunId(d));`;
    const runs = Array.from({ length: 4 }, () => execFileSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { encoding: "utf8" }));
    const all = runs.flatMap((out) => out.trim().split("\n"));
    assert.equal(all.length, 800);
    assert.equal(new Set(all).size, 800);
  });

  it("keep every derived name a DNS label of at most 63 characters, even at the longest accepted id", () => {
    // TaskRuns are named <PipelineRun>-<pipeline task>: take the task names from the reference Pipeline.
    const pipeline = readFileSync("scripts/ci/tekton/unidesk-dev-namespace-e2e.yaml", "utf8");
    const tasks = [...pipeline.slice(pipeline.indexOf("\n  tasks:")).matchAll(/^ {4}- name: (\S+)$/gm)].map((m) => m[1]!);
    assert.ok(tasks.length >= 1);
    for (const id of [newRunId(NOW), "a".repeat(RUN_ID_MAX), `x${"-".repeat(RUN_ID_MAX - 2)}y`]) {
      assert.equal(checkRunId(id), undefined, id);
      for (const derived of [`unidesk-ci-${id}`, `e2e-${id}`, ...tasks.map((t) => `e2e-${id}-${t}`)]) {
        assert.ok(derived.length <= 63, `${derived} is ${derived.length} long`);
        assert.match(derived, DNS_LABEL);
      }
    }
  });

  const bad: [string, RegExp][] = [
    ["", /empty/],
    ["a".repeat(RUN_ID_MAX + 1), /at most 40/],
    ["Dev-1", /lowercase/],
    ["-dev", /starting and ending/],
    ["dev-", /starting and ending/],
    ["dev_1", /lowercase letters, digits and '-'/],
    ["dev.1", /lowercase letters, digits and '-'/],
    ["dev 1", /lowercase/],
    ["dev;rm -rf /", /lowercase/],
    ["$(id)", /lowercase/],
    ["dév", /lowercase/],
  ];
  for (const [id, why] of bad) {
    it(`rejects ${JSON.stringify(id)}`, () => assert.match(checkRunId(id) ?? "accepted", why));
  }
});
