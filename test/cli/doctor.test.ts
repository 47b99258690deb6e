import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fakeEnv } from "../../src/env.ts";
import { AuthError, CheckFailedError, ConfigError, DispatchError } from "../../src/errors.ts";
import { reportError, runCli } from "../../src/cli/program.ts";
import { HttpMock, REST, hostAnswer, jsonResponse } from "../http-mock.ts";
import { checkJsonRun } from "../io/json-check.ts";
import { PROBE_CHECK_IDS } from "../../src/host/doctor-probe.ts";
import { createGitFixture, goodManifest, type GitFixture } from "../manifest/git-fixture.ts";

const TOKEN = "tok-doctor-7f3a";

/** A probe answer: every check passing unless `states` says otherwise (id → [state, reason]). */
function probeAnswer(states: Record<string, [string, string]> = {}): string {
  const lines = PROBE_CHECK_IDS.map((id) => {
    const [state, reason] = states[id] ?? ["pass", "-"];
    return `check\t${id}\t${state}\t${reason}\tb64:${btoa(`${id} ${state}`)}`;
  });
  return ["motd from a login shell", "unidesk-ci-doctor\t1", ...lines, "end", ""].join("\n");
}

/** A backend on the httpmock registry answering each dispatch from `answers` in turn (a status and a body, or a probe stdout). */
function backend(...answers: (string | { status: number; body: unknown })[]) {
  const commands: string[] = [];
  const mock = new HttpMock().registerEvery(REST("POST", "/api/dispatch"), (req) => {
    commands.push((JSON.parse(req.body) as { command: string }).command);
    const next = answers.shift() ?? probeAnswer();
    if (typeof next === "string") return hostAnswer(next)(req);
    return jsonResponse(next.status, next.body)(req);
  });
  return { fetch: mock.fetch, commands };
}

