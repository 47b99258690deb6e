import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { chmod, chown, mkdir, readdir, symlink, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { DispatchError, UsageError } from "../../src/errors.ts";
import { ACCESS_CHECKS, PROBE_CHECK_IDS, parseDoctorProbeOutput, renderDoctorProbe, type DoctorProbeSettings } from "../../src/host/doctor-probe.ts";
import { hostHints } from "../../src/io/doctor-hints.ts";
import { DEFAULT_WORKSPACE } from "../../src/rules.ts";
import { assertGolden } from "../golden/golden.ts";
import { startFakeKube, type FakeKube } from "../kube/fake-api.ts";
import { bashSyntax, loggingShims, runBash, shellcheck, tempDir } from "./helpers.ts";

const base: DoctorProbeSettings = { ...DEFAULT_WORKSPACE, repo: "https://github.com/pikasTech/unidesk" };
const ctx = { providerId: "D601", ...DEFAULT_WORKSPACE };

/** The script without its comment lines. */
const code = (script: string) => script.split("\n").filter((l) => !l.trimStart().startsWith("#")).join("\n");

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

describe("rendered doctor probe", () => {
  const rendered = renderDoctorProbe(base);

  it("matches its golden file and passes bash -n and shellcheck (also without a repository)", async () => {
    await assertGolden("doctor-probe.sh", rendered);
    for (const script of [rendered, renderDoctorProbe({ ...base, repo: "" })]) {
      assert.deepEqual(bashSyntax(script), { code: 0, report: "" });
      const sc = shellcheck(script);
      assert.equal(sc.code, 0, sc.report);
      assert.doesNotMatch(script, /@@[A-Z_]+@@/);
    }
  });

  it("writes nothing: no redirection into a file, no rm/mv/mkdir/touch, no kubectl verb that changes the cluster", () => {
    const body = code(rendered).replace(/[12]?>\s*\/dev\/null/g, "").replace(/2>&1/g, "").replace(/\(\([^)]*\)\)/g, "");
    assert.doesNotMatch(body, /[^<]>\s*["$\w/]/);
    assert.doesNotMatch(body, /\b(rm|mv|mkdir|touch|cp|tee|ln|chmod|mktemp)\s/);
    // The one create is the access reviews', which the API server answers and stores nowhere: a list of nothing else.
    const creates = body.match(/uci_kubectl create\b.*/g) ?? [];
    assert.deepEqual(creates, ['uci_kubectl create --validate=false -f - -o "jsonpath=$UCI_REVIEW_TEMPLATE" <<<"$UCI_ACCESS_REVIEWS")']);
    const reviews = JSON.parse(/^UCI_ACCESS_REVIEWS='(.*)'$/m.exec(rendered)![1]!) as { kind: string; items: { kind: string }[] };
    assert.equal(reviews.kind, "List");
    assert.deepEqual([...new Set(reviews.items.map((i) => i.kind))], ["SelfSubjectAccessReview"]);
    assert.equal(reviews.items.length, ACCESS_CHECKS.length);
    // Each answer is found by its question's attributes: no two checks may ask the same question.
    const keys = /^UCI_ACCESS='([^']*)'$/m.exec(rendered)![1]!.split("\n").map((l) => l.split(" ")[1]);
    assert.equal(new Set(keys).size, ACCESS_CHECKS.length, keys.join("\n"));
    assert.doesNotMatch(body, /uci_kubectl (apply|delete|patch|replace|label|annotate|edit|scale)\b/);
    assert.doesNotMatch(body, /\bgit (fetch|clone|init|push|config)\b/);
  });

  const bad: [keyof DoctorProbeSettings, string][] = [
    ["runsRoot", "relative"],
    ["runsRoot", "/tmp/../etc"],
    ["workRoot", "/tmp/a b"],
    ["egressProxy", "https://127.0.0.1:1"],
    ["repo", "http://github.com/a/b"],
    ["repo", "https://github.com/a/b;id"],
  ];
  for (const [field, value] of bad) {
    it(`rejects ${field} = ${JSON.stringify(value)} naming the field`, () => {
      assert.throws(() => renderDoctorProbe({ ...base, [field]: value }), (e: unknown) => e instanceof UsageError && e.message.startsWith(`${field} `));
    });
  }
});

