import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { newRunId } from "../../src/runs/run-id.ts";
import { execFile } from "./exec.ts";
import { launch } from "./launch.ts";
import { startSandbox, type Sandbox } from "./sandbox.ts";

async function allFiles(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const name of await readdir(dir)) {
    const p = join(dir, name);
    if ((await stat(p)).isDirectory()) out.push(...(await allFiles(p)));
    else out.push(p);
  }
  return out;
}

describe("startSandbox (placeholder runner)", () => {
  let sb: Sandbox;
  before(async () => {
    sb = await startSandbox({ runner: "placeholder" });
  });
  after(async () => {
    await sb?.stop();
  });

  it("wires the parts together: env, deploy.json, operator clone, KUBECONFIG", async () => {
    assert.equal(sb.env.UNIDESK_BACKEND_URL, sb.backendUrl);
    assert.equal(sb.env.UNIDESK_TOKEN, sb.token);
    assert.equal(sb.env.UNIDESK_CI_RUNS_ROOT, sb.runsRoot);
    assert.equal(sb.env.UNIDESK_CI_WORK_ROOT, sb.workRoot);
    assert.equal(sb.env.UNIDESK_CI_EGRESS_PROXY, sb.proxyUrl);
    assert.ok(sb.env.HOME!.startsWith(sb.root) && sb.env.XDG_CONFIG_HOME!.startsWith(sb.root));
    const manifest = JSON.parse(await readFile(join(sb.operatorRepoDir, "deploy.json"), "utf8"));
    assert.equal(manifest.environments.dev.ci.repo, sb.originUrl);
    assert.equal(manifest.environments.dev.ci.scriptPath, "scripts/ci/dev-e2e.sh");
    const env = sb.cliEnv();
    assert.ok(!Object.keys(env).some((k) => /^(https?|all|no)_proxy$/i.test(k)));
    const fetched = await execFile("git", ["fetch", "origin", "master"], { cwd: sb.operatorRepoDir, env, check: false });
    assert.equal(fetched.code, 0, fetched.stderr);
    assert.equal(sb.d601.commandEnv.KUBECONFIG, sb.kubeconfig);
    const kubectl = await execFile("kubectl", ["get", "namespaces", "-o", "name"], { env: { ...env, KUBECONFIG: sb.kubeconfig, HOME: sb.d601Home } });
    assert.match(kubectl.stdout, /namespace\/unidesk-dev/);
  });

  it("runs a real launcher on D601: fetch by sha through the proxy, runner, result.json", async () => {
    const runId = newRunId(new Date());
    const gitBefore = sb.git.requests.length;
    const r = await launch(sb, runId, sb.initialCommit);
    assert.equal(r.status, 200);
    assert.equal(r.body.exitCode, 0, r.body.stderr);
    assert.deepEqual(JSON.parse(r.body.stdout.trim().split("\n").at(-1)!), { runId, state: "started", resultDir: join(sb.runsRoot, runId) });
    const result = await sb.waitForResult(runId);
    assert.equal(result.status, "succeeded", JSON.stringify(result));
    assert.equal(result.manifestCommit, sb.initialCommit);

    const seen = sb.git.requests.slice(gitBefore);
    assert.ok(seen.length >= 2);
    const ports = sb.proxy.outboundPorts();
    for (const req of seen) assert.ok(ports.has(req.remotePort), `${req.method} ${req.url} bypassed the proxy`);
    assert.deepEqual(sb.requestsBypassingProxy(), []);
    assert.ok(sb.git.requests.some((q) => q.client === "operator"), "the operator clone's requests are labelled");
    assert.ok(sb.proxy.requests.some((p) => p.method === "CONNECT" && p.target === `127.0.0.1:${sb.git.port}`));

    const dup = await launch(sb, runId, sb.initialCommit);
    assert.equal(JSON.parse(dup.body.stdout.trim().split("\n").at(-1)!).state, "duplicate");

    await sb.d601.idle();
    for (const file of [...(await allFiles(sb.d601Home)), ...(await allFiles(sb.workRoot))]) {
      const text = await readFile(file, "latin1");
      assert.ok(!text.includes(sb.token), `token found in ${file}`);
    }
    assert.ok(!JSON.stringify(sb.backend.requests).includes(sb.token));
  });

  it("fails the run visibly when the egress proxy is down; the git server sees nothing", async () => {
    const sha = await sb.commit({ files: { "notes.txt": "second commit\n" } });
    const runId = newRunId(new Date());
    await sb.proxy.stop();
    try {
      const gitBefore = sb.git.requests.length;
      const r = await launch(sb, runId, sha);
      assert.equal(r.body.exitCode, 0, r.body.stderr);
      const result = await sb.waitForResult(runId);
      assert.equal(result.status, "error");
      assert.match(String(result.reason), /egress proxy/);
      assert.equal(sb.git.requests.length, gitBefore);
      assert.deepEqual(sb.requestsBypassingProxy(), []);
    } finally {
      await sb.proxy.start();
    }
  });

  it("stop() leaves no process running and removes the directory", async () => {
    const other = await startSandbox({ runner: "placeholder", kube: false });
    // A sleep length this test process alone uses: ps is machine-wide, and a second copy of the suite may run beside it.
    const sleep = `sleep ${100_000 + (process.pid % 50_000) * 4}`;
    const r = await fetch(`${other.backendUrl}/api/dispatch`, {
      method: "POST",
      headers: { authorization: `Bearer ${other.token}` },
      body: JSON.stringify({ providerId: "D601", capability: "host.ssh", command: `setsid ${sleep} </dev/null >/dev/null 2>&1 & echo ok`, timeoutMs: 5000 }),
    });
    assert.equal(((await r.json()) as { stdout: string }).stdout, "ok\n");
    assert.equal((await other.d601.processes()).length, 1);
    await other.stop();
    assert.deepEqual(await other.d601.processes(), []);
    const ps = await execFile("ps", ["-eo", "stat,args"]);
    assert.ok(!ps.stdout.split("\n").some((l) => l.endsWith(sleep) && !l.startsWith("Z")), ps.stdout);
    assert.equal(existsSync(other.root), false);
    await assert.rejects(fetch(`${other.backendUrl}/api/dispatch`, { method: "POST" }));
  });
});
