/** The soak's judge when retention pruned a run's dir before the judge looked (seed 4242, runs 95 and 244). */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import type { Sandbox } from "../sandbox/sandbox.ts";
import { documentedCode, lastResultOf, resultOf, type CliRecord } from "./soak.ts";

describe("soak seed 4242 runs 95/244: a result retention pruned is still the run's end", () => {
  const runsRoot = mkdtempSync(join(tmpdir(), "unidesk-soak-pruned-"));
  after(() => rmSync(runsRoot, { recursive: true, force: true }));
  const sb = { runsRoot } as Sandbox;
  const cli = (args: string[], code: number): CliRecord => ({ args, code, signal: null, stdout: "", stderr: "", startedAt: 0 });

  it("the result seen as the command ended judges it once the dir is gone; a dir still there is read afresh", () => {
    const id = "soak-39u-95";
    mkdirSync(join(runsRoot, id));
    writeFileSync(join(runsRoot, id, "result.json"), JSON.stringify({ status: "error", runId: id }));
    assert.equal(resultOf(sb, id)?.["status"], "error", "read as the CLI ended");
    // The runs beside it (SOAK_KEEP_RUNS = 6) finished later and pruned it.
    rmSync(join(runsRoot, id), { recursive: true });
    assert.equal(resultOf(sb, id), undefined);
    assert.equal(lastResultOf(sb, id)?.["status"], "error", "pruned: its end is the result seen");
    const status = String(lastResultOf(sb, id)?.["status"]);
    assert.deepEqual(documentedCode(cli(["run-dev-e2e", "--run-id", id, "--wait-ms", "100000", "--json"], 1), status, "pruned"), [1], "an error end: exit 1, not 3 for no end");
    assert.deepEqual(documentedCode(cli(["logs", id], 0), status, "pruned"), [0, 2], "logs found it or not, as it ran before or after the prune");
    // A dir that is there but has lost its result.json is not judged by an old read.
    mkdirSync(join(runsRoot, id));
    assert.equal(lastResultOf(sb, id), undefined);
  });

  it("a run never seen with a result stays without one", () => {
    assert.equal(lastResultOf(sb, "soak-39u-999"), undefined);
    assert.deepEqual(documentedCode(cli(["logs", "soak-39u-999"], 2), undefined, "never"), [2]);
    assert.deepEqual(documentedCode(cli(["run-dev-e2e", "--run-id", "soak-39u-999", "--wait-ms", "1", "--json"], 3), undefined, "never"), [3]);
  });
});