describe("the probe's answer", () => {
  const line = (id: string, state = "pass", reason = "-", detail = "fine") => `check\t${id}\t${state}\t${reason}\tb64:${btoa(detail)}`;
  const answer = (lines: string[]) => ["unidesk-ci-doctor\t1", ...lines, "end", ""].join("\n");
  const all = PROBE_CHECK_IDS.map((id) => line(id));

  it("becomes host checks in the probe's order, hints only on failures", () => {
    const checks = parseDoctorProbeOutput(answer(all.map((l, i) => (i === 0 ? line(PROBE_CHECK_IDS[0]!, "fail", "missing", "bash not found") : l))), hostHints(ctx));
    assert.deepEqual(checks.map((c) => c.id), PROBE_CHECK_IDS.map((id) => `host.${id}`));
    assert.deepEqual(checks[0], { id: "host.tool.bash", ok: false, detail: "bash not found", hint: "install bash on D601 for the dispatch user (apt-get install -y bash)" });
    assert.deepEqual(checks[1], { id: "host.tool.git", ok: true, detail: "fine" });
  });

  const garbled: [string, string][] = [
    ["no header", all.join("\n")],
    ["a missing check", answer(all.slice(1))],
    ["an unknown check", answer([...all, line("tool.rm")])],
    ["a bad state", answer([...all.slice(1), line(PROBE_CHECK_IDS[0]!, "maybe")])],
    ["bad base64", answer([...all.slice(1), `check\t${PROBE_CHECK_IDS[0]}\tpass\t-\tb64:!!`])],
    ["no end", `unidesk-ci-doctor\t1\n${all.join("\n")}\n`],
  ];
  for (const [name, stdout] of garbled) {
    it(`${name} is a malformed answer (exit 5)`, () => {
      assert.throws(() => parseDoctorProbeOutput(stdout, hostHints(ctx)), (e: unknown) => e instanceof DispatchError && e.exitCode === 5);
    });
  }
});

