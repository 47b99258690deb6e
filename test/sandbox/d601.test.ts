import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { until } from "../support/until.ts";

// Sleep lengths this test process alone uses: ps is machine-wide, and a second copy of the suite may run beside this one.
const BASE = 100_000 + (process.pid % 50_000) * 4;
const [S0, S1, S2, S3] = [BASE, BASE + 1, BASE + 2, BASE + 3];
import { execFile } from "./exec.ts";
import { findMarkedProcesses, startD601, type D601 } from "./d601.ts";
import { generateKeyPair, sshExec, SshExecError, type SshTarget } from "./ssh-exec.ts";

describe("D601 (ssh2 server running real bash)", () => {
  let root: string;
  let d601: D601;
  let target: SshTarget;
  const key = generateKeyPair("backend-core");

  before(async () => {
    root = await mkdtemp(join(tmpdir(), "sandbox-d601-test-"));
    d601 = await startD601({ home: join(root, "home"), authorizedKeys: [key.publicKey], caCertPath: "/sandbox/ca.crt" });
    target = { host: d601.host, port: d601.port, username: d601.username, privateKey: key.privateKey, hostKey: d601.hostPublicKey };
  });
  after(async () => {
    await d601?.stop();
    await rm(root, { recursive: true, force: true });
  });

  it("runs a command with bash in the sandbox home and returns stdout, stderr and the exit code", async () => {
    const r = await sshExec(target, 'echo "out $PWD"; echo err >&2; printf %s "$HOME" > home.txt; exit 7');
    assert.equal(r.exitCode, 7);
    assert.equal(r.stdout, `out ${d601.home}\n`);
    assert.equal(r.stderr, "err\n");
    assert.equal(await readFile(join(d601.home, "home.txt"), "utf8"), d601.home);
    assert.equal(d601.execs.at(-1)?.exitCode, 7);
  });

  it("gives commands a controlled environment: tools on PATH, KUBECONFIG, GIT_SSL_CAINFO, no proxy", async () => {
    const r = await sshExec(target, "command -v git jq kubectl >/dev/null && echo tools; env");
    assert.equal(r.exitCode, 0, r.stderr);
    assert.match(r.stdout, /^tools$/m);
    assert.match(r.stdout, /^GIT_SSL_CAINFO=\/sandbox\/ca\.crt$/m);
    assert.match(r.stdout, new RegExp(`^KUBECONFIG=${d601.home}/`, "m"));
    assert.doesNotMatch(r.stdout, /_proxy=/i);
    assert.match(r.stdout, /^USER=ubuntu$/m);
  });

  it("reports a death by signal", async () => {
    const r = await sshExec(target, "kill -KILL $$");
    assert.equal(r.exitCode, null);
    assert.equal(r.signal, "SIGKILL");
  });

  it("rejects unknown keys and wrong users", async () => {
    const other = generateKeyPair("intruder");
    await assert.rejects(sshExec({ ...target, privateKey: other.privateKey }, "true"), (e: unknown) => e instanceof SshExecError && e.kind === "connect");
    await assert.rejects(sshExec({ ...target, username: "root" }, "true"), (e: unknown) => e instanceof SshExecError && e.kind === "connect");
    assert.ok(d601.authAttempts.some((a) => !a.accepted && a.username === "root"));
  });

  it("returns at once when a detached child (setsid, fds redirected) keeps running", async () => {
    const r = await sshExec(target, `setsid bash -c 'sleep ${S0}' </dev/null >/dev/null 2>&1 & echo started`);
    assert.equal(r.exitCode, 0);
    assert.equal(r.stdout, "started\n");
    // It answered while the detached child still runs (a wait for it would take an hour).
    const procs = await d601.processes();
    assert.ok(procs.some((p) => p.cmdline === `sleep ${S0}`), JSON.stringify(procs));
  });

  it("stop() kills every process it started, detached ones included", async () => {
    await sshExec(target, `nohup setsid sleep ${S1} </dev/null >/dev/null 2>&1 & (trap '' TERM; setsid sleep ${S2} </dev/null >/dev/null 2>&1 &)`);
    const local = await startD601({ home: join(root, "home2"), authorizedKeys: [key.publicKey] });
    const t2 = { ...target, port: local.port, hostKey: local.hostPublicKey };
    await sshExec(t2, `setsid bash -c 'trap "" TERM; sleep ${S3}' </dev/null >/dev/null 2>&1 & echo ok`);
    // `echo ok` answers before the detached bash has started its sleep: stop() must meet the sleep itself.
    await until(`the detached sleep ${S3} running`, async () => (await local.processes()).some((p) => p.cmdline === `sleep ${S3}`));
    // A client that connects and never speaks SSH must not block stop().
    const silent = connect(local.port, "127.0.0.1");
    silent.on("error", () => {});
    await new Promise((r) => silent.once("connect", r));
    await local.stop();
    silent.destroy();
    assert.deepEqual(await local.processes(), []);
    const ps = await execFile("ps", ["-eo", "pid,stat,args"]);
    assert.doesNotMatch(ps.stdout, new RegExp(`sleep ${S3}`));
    // The first instance's processes are untouched by the second one's stop().
    assert.ok((await d601.processes()).some((p) => p.cmdline === `sleep ${S1}`));
    await d601.stop();
    assert.deepEqual(await findMarkedProcesses(d601.marker), []);
    const ps2 = await execFile("ps", ["-eo", "pid,stat,args"]);
    for (const s of [`sleep ${S0}`, `sleep ${S1}`, `sleep ${S2}`]) {
      assert.ok(!ps2.stdout.split("\n").some((l) => l.endsWith(s) && !/ Z/.test(l)), `${s} left running`);
    }
  });
});