describe("doctor, in process", () => {
  let fx: GitFixture;
  before(async () => {
    fx = await createGitFixture();
  });
  after(() => fx.cleanup());

  const vars = (extra: Record<string, string | undefined> = {}) => ({ HOME: fx.root, UNIDESK_BACKEND_URL: "https://backend.test", UNIDESK_TOKEN: TOKEN, UNIDESK_CI_RUNS_ROOT: "/srv/ci/runs", ...extra });
  const env = (b: ReturnType<typeof backend>, extra: Record<string, string | undefined> = {}) => fakeEnv({ vars: vars(extra), fetch: b.fetch, spawn: fx.env().spawn, cwd: fx.operator });
  const json = (e: { out(): string }) => JSON.parse(e.out()) as { ok: boolean; checks: { id: string; ok: boolean; detail: string; hint?: string }[]; error?: Record<string, unknown> };
  const failedIds = (e: { out(): string }) => json(e).checks.filter((c) => !c.ok).map((c) => c.id);
  /** `doctor --json` as main.ts runs it: the error it threw (reported as the one document), checked against its schema. */
  const doctorJson = async (e: ReturnType<typeof env>): Promise<unknown> => {
    let error: unknown;
    let code = 0;
    try {
      await runCli(["doctor", "--json"], e);
    } catch (err) {
      error = err;
      code = reportError(err, e, true);
    }
    checkJsonRun(["doctor", "--json"], { code, stdout: e.out() });
    return error;
  };

  it("all green: the text report on stdout, the probing line on stderr, one dispatch carrying no token", async () => {
    const b = backend();
    const e = env(b);
    await runCli(["doctor"], e);
    assert.equal(e.err(), "probing D601 through https://backend.test…\n");
    assert.match(e.out(), /^ok {4}git-clone {2,}\S+ is a git work tree$/m);
    assert.match(e.out(), /^ok {4}manifest {2,}origin\/master:deploy\.json at [0-9a-f]{12} is valid: scripts\/ci\/dev-e2e\.sh, timeout 1800000 ms, 0 dev service\(s\)$/m);
    assert.match(e.out(), /^ok {4}token {2,}from UNIDESK_TOKEN$/m);
    assert.match(e.out(), /^ok {4}host\.tool\.jq {2,}tool\.jq pass$/m);
    assert.match(e.out(), /\n\n(\d+) checks: \1 ok, 0 failed\n$/);
    assert.equal(b.commands.length, 1);
    assert.ok(b.commands[0]!.includes("UCI_RUNS_ROOT='/srv/ci/runs'") && b.commands[0]!.includes("UCI_REPO='https://git.example.test/pikasTech/unidesk'"));
    assert.ok(!b.commands[0]!.includes(TOKEN) && !e.out().includes(TOKEN));
  });

  it("text mode: the laptop's lines and the probing line are out before the probe answers; then the rest, aligned, and the count", async () => {
    let seen: { out: string; err: string } | undefined;
    const e = env({ fetch: async () => ((seen = { out: e.out(), err: e.err() }), hostAnswer(probeAnswer())({} as never)), commands: [] });
    await runCli(["doctor"], e);
    assert.equal(seen?.err, "probing D601 through https://backend.test…\n");
    assert.deepEqual(seen.out.split("\n").slice(0, -1).map((l) => l.split(/ +/)[1]), ["git-clone", "origin-master", "manifest", "same-repository", "config", "backend-url", "token"]);
    assert.ok(e.out().startsWith(seen.out), "printed once, the rest appended");
    const lines = e.out().split("\n").filter((l) => /^ok {4}/.test(l));
    assert.equal(new Set(lines.map((l) => l.slice(6).search(/ \S/) + 1)).size, 1, "one column for the detail, before and after the probe");
    assert.match(e.out(), /\n\n(\d+) checks: \1 ok, 0 failed\n$/);
  });

  it("--json: nothing before the one document, nothing on stderr", async () => {
    let seen: string | undefined;
    const e = env({ fetch: async () => ((seen = e.out() + e.err()), hostAnswer(probeAnswer())({} as never)), commands: [] });
    assert.equal(await doctorJson(e), undefined);
    assert.equal(seen, "");
    assert.equal(e.err(), "");
  });

  it("--json: { ok, checks: [{ id, ok, detail }] } in the probe's order after the local ones", async () => {
    const e = env(backend());
    assert.equal(await doctorJson(e), undefined);
    const doc = json(e);
    assert.equal(doc.ok, true);
    assert.deepEqual(Object.keys(doc), ["ok", "checks"]);
    assert.deepEqual(doc.checks.map((c) => c.id), ["git-clone", "origin-master", "manifest", "same-repository", "config", "backend-url", "token", "dispatch", ...PROBE_CHECK_IDS.map((id) => `host.${id}`)]);
  });

  it("a failed host check: FAIL with its hint, exit 1 (CheckFailedError)", async () => {
    const e = env(backend(probeAnswer({ "tool.jq": ["fail", "missing"] })));
    await assert.rejects(runCli(["doctor"], e), (err: unknown) => err instanceof CheckFailedError && err.exitCode === 1 && !err.silent && /first host\.tool\.jq/.test(err.message));
    assert.match(e.out(), /^FAIL {2}host\.tool\.jq {2,}tool\.jq fail\n {6,}hint: install jq on D601 .*apt-get install -y jq/m);
    assert.match(e.out(), /checks: \d+ ok, 1 failed\n$/);
  });

  it("skipped host checks count as not checked, and only the failing one shows a hint", async () => {
    const e = env(backend(probeAnswer({ "kube-api": ["fail", "unreachable"], namespace: ["skip", "kube-api"] })));
    assert.ok((await doctorJson(e)) instanceof CheckFailedError);
    assert.deepEqual(failedIds(e), ["host.kube-api", "host.namespace"]);
    assert.equal(json(e).error?.["code"], "check_failed");
    assert.equal(json(e).error?.["exitCode"], 1);
  });

  const failures: [string, () => ReturnType<typeof backend>, Record<string, string | undefined>, (e: unknown) => boolean, number, string[]][] = [
    ["no backend URL: exit 4, nothing dispatched", () => backend(), { UNIDESK_BACKEND_URL: undefined }, (e) => e instanceof ConfigError, 0, ["backend-url"]],
    ["no token: exit 4, nothing dispatched", () => backend(), { UNIDESK_TOKEN: undefined }, (e) => e instanceof AuthError, 0, ["token"]],
    ["a bad runs root in the environment: config red, exit 4", () => backend(), { UNIDESK_CI_RUNS_ROOT: "relative/runs" }, (e) => e instanceof ConfigError, 0, ["config"]],
    ["the token rejected (401): exit 4, one call", () => backend({ status: 401, body: { ok: false, error: { code: "unauthorized", message: "no" } } }), {}, (e) => e instanceof AuthError, 1, ["dispatch"]],
    ["backend-core failing (503 twice): exit 5 after two calls", () => backend({ status: 503, body: {} }, { status: 503, body: {} }, { status: 503, body: {} }), {}, (e) => e instanceof DispatchError, 2, ["dispatch"]],
    ["a garbled probe answer: exit 5", () => backend("unidesk-ci-doctor\t1\ncheck\ttool.bash\tpass\t-\tb64:\nend\n"), {}, (e) => e instanceof DispatchError, 1, ["dispatch"]],
  ];
  for (const [name, make, extra, isError, calls, red] of failures) {
    it(name, async () => {
      const b = make();
      const e = env(b, extra);
      assert.ok(isError(await doctorJson(e)));
      assert.equal(b.commands.length, calls);
      const doc = json(e);
      assert.equal(doc.ok, false);
      const realFailures = doc.checks.filter((c) => !c.ok && !c.detail.startsWith("not checked")).map((c) => c.id);
      assert.deepEqual(realFailures, red);
      for (const c of doc.checks.filter((x) => !x.ok)) assert.ok(c.hint, `${c.id} has a hint`);
      assert.ok(!e.out().includes(TOKEN));
    });
  }

  it("a manifest naming another repository: same-repository red, the host still probed, exit 1", async () => {
    const other = await createGitFixture({ files: { "deploy.json": JSON.stringify(goodManifest({ repo: "https://git.example.test/someone/else" })), "scripts/ci/dev-e2e.sh": "#!/bin/bash\n" } });
    try {
      const b = backend();
      const e = fakeEnv({ vars: vars(), fetch: b.fetch, spawn: other.env().spawn, cwd: other.operator });
      assert.ok((await doctorJson(e)) instanceof CheckFailedError);
      assert.deepEqual(failedIds(e), ["same-repository"]);
      assert.match(json(e).checks.find((c) => c.id === "same-repository")!.hint!, /clone of environments\.dev\.ci\.repo/);
      assert.equal(b.commands.length, 1);
    } finally {
      await other.cleanup();
    }
  });

  it("a FIFO among .git/config's includes (git blocks on it): doctor still ends (ls-remote bounded too), git-clone red at its bound with the fix, the host probed", { timeout: 120_000 }, async () => {
    const other = await createGitFixture();
    try {
      const fifo = join(other.root, "config.fifo");
      execFileSync("mkfifo", [fifo]);
      execFileSync("git", ["-C", other.operator, "config", "include.path", fifo]);
      const b = backend();
      const e = fakeEnv({ vars: vars(), fetch: b.fetch, spawn: other.env().spawn, cwd: other.operator });
      assert.ok((await doctorJson(e)) instanceof CheckFailedError);
      const checks = json(e).checks;
      assert.match(checks.find((c) => c.id === "git-clone")!.detail, /git did not answer within 30000 ms reading this clone .*check \.git\/config and the files it includes/);
      assert.match(checks.find((c) => c.id === "origin-master")!.detail, /not checked: git-clone failed/);
      assert.equal(b.commands.length, 1);
    } finally {
      await other.cleanup();
    }
  });

  it("a local origin/master behind origin: still ok, and says a run reads origin's", async () => {
    const sha = await fx.push({ "README.md": "moved on\n" });
    const e = env(backend());
    await runCli(["doctor", "--json"], e);
    assert.match(json(e).checks.find((c) => c.id === "origin-master")!.detail, new RegExp(`origin's master is ${sha.slice(0, 12)}, the local origin/master [0-9a-f]{12} is behind`));
  });
});
