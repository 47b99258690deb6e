import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import type { Sandbox } from "../sandbox/sandbox.ts";
import { cliCounted, jsonOf, sharedE2e, show, walkFiles, type E2e } from "./sandbox-helpers.ts";

/** Runs `doctor --json`; returns the run, its document, the failed check ids and the dispatch calls. */
async function doctor(e2e: E2e, args: string[] = [], env: Record<string, string> = {}) {
  const r = await cliCounted(e2e, ["doctor", "--json", ...args], { env });
  const doc = jsonOf(r);
  const checks = doc["checks"] as { id: string; ok: boolean; detail: string; hint?: string }[];
  return { r, doc, checks, failed: checks.filter((c) => !c.ok), red: checks.filter((c) => !c.ok && !c.detail.startsWith("not checked")).map((c) => c.id) };
}

/** Every request the fake cluster got that is neither a read nor an access review: must stay empty. */
function changingRequests(sb: Sandbox, from: number) {
  return sb.kube!.requests().slice(from).filter((r) => r.method !== "GET" && !(r.method === "POST" && r.path === "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"));
}

/** One broken piece of the sandbox: the check it must turn red, and how to break (returning the repair). */
interface Breakage {
  name: string;
  check: string;
  hint: RegExp;
  apply(sb: Sandbox): Promise<() => Promise<unknown>>;
}

const BREAKAGES: Breakage[] = [
  {
    name: "no Pipeline in unidesk-ci",
    check: "host.pipeline",
    hint: /kubectl apply -f .*scripts\/ci\/tekton\/unidesk-dev-namespace-e2e\.yaml/,
    async apply(sb) {
      const pipeline = sb.kube!.getObject("tekton.dev/v1", "pipelines", "unidesk-ci", "unidesk-dev-namespace-e2e")!;
      assert.ok(sb.kube!.deleteObject("tekton.dev/v1", "pipelines", "unidesk-ci", "unidesk-dev-namespace-e2e"));
      return async () => sb.kube!.createObject(pipeline);
    },
  },
  {
    name: "no ServiceAccount unidesk-ci-e2e",
    check: "host.service-account",
    hint: /pipeline-serviceaccount\.yaml/,
    async apply(sb) {
      const sa = sb.kube!.getObject("v1", "serviceaccounts", "unidesk-ci", "unidesk-ci-e2e")!;
      assert.ok(sb.kube!.deleteObject("v1", "serviceaccounts", "unidesk-ci", "unidesk-ci-e2e"));
      return async () => sb.kube!.createObject(sa);
    },
  },
  {
    name: "RBAC that lets the runner create namespaces but not RoleBindings",
    check: "host.can-i.create-rolebindings",
    hint: /runner-rbac\.yaml/,
    async apply(sb) {
      sb.kube!.setDeniedAccess([{ verb: "create", resource: "rolebindings", group: "rbac.authorization.k8s.io" }]);
      return async () => sb.kube!.setDeniedAccess([]);
    },
  },
  {
    name: "no bind on ClusterRole edit",
    check: "host.can-i.bind-edit",
    hint: /needs bind on it/,
    async apply(sb) {
      sb.kube!.setDeniedAccess([{ verb: "bind", resource: "clusterroles", name: "edit" }]);
      return async () => sb.kube!.setDeniedAccess([]);
    },
  },
  {
    name: "pod logs not readable",
    check: "host.can-i.read-pod-logs",
    hint: /saves every pod's log/,
    async apply(sb) {
      sb.kube!.setDeniedAccess([{ verb: "get", resource: "pods", subresource: "log" }]);
      return async () => sb.kube!.setDeniedAccess([]);
    },
  },
  {
    name: "the egress proxy down",
    check: "host.egress-proxy",
    hint: /start the egress proxy/,
    async apply(sb) {
      await sb.proxy.stop();
      return () => sb.proxy.start();
    },
  },
  {
    name: "the egress proxy refusing the repository",
    check: "host.egress-proxy",
    hint: /allow list/,
    async apply(sb) {
      sb.proxy.setRefusing(true);
      return async () => sb.proxy.setRefusing(false);
    },
  },
  {
    name: "no jq on the host",
    check: "host.tool.jq",
    hint: /install jq .*apt-get install -y jq/,
    async apply(sb) {
      await sb.d601.hideTools(["jq"]);
      return () => sb.d601.hideTools([]);
    },
  },
  {
    name: "no setsid on the host",
    check: "host.tool.setsid",
    hint: /util-linux/,
    async apply(sb) {
      await sb.d601.hideTools(["setsid"]);
      return () => sb.d601.hideTools([]);
    },
  },
  {
    // Tests run as root, for whom every directory is writable: a file where the runs root's parent should be is unwritable for anyone.
    name: "an unwritable runs root",
    check: "host.runs-root",
    hint: /mkdir -p .*UNIDESK_CI_RUNS_ROOT/,
    async apply(sb) {
      const blocker = join(sb.d601Home, ".unidesk");
      await writeFile(blocker, "not a directory\n");
      return () => rm(blocker);
    },
  },
];

