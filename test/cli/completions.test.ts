import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { dirname } from "node:path";
import { describe, it } from "node:test";
import { LINK, runProcess } from "../e2e/helpers.ts";

// The bash script, loaded into a real bash, completes through the built CLI on PATH.
describe("bash completion in a real bash", () => {
  const complete = async (line: string[]) => {
    const script = execFileSync(LINK, ["completions", "bash"], { encoding: "utf8" });
    const words = ["unidesk-ci", ...line].map((w) => `'${w}'`).join(" ");
    const program = `${script}\nCOMP_WORDS=(${words}); COMP_CWORD=${line.length}; _unidesk_ci_complete; printf '%s\\n' "\${COMPREPLY[@]}"`;
    const r = await runProcess(["bash", "-c", program], { env: { PATH: `${dirname(LINK)}:${process.env.PATH}` } });
    assert.equal(r.code, 0, r.stderr);
    return r.stdout.trim().split("\n");
  };

  it("completes commands", async () => {
    assert.deepEqual(await complete(["va"]), ["validate"]);
  });

  it("completes a command's flags", async () => {
    const got = await complete(["run-dev-e2e", "--k"]);
    assert.deepEqual(got, ["--keep-namespace"]);
  });

  it("passes shellcheck", () => {
    const script = execFileSync(LINK, ["completions", "bash"], { encoding: "utf8" });
    execFileSync("shellcheck", ["-s", "bash", "-"], { input: script });
  });
});
