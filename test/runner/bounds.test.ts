import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import * as rules from "../../src/rules.ts";
import { paramOf } from "../kube/fake-tekton.ts";
import { assertClusterInvariants, newTestRunId, prepareRun, readResult, RUNNER, runnerEnv, runRunner, SHA, startWorld, testManifest, type World } from "./harness.ts";

const COPIES = ["RUN_ID_RE", "SHA_RE", "REPO_RE", "SERVICE_ID_RE", "TIMEOUT_MS_MIN", "TIMEOUT_MS_MAX", "MANIFEST_MAX_BYTES", "MANIFEST_MAX_DEPTH", "SERVICES_MAX", "SWEEP_GRACE_S", "FAILURES_MAX", "FAILURE_TAIL_LINES", "FAILURE_LINE_MAX_CHARS", "RESULT_MAX_BYTES"] as const;

/** The runner's `readonly NAME=value` rule copies, as bash evaluates them. */
function runnerCopies(): Record<(typeof COPIES)[number], string> {
  const lines = readFileSync(RUNNER, "utf8").split("\n").filter((l) => /^readonly [A-Z_]+=/.test(l) && !l.startsWith("readonly JQ_"));
  const out = execFileSync("bash", ["-c", `${lines.join("\n")}\nprintf '%s\\0' ${COPIES.map((c) => `"$${c}"`).join(" ")}`], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  const values = out.split("\0");
  return Object.fromEntries(COPIES.map((c, i) => [c, values[i]!])) as Record<(typeof COPIES)[number], string>;
}

/** `n` nested arrays: depth n by the runner's count (an object or array is one level, scalars none). */
function nested(n: number): unknown {
  let v: unknown = 0;
  for (let i = 0; i < n; i++) v = [v];
  return v;
}

/** `count` valid services; long ones have repo URLs that put their JSON far above one argv string's limit (128 KiB). */
function services(count: number, long = true): object[] {
  return Array.from({ length: count }, (_, i) => ({ id: `svc-${i}`, repo: `https://github.com/pikasTech/${long ? "r".repeat(1500) : "r"}${i}`, commitId: i.toString(16).padStart(40, "c") }));
}

describe("dev-e2e.sh: its rule copies are src/rules.ts", () => {
  it("RUN_ID_RE, SHA_RE, REPO_RE, SERVICE_ID_RE, timeout and manifest bounds, the young-dir grace, the failure bounds equal the TypeScript rules", () => {
    const copies = runnerCopies();
    assert.equal(new RegExp(copies.RUN_ID_RE).source, rules.RUN_ID.source);
    assert.equal(new RegExp(copies.SHA_RE).source, rules.FULL_SHA.source);
    assert.equal(new RegExp(copies.REPO_RE).source, rules.HTTPS_REPO.source);
    assert.equal(new RegExp(copies.SERVICE_ID_RE).source, rules.SERVICE_ID.source);
    assert.equal(Number(copies.TIMEOUT_MS_MIN), rules.TIMEOUT_MS_MIN);
    assert.equal(Number(copies.TIMEOUT_MS_MAX), rules.TIMEOUT_MS_MAX);
    assert.equal(Number(copies.MANIFEST_MAX_BYTES), rules.MANIFEST_MAX_BYTES);
    assert.equal(Number(copies.MANIFEST_MAX_DEPTH), rules.MANIFEST_MAX_DEPTH);
    assert.equal(Number(copies.SERVICES_MAX), rules.SERVICES_MAX);
    assert.equal(Number(copies.SWEEP_GRACE_S), rules.RUN_YOUNG_GRACE_S);
    assert.equal(Number(copies.FAILURES_MAX), rules.FAILURES_MAX);
    assert.equal(Number(copies.FAILURE_TAIL_LINES), rules.FAILURE_TAIL_LINES);
    assert.equal(Number(copies.FAILURE_LINE_MAX_CHARS), rules.FAILURE_LINE_MAX_CHARS);
    assert.equal(Number(copies.RESULT_MAX_BYTES), rules.RESULT_MAX_BYTES);
  });
});

describe("dev-e2e.sh: accepts what validate accepts, refuses beyond with the reason", () => {
  let world: World;
  before(async () => {
    world = await startWorld({ defaultOutcome: { kind: "succeed", delayMs: 100 } });
  });
  after(() => world.close());

  it("a manifest at every bound (SERVICES_MAX services, depth MANIFEST_MAX_DEPTH in an unread key, MANIFEST_MAX_BYTES) runs to success", async () => {
    const manifest = { ...testManifest(services(rules.SERVICES_MAX)), unread: { deep: nested(rules.MANIFEST_MAX_DEPTH - 2) }, padding: "" };
    const unpadded = Buffer.byteLength(JSON.stringify(manifest));
    manifest.padding = "p".repeat(rules.MANIFEST_MAX_BYTES - unpadded);
    const text = JSON.stringify(manifest);
    assert.equal(Buffer.byteLength(text), rules.MANIFEST_MAX_BYTES);
    const runId = newTestRunId("bounds");
    const inv = await prepareRun(world, runId, { manifest: text });
    const exit = await runRunner(inv.args, runnerEnv(world));
    assert.equal(exit.code, 0, exit.stderr);
    const result = await readResult(inv.resultDir);
    assert.equal(result.status, "succeeded");
    assert.equal(result.manifestCommit, SHA);
    const pr = world.kube.getObject("tekton.dev/v1", "pipelineruns", "unidesk-ci", `e2e-${runId}`)!;
    const devServices = paramOf(pr, "dev-services")!;
    assert.ok(devServices.length > 131_072, "the services param is longer than one argv string may be");
    assert.deepEqual(JSON.parse(devServices), services(rules.SERVICES_MAX));
    assert.equal(paramOf(pr, `service-svc-${rules.SERVICES_MAX - 1}-commit`), (rules.SERVICES_MAX - 1).toString(16).padStart(40, "c"));
    assertClusterInvariants(world, [runId]);
  });

  it("a container that logs more than POD_LOG_MAX_BYTES: its saved log stops at the bound, the cut said at its end and in runner.log; the run still succeeds", async () => {
    const runId = newTestRunId("chatty");
    const half = Buffer.alloc(rules.POD_LOG_MAX_BYTES / 2 + 4096, "a");
    world.kube.setOutcome(runId, { kind: "tasks", tasks: [{ name: "chatty", chunks: [half, half, "the end\n"], intervalMs: 10 }] });
    const inv = await prepareRun(world, runId);
    const exit = await runRunner(inv.args, runnerEnv(world));
    assert.equal(exit.code, 0, exit.stderr);
    assert.equal((await readResult(inv.resultDir)).status, "succeeded");
    const pods = readdirSync(join(inv.resultDir, "pods")).filter((f) => f.includes("step-chatty"));
    assert.equal(pods.length, 1, String(pods));
    const file = join(inv.resultDir, "pods", pods[0]!);
    const marker = `\n[unidesk-ci: log cut at ${rules.POD_LOG_MAX_BYTES} bytes (POD_LOG_MAX_BYTES)]\n`;
    assert.equal(statSync(file).size, rules.POD_LOG_MAX_BYTES + marker.length);
    const tail = readFileSync(file).subarray(-marker.length - 8).toString("latin1");
    assert.equal(tail, `aaaaaaaa${marker}`);
    assert.match(readFileSync(join(inv.resultDir, "runner.log"), "utf8"), new RegExp(`pods/${pods[0]!.replace(/[.]/g, "\\.")} was cut at ${rules.POD_LOG_MAX_BYTES} bytes`));
  });

  const beyond: { name: string; manifest: () => string; says: RegExp }[] = [
    { name: `SERVICES_MAX + 1 services`, manifest: () => JSON.stringify(testManifest(services(rules.SERVICES_MAX + 1))), says: new RegExp(`environments\\.dev\\.services has ${rules.SERVICES_MAX + 1} entries; at most ${rules.SERVICES_MAX} are accepted`) },
    { name: "2000 services", manifest: () => JSON.stringify(testManifest(services(2000, false))), says: /environments\.dev\.services has 2000 entries; at most 100/ },
    { name: "depth MANIFEST_MAX_DEPTH + 1 in an unread key", manifest: () => JSON.stringify({ ...testManifest(), unread: nested(rules.MANIFEST_MAX_DEPTH) }), says: new RegExp(`deploy\\.json nests ${rules.MANIFEST_MAX_DEPTH + 1} levels deep; at most ${rules.MANIFEST_MAX_DEPTH} are accepted`) },
    { name: "nesting 300 deep in an unread key", manifest: () => JSON.stringify({ ...testManifest(), unread: nested(300) }), says: /deploy\.json nests (301 levels deep|deeper than jq can parse); at most 64/ },
    { name: "MANIFEST_MAX_BYTES + 1 bytes", manifest: () => { const m = JSON.stringify({ ...testManifest(), padding: "" }); return m.replace('"padding":""', `"padding":"${"p".repeat(rules.MANIFEST_MAX_BYTES + 1 - Buffer.byteLength(m))}"`); }, says: new RegExp(`deploy\\.json is ${rules.MANIFEST_MAX_BYTES + 1} bytes; at most ${rules.MANIFEST_MAX_BYTES} are accepted`) },
  ];
  for (const c of beyond) {
    it(`${c.name}: status error naming the bound, no cluster write`, async () => {
      const runId = newTestRunId("beyond");
      const inv = await prepareRun(world, runId, { manifest: c.manifest() });
      const writesBefore = world.kube.writes().length;
      const exit = await runRunner(inv.args, runnerEnv(world));
      assert.equal(exit.code, 3, exit.stderr);
      const result = await readResult(inv.resultDir);
      assert.equal(result.status, "error");
      assert.match(result.reason ?? "", c.says);
      assert.doesNotMatch(result.reason ?? "", /Argument list too long/);
      assert.equal(result.pipelineRun, null);
      assert.equal(world.kube.writes().length, writesBefore);
    });
  }
});