describe("e2e: doctor against the sandbox", () => {
  const e2e = sharedE2e();

  it("a healthy sandbox: every check green, exit 0, one dispatch, nothing changed in the cluster or on the host", async () => {
    const { sb } = e2e();
    const before = await walkFiles(join(sb.root, "d601"));
    const kubeFrom = sb.kube!.requests().length;
    const reviewsFrom = sb.kube!.accessReviews().length;
    const { r, doc, checks, failed } = await doctor(e2e());
    assert.equal(r.code, 0, show(r));
    assert.deepEqual(failed, [], show(r));
    assert.equal(doc["ok"], true);
    assert.equal(r.calls, 1, "one dispatch");
    for (const c of checks) assert.deepEqual(Object.keys(c).sort(), ["detail", "id", "ok"], `${c.id} has exactly id, ok, detail`);
    const ids = checks.map((c) => c.id);
    for (const id of ["git-clone", "origin-master", "manifest", "same-repository", "config", "backend-url", "token", "dispatch", "host.tool.bash", "host.tool.git", "host.tool.kubectl", "host.tool.jq", "host.tool.setsid", "host.tool.timeout", "host.runs-root", "host.work-root", "host.kubeconfig", "host.kube-api", "host.namespace", "host.tekton-crds", "host.pipeline", "host.service-account", "host.can-i.create-namespaces", "host.can-i.delete-namespaces", "host.can-i.create-rolebindings", "host.can-i.bind-edit", "host.can-i.create-pipelineruns", "host.can-i.patch-pipelineruns", "host.can-i.read-pod-logs", "host.egress-proxy"]) {
      assert.ok(ids.includes(id), `check ${id} is reported`);
    }
    const detail = (id: string) => checks.find((c) => c.id === id)!.detail;
    assert.match(detail("host.tool.jq"), /jq-1\.\d/);
    assert.match(detail("host.runs-root"), /does not exist yet; .* is writable, the launcher creates it\), \d+(\.\d)? [GM]iB free$/);
    assert.match(detail("host.egress-proxy"), /answers through http:\/\/127\.0\.0\.1:\d+ \(master at [0-9a-f]{12}\)/);
    assert.equal(detail("token"), "from UNIDESK_TOKEN");

    assert.deepEqual(changingRequests(sb, kubeFrom), [], "no request that changes anything reached the cluster");
    const reviews = sb.kube!.accessReviews().slice(reviewsFrom);
    assert.ok(reviews.some((a) => a.verb === "create" && a.resource === "rolebindings" && a.namespace === "unidesk-ci-doctor"), JSON.stringify(reviews));
    assert.ok(reviews.some((a) => a.verb === "create" && a.resource === "namespaces" && a.namespace === ""), "cluster-scoped reviews ask cluster-wide");
    assert.equal(existsSync(sb.runsRoot), false, "nothing under the runs root");
    assert.equal(existsSync(sb.workRoot), false, "nothing under the work root");
    assert.deepEqual(await walkFiles(join(sb.root, "d601")), before, "no file appeared on D601");
    assert.ok(sb.proxy.requests.some((p) => p.method === "CONNECT" && p.outcome === "tunnel"), "ls-remote went through the proxy");
    assert.deepEqual(sb.requestsBypassingProxy(), [], "no git request bypassed the proxy");
  });

  it("the text report: one line per check, the count last, on stdout; only the probing line on stderr", async () => {
    const r = await cliCounted(e2e(), ["doctor"]);
    assert.equal(r.code, 0, show(r));
    assert.match(r.stderr, /^probing \S+ through http:\/\/\S+…\n$/);
    assert.match(r.stdout, /^ok {4}git-clone +\S.* is a git work tree$/m);
    assert.match(r.stdout, /^ok {4}host\.can-i\.bind-edit +allowed: bind clusterroles\.rbac\.authorization\.k8s\.io\/edit in unidesk-ci-doctor$/m);
    assert.match(r.stdout, /\n\n\d+ checks: \d+ ok, 0 failed\n$/);
  });

  for (const b of BREAKAGES) {
    it(`${b.name}: exactly ${b.check} red, with a hint, exit 1`, async () => {
      const { sb } = e2e();
      const repair = await b.apply(sb);
      try {
        const kubeFrom = sb.kube!.requests().length;
        const { r, doc, failed, red } = await doctor(e2e());
        assert.equal(r.code, 1, show(r));
        assert.deepEqual(red, [b.check], show(r));
        assert.deepEqual(failed.map((c) => c.id), [b.check], "nothing else is red or unchecked");
        assert.match(failed[0]!.hint ?? "", b.hint);
        assert.equal(r.calls, 1);
        assert.deepEqual(doc["error"], { code: "check_failed", message: `1 doctor check failed, first ${b.check}: ${failed[0]!.detail}`, hint: failed[0]!.hint, exitCode: 1 });
        assert.deepEqual(changingRequests(sb, kubeFrom), []);
      } finally {
        await repair();
      }
      assert.equal(existsSync(sb.runsRoot), false, "nothing under the runs root");
    });
  }

  it("after every repair the sandbox is healthy again", async () => {
    const { r, failed } = await doctor(e2e());
    assert.equal(r.code, 0, show(r));
    assert.deepEqual(failed, []);
  });

  it("no backend URL: config red, the probe not dispatched, exit 4", async () => {
    const { r, failed, red, doc } = await doctor(e2e(), [], { UNIDESK_BACKEND_URL: "" });
    assert.equal(r.code, 4, show(r));
    assert.deepEqual(red, ["backend-url"]);
    assert.ok(failed.filter((c) => c.id.startsWith("host.")).every((c) => c.detail === "not checked: the probe was not dispatched"));
    assert.equal(r.calls, 0);
    assert.equal(doc["error"].code, "config");
  });

  it("a rejected token: dispatch red, exit 4, the token never printed", async () => {
    const { r, red, doc } = await doctor(e2e(), [], { UNIDESK_TOKEN: e2e().sb.forbiddenToken });
    assert.equal(r.code, 4, show(r));
    assert.deepEqual(red, ["dispatch"]);
    assert.equal(doc["error"].code, "auth");
    assert.ok(!r.stdout.includes(e2e().sb.forbiddenToken));
  });

  it("backend-core answering 5xx: at most two dispatch calls, exit 5", async () => {
    const { sb } = e2e();
    await sb.backend.setFailure({ mode: "server_error", status: 503 });
    try {
      const { r, red } = await doctor(e2e());
      assert.equal(r.code, 5, show(r));
      assert.deepEqual(red, ["dispatch"]);
      assert.equal(r.calls, 2, "one probe and one retry");
    } finally {
      await sb.backend.setFailure(null);
    }
  });

  it("backend-core down: exit 5 in text mode with the error on stderr", async () => {
    const { sb } = e2e();
    await sb.backend.setFailure({ mode: "down" });
    try {
      const r = await cliCounted(e2e(), ["doctor"]);
      assert.equal(r.code, 5, show(r));
      assert.match(r.stdout, /^FAIL {2}dispatch +cannot connect to .*connection refused/m);
      assert.match(r.stderr, /^error: cannot connect to /m);
    } finally {
      await sb.backend.setFailure(null);
    }
  });

  it("outside a clone: the clone checks red (the rest not checked), the host still probed, exit 1", async () => {
    const dir = await mkdtemp(join(tmpdir(), "doctor-no-clone-"));
    try {
      const { r, red, failed } = await doctor(e2e(), ["--repo-dir", dir]);
      assert.equal(r.code, 1, show(r));
      assert.deepEqual(red, ["git-clone"]);
      assert.deepEqual(failed.map((c) => c.id), ["git-clone", "origin-master", "manifest", "same-repository"]);
      assert.equal(r.calls, 1, "the host is probed anyway");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