describe("the probe in real bash against the fake cluster", () => {
  let kube: FakeKube;
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let home: string;
  let kubeconfig: string;
  before(async () => {
    tmp = await tempDir("doctor-probe-");
    home = join(tmp.dir, "home");
    await mkdir(home);
    kube = await startFakeKube();
    kubeconfig = await kube.writeKubeconfig(join(tmp.dir, "kubeconfig"), "probe");
  });
  after(async () => {
    await kube.stop();
    await tmp.cleanup();
  });

  async function probe(settings: Partial<DoctorProbeSettings>, vars: Record<string, string> = {}) {
    const proxy = `http://127.0.0.1:${await closedPort()}`;
    const full = { runsRoot: join(tmp.dir, "runs"), workRoot: join(tmp.dir, "work", "unidesk-ci"), egressProxy: proxy, repo: base.repo, ...settings };
    const r = await runBash(renderDoctorProbe(full), { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, LANG: "C.UTF-8", KUBECONFIG: kubeconfig, ...vars });
    assert.equal(r.code, 0, r.stderr);
    return new Map(parseDoctorProbeOutput(r.stdout, hostHints({ ...ctx, ...full })).map((c) => [c.id, c]));
  }

  it("a healthy cluster, absent roots and a dead proxy: only the proxy red; nothing created, no write to the cluster", async () => {
    const checks = await probe({});
    assert.deepEqual([...checks.values()].filter((c) => !c.ok).map((c) => c.id), ["host.egress-proxy"]);
    assert.match(checks.get("host.egress-proxy")!.detail, /refuses connections/);
    assert.match(checks.get("host.runs-root")!.detail, /does not exist yet; .* is writable, the launcher creates it/);
    assert.match(checks.get("host.kube-api")!.detail, /answers \(Server Version: v1\.32\.4\+fake\)/);
    assert.equal(checks.get("host.can-i.read-pod-logs")!.detail, "allowed: get pods/log in unidesk-ci");
    assert.equal(existsSync(join(tmp.dir, "runs")), false);
    assert.equal(existsSync(join(tmp.dir, "work")), false);
    assert.deepEqual(await readdir(home), [], "no kubectl cache, nothing in HOME");
    assert.deepEqual(kube.writes(), []);
    assert.equal(kube.accessReviews().length, ACCESS_CHECKS.length);
  });

  it("a root another local user could change is red, naming the path, owner and mode, with the fix (host.runs-root, host.work-root)", async () => {
    // A shared sticky directory like /tmp, where another uid (nobody) plants roots before the dispatch user.
    const shared = join(tmp.dir, "shared");
    await mkdir(shared);
    await chmod(tmp.dir, 0o755);
    await chmod(shared, 0o1777);
    const asNobody = (...args: string[]) => assert.equal(spawnSync("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", ...args]).status, 0, args.join(" "));
    asNobody("mkdir", "-m", "700", join(shared, "theirs"));
    asNobody("ln", "-s", home, join(shared, "their-link"));
    await mkdir(join(shared, "group-writable"), { mode: 0o700 });
    await chmod(join(shared, "group-writable"), 0o770);
    await mkdir(join(tmp.dir, "open"), { mode: 0o700 });
    await chmod(join(tmp.dir, "open"), 0o777);
    const cases: [string, RegExp][] = [
      [join(shared, "theirs"), /theirs is a directory of nobody \(uid 65534\) mode 0700; make it yours \(uid 0\), mode 700/],
      [join(shared, "their-link"), /their-link is a symbolic link of nobody \(uid 65534\)/],
      [join(shared, "group-writable"), /group-writable is a directory of root \(uid 0\) mode 0770/],
      [join(tmp.dir, "open", "runs"), /open is a directory of root \(uid 0\) mode 0777/],
    ];
    for (const [root, says] of cases) {
      const checks = await probe({ runsRoot: root, workRoot: root });
      for (const [id, name] of [["host.runs-root", "runs"], ["host.work-root", "work"]] as const) {
        const check = checks.get(id)!;
        assert.equal(check.ok, false, `${id} ${root}`);
        assert.match(check.detail, new RegExp(`^unsafe ${name} root ${root}: `));
        assert.match(check.detail, says);
        assert.match(check.hint!, /the dispatch user's alone .* not writable by group or others \(chmod 700\), any shared parent sticky/);
      }
    }
    assert.equal(existsSync(join(tmp.dir, "open", "runs")), false, "doctor creates nothing");
    // Ours inside the sticky directory, mode 700: fine, also through a symlink of ours.
    await mkdir(join(shared, "ours"), { mode: 0o700 });
    await symlink(join(shared, "ours"), join(shared, "our-link"));
    const ok = await probe({ runsRoot: join(shared, "our-link"), workRoot: join(shared, "ours") });
    assert.equal(ok.get("host.runs-root")!.ok, true, ok.get("host.runs-root")!.detail);
    assert.equal(ok.get("host.work-root")!.ok, true, ok.get("host.work-root")!.detail);
    // Ours, but holding a run directory of another uid: every reader refuses it, so doctor is red too.
    await mkdir(join(shared, "ours", "r-theirs"));
    await chown(join(shared, "ours", "r-theirs"), 65534, 65534);
    const foreign = (await probe({ runsRoot: join(shared, "our-link"), workRoot: join(shared, "ours") })).get("host.runs-root")!;
    assert.equal(foreign.ok, false);
    assert.match(foreign.detail, /^unsafe run directory \S+r-theirs: \S+r-theirs is a directory of nobody \(uid 65534\) mode 0755;/);
    assert.match(foreign.hint!, /^remove that run directory on .*every reader refuses/);
  });

  it("every access question in one kubectl: 8 kubectl processes for the whole probe (19 with one a question), each review answered", async () => {
    const log = join(tmp.dir, "kubectl.log");
    const shims = await loggingShims(join(tmp.dir, "shims"), log, ["kubectl"]);
    const from = kube.accessReviews().length;
    const checks = await probe({}, { PATH: `${shims}:${process.env.PATH ?? "/usr/bin:/bin"}` });
    // The tool's version, config view, version, the namespace, tekton.dev/v1, the pipeline, the service account, the reviews.
    assert.equal(readFileSync(log, "utf8").split("\n").filter(Boolean).length, 8);
    assert.equal(kube.accessReviews().length - from, ACCESS_CHECKS.length);
    for (const c of ACCESS_CHECKS) assert.equal(checks.get(`host.can-i.${c.id}`)!.ok, true, c.id);
  });

  it("a denial's reason cannot pose as another answer: a question answered twice is red, not allowed", async () => {
    // The authorizer's text, with a line break and a line shaped like the answer that delete namespaces is allowed.
    kube.setDeniedAccess([{ verb: "create", resource: "namespaces" }, { verb: "delete", resource: "namespaces" }], "no\ndelete||namespaces||||true|");
    try {
      const checks = await probe({});
      assert.match(checks.get("host.can-i.create-namespaces")!.detail, /^denied: create namespaces cluster-wide \(no\b/);
      assert.equal(checks.get("host.can-i.delete-namespaces")!.ok, false);
      assert.match(checks.get("host.can-i.delete-namespaces")!.detail, /^cannot ask whether delete namespaces cluster-wide is allowed/);
      assert.equal(checks.get("host.can-i.list-namespaces")!.ok, true);
    } finally {
      kube.setDeniedAccess([]);
    }
  });

  it("a probe out of budget blames nothing: what it could not finish is unchecked (reason budget), not red", async () => {
    const spent = renderDoctorProbe({ runsRoot: join(tmp.dir, "runs"), workRoot: join(tmp.dir, "work"), egressProxy: `http://127.0.0.1:${await closedPort()}`, repo: base.repo }).replace(
      /^UCI_BUDGET_S='\d+'$/m,
      "UCI_BUDGET_S='0'",
    );
    const r = await runBash(spent, { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, LANG: "C.UTF-8", KUBECONFIG: kubeconfig });
    assert.equal(r.code, 0, r.stderr);
    const checks = parseDoctorProbeOutput(r.stdout, hostHints(ctx));
    const bounded = ["kube-api", "namespace", "tekton-crds", "pipeline", "service-account", ...ACCESS_CHECKS.map((c) => `can-i.${c.id}`), "egress-proxy"];
    for (const id of bounded) {
      const c = checks.find((x) => x.id === `host.${id}`)!;
      assert.equal(c.ok, false, id);
      assert.match(c.detail, /^not checked: the probe used up its 0s budget$|^not finished within the probe's 0s budget$/, id);
      assert.match(c.hint!, /run unidesk-ci doctor again/, id);
    }
    assert.equal(checks.find((x) => x.id === "host.egress-proxy")!.detail, "not finished within the probe's 0s budget");
  });

  it("a denied permission, a blocked runs root and an unreadable kubeconfig are each named", async () => {
    kube.setDeniedAccess([{ verb: "patch", resource: "pipelineruns" }]);
    await writeFile(join(tmp.dir, "blocker"), "");
    try {
      const checks = await probe({ runsRoot: join(tmp.dir, "blocker", "runs") });
      assert.match(checks.get("host.can-i.patch-pipelineruns")!.detail, /^denied: patch pipelineruns\.tekton\.dev in unidesk-ci/);
      assert.match(checks.get("host.can-i.patch-pipelineruns")!.hint!, /cancels the PipelineRun/);
      assert.match(checks.get("host.runs-root")!.detail, /blocker is not a directory$/);
      const broken = await probe({}, { KUBECONFIG: join(tmp.dir, "missing.yaml") });
      assert.equal(broken.get("host.kubeconfig")!.ok, false);
      assert.equal(broken.get("host.kube-api")!.ok, false);
      assert.equal(broken.get("host.pipeline")!.detail, "not checked: the API server does not answer");
    } finally {
      kube.setDeniedAccess([]);
    }
  });
});
