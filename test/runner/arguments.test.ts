import assert from "node:assert/strict";
import { mkdir, symlink } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { execFileSync } from "node:child_process";
import { hasFile, newTestRunId, prepareRun, readResult, runnerEnv, runRunner, SHA, startWorld, testManifest, type World } from "./harness.ts";

/** Replaces the value of `flag` (or removes flag and value when `value` is undefined). */
function withArg(args: string[], flag: string, value: string | undefined): string[] {
  const i = args.indexOf(flag);
  const out = [...args];
  if (value === undefined) out.splice(i, 2);
  else out[i + 1] = value;
  return out;
}

describe("dev-e2e.sh: arguments, environment and deploy.json", () => {
  let world: World;
  before(async () => {
    world = await startWorld();
  });
  after(() => world.close());

  it("--help prints the contract and exits 0", async () => {
    const exit = await runRunner(["--help"], runnerEnv(world));
    assert.equal(exit.code, 0);
    assert.match(exit.stdout, /usage: dev-e2e\.sh --run-id <runId> --repo-url/);
  });

  const flags = ["--run-id", "--repo-url", "--desired-ref", "--manifest-commit", "--manifest-file", "--environment", "--result-dir", "--timeout-ms"];
  for (const flag of flags) {
    it(`refuses a missing ${flag} (exit 2, names it, touches nothing)`, async () => {
      const inv = await prepareRun(world, newTestRunId("miss"));
      const exit = await runRunner(withArg(inv.args, flag, undefined), runnerEnv(world));
      assert.equal(exit.code, 2, exit.stderr);
      assert.match(exit.stderr, new RegExp(`missing required argument ${flag}\\b`));
      assert.ok(!hasFile(inv.resultDir, "result.json") && !hasFile(inv.resultDir, "runner.log"));
    });
  }

  const bad: [string, string, RegExp][] = [
    ["--run-id", "Bad_ID", /--run-id 'Bad_ID' must be a DNS label/],
    ["--run-id", `r${"x".repeat(40)}`, /--run-id 'rx+' must be a DNS label of at most 40/],
    ["--run-id", "-leading", /--run-id '-leading' must be a DNS label/],
    ["--repo-url", "http://github.com/pikasTech/unidesk", /--repo-url .* must be an https:\/\/ git URL/],
    ["--repo-url", "https://github.com/x;rm -rf", /--repo-url .* must be an https:\/\/ git URL/],
    ["--desired-ref", "main", /--desired-ref 'main' must be master/],
    ["--manifest-commit", "abc1234", /--manifest-commit 'abc1234' must be a full 40-character/],
    ["--manifest-commit", SHA.toUpperCase(), /--manifest-commit .* must be a full 40-character lowercase/],
    ["--manifest-file", "deploy.json", /--manifest-file 'deploy.json' must be an absolute path/],
    ["--manifest-file", "/nonexistent/deploy.json", /--manifest-file '\/nonexistent\/deploy.json' is not a readable file/],
    ["--environment", "prod", /--environment 'prod' must be dev/],
    ["--result-dir", "runs/x", /--result-dir 'runs\/x' must be an absolute path/],
    ["--result-dir", "/tmp/../etc/x", /--result-dir .* without '\.\.'/],
    ["--result-dir", "/tmp/not-the-run", /--result-dir '\/tmp\/not-the-run' must end with the run id/],
    ["--timeout-ms", "0", /--timeout-ms '0' must be an integer between 60000 and 21600000/],
    ["--timeout-ms", "59999", /--timeout-ms '59999' must be an integer/],
    ["--timeout-ms", "21600001", /--timeout-ms '21600001' must be an integer/],
    ["--timeout-ms", "10m", /--timeout-ms '10m' must be an integer/],
  ];
  for (const [flag, value, expected] of bad) {
    it(`refuses ${flag} ${JSON.stringify(value)}`, async () => {
      const inv = await prepareRun(world, newTestRunId("bad"));
      const exit = await runRunner(withArg(inv.args, flag, value), runnerEnv(world));
      assert.equal(exit.code, 2, exit.stderr);
      assert.match(exit.stderr, expected);
      assert.match(exit.stderr, /nothing was started/);
      assert.ok(!hasFile(inv.resultDir, "result.json"));
    });
  }

  it("refuses unknown, repeated and value-less arguments, reporting every problem at once", async () => {
    const inv = await prepareRun(world, newTestRunId("many"));
    const exit = await runRunner([...inv.args, "--force", "--run-id", "other", "--timeout-ms"], runnerEnv(world));
    assert.equal(exit.code, 2);
    assert.match(exit.stderr, /unknown argument: --force/);
    assert.match(exit.stderr, /--run-id is given more than once/);
    assert.match(exit.stderr, /--timeout-ms needs a value/);
  });

  it("refuses a bad UNIDESK_CI_RUNNER_POLL_MS", async () => {
    const inv = await prepareRun(world, newTestRunId("poll"));
    const exit = await runRunner(inv.args, runnerEnv(world, { UNIDESK_CI_RUNNER_POLL_MS: "fast" }));
    assert.equal(exit.code, 2);
    assert.match(exit.stderr, /UNIDESK_CI_RUNNER_POLL_MS 'fast' must be an integer/);
  });

  const manifests: [string, string | object, RegExp][] = [
    ["not JSON", "{ schemaVersion: 2", /deploy\.json is not valid JSON/],
    ["an array", [], /deploy\.json must be a JSON object/],
    ["schemaVersion 1", { ...testManifest(), schemaVersion: 1 }, /schemaVersion must be 2/],
    ["no dev environment", { schemaVersion: 2, environments: { prod: {} } }, /environments\.dev is missing/],
    ["services not an array", { schemaVersion: 2, environments: { dev: { ci: {}, services: {} } } }, /services must be an array/],
    ["a short commit", testManifest([{ id: "backend-core", repo: "https://github.com/x/y", commitId: "abc1234" }]), /services\[0\]\.commitId must be a full 40-character commit SHA/],
    ["a bad service id", testManifest([{ id: "Backend Core", repo: "https://github.com/x/y", commitId: "a".repeat(40) }]), /services\[0\]\.id must be lowercase/],
    ["a service id with a newline", testManifest([{ id: "a\nb", repo: "https://github.com/x/y", commitId: "a".repeat(40) }]), /services\[0\]\.id must be lowercase/],
    ["a commit with a trailing newline", testManifest([{ id: "a", repo: "https://github.com/x/y", commitId: `${"a".repeat(40)}\n` }]), /services\[0\]\.commitId must be a full 40-character/],
    ["a service without repo", testManifest([{ id: "a", commitId: "a".repeat(40) }]), /services\[0\]\.repo must be an https:\/\/ git URL/],
    ["a service that is not an object", testManifest(["backend-core"] as unknown as object[]), /services\[0\] must be an object/],
    ["duplicate ids", testManifest([{ id: "a", repo: "https://github.com/x/y", commitId: "a".repeat(40) }, { id: "a", repo: "https://github.com/x/y", commitId: "b".repeat(40) }]), /services\[1\]\.id duplicates environments\.dev\.services\[0\]\.id 'a'; ids must be unique/],
  ];
  for (const [name, manifest, expected] of manifests) {
    it(`deploy.json with ${name}: status error, reason names it, no cluster write`, async () => {
      const runId = newTestRunId("manifest");
      const inv = await prepareRun(world, runId, { manifest });
      const writesBefore = world.kube.writes().length;
      const exit = await runRunner(inv.args, runnerEnv(world));
      assert.equal(exit.code, 3, exit.stderr);
      const result = await readResult(inv.resultDir);
      assert.equal(result.status, "error");
      assert.match(result.reason ?? "", expected);
      assert.equal(result.pipelineRun, null);
      assert.equal(world.kube.writes().length, writesBefore);
    });
  }

  it("a missing tool (kubectl) is named in result.json", async () => {
    const bin = join(world.dir, "bin-without-kubectl");
    await mkdir(bin, { recursive: true });
    for (const tool of ["bash", "git", "jq", "date", "od", "tr", "mktemp", "sed", "grep", "tail", "head", "mkdir", "mv", "rm", "wc", "paste", "sleep", "cat"]) {
      const path = execFileSync("bash", ["-c", `command -v ${tool}`], { encoding: "utf8" }).trim();
      await symlink(path, join(bin, tool));
    }
    const inv = await prepareRun(world, newTestRunId("tools"));
    const exit = await runRunner(inv.args, { ...runnerEnv(world), PATH: bin });
    assert.equal(exit.code, 3, exit.stderr);
    const result = await readResult(inv.resultDir);
    assert.equal(result.status, "error");
    assert.equal(result.reason, "required tool(s) not found on PATH: kubectl");
  });
});
