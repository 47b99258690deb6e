import assert from "node:assert/strict";
import { runProcess } from "../support/spawn.ts";
import { readdirSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import { ACCESS_CHECKS, SAMPLE_TEMP_NAMESPACE } from "../../src/host/doctor-probe.ts";
import { CI_NAMESPACE, PIPELINE_NAME, PIPELINE_SERVICE_ACCOUNT } from "../../src/rules.ts";
import { startFakeKube, type FakeKube } from "../kube/fake-api.ts";

/** What an admin applies on D601 (docs/setup-d601.md). */
const TEKTON_DIR = resolve("scripts/ci/tekton");
const MANIFESTS = readdirSync(TEKTON_DIR).filter((f) => f.endsWith(".yaml")).sort();
const RUNNER = `system:serviceaccount:${CI_NAMESPACE}:unidesk-ci-runner`;

interface Out {
  code: number;
  stdout: string;
  stderr: string;
}

async function run(cmd: string, args: string[], env: Record<string, string>): Promise<Out> {
  const { code, stdout, stderr } = await runProcess(cmd, args, { env });
  return { code: code ?? 1, stdout, stderr };
}

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}
interface Obj {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  rules?: Rule[];
  roleRef?: { kind: string; name: string };
  subjects?: { kind: string; name: string; namespace?: string }[];
  [key: string]: unknown;
}

/** One request the runner (or doctor) makes: verb on group/resource[/subresource] in a namespace ("" cluster-wide), maybe by name. */
interface Need {
  verb: string;
  group: string;
  resource: string;
  namespace: string;
  name?: string;
}

/** The doctor's access reviews as needs, plus the reads that come with them (kubectl logs gets the pod; doctor gets the Pipeline and SA). */
const NEEDS: Need[] = [
  ...ACCESS_CHECKS.map((c): Need => {
    const [plural, name] = c.resource.split("/");
    const [resource, ...group] = plural!.split(".");
    return { verb: c.verb, group: group.join("."), resource: c.subresource ? `${resource}/${c.subresource}` : resource!, namespace: c.namespace ?? "", name };
  }),
  { verb: "get", group: "", resource: "namespaces", namespace: "", name: CI_NAMESPACE },
  { verb: "get", group: "", resource: "pods", namespace: SAMPLE_TEMP_NAMESPACE },
  { verb: "list", group: "", resource: "pods", namespace: SAMPLE_TEMP_NAMESPACE },
  { verb: "get", group: "", resource: "pods/log", namespace: SAMPLE_TEMP_NAMESPACE },
  { verb: "get", group: "tekton.dev", resource: "taskruns", namespace: CI_NAMESPACE },
  { verb: "get", group: "tekton.dev", resource: "pipelines", namespace: CI_NAMESPACE, name: PIPELINE_NAME },
  { verb: "get", group: "", resource: "serviceaccounts", namespace: CI_NAMESPACE, name: PIPELINE_SERVICE_ACCOUNT },
];

/** A rule grants a need when group, resource, verb (and resourceNames, if any) match. */
const grants = (rule: Rule, need: Need) =>
  rule.apiGroups.includes(need.group) && rule.resources.includes(need.resource) && rule.verbs.includes(need.verb) && (rule.resourceNames === undefined || (need.name !== undefined && rule.resourceNames.includes(need.name)));

describe("scripts/ci/tekton: what a D601 admin applies", () => {
  let kube: FakeKube;
  let dir: string;
  let env: Record<string, string>;
  let objects: Obj[];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "tekton-manifests-"));
    // kubectl apply --dry-run=client still reads discovery (kinds → resources): the fake API serves it, nothing is sent.
    kube = await startFakeKube();
    env = { PATH: process.env["PATH"] ?? "/usr/bin:/bin", HOME: dir, KUBECONFIG: await kube.writeKubeconfig(join(dir, "kubeconfig"), "manifests"), KUBECACHEDIR: join(dir, "cache") };
    const all = await run("kubectl", ["apply", "--dry-run=client", "-o", "json", ...MANIFESTS.flatMap((f) => ["-f", join(TEKTON_DIR, f)])], env);
    assert.equal(all.code, 0, all.stderr);
    const doc = JSON.parse(all.stdout) as { kind: string; items?: Obj[] } & Obj;
    objects = doc.kind === "List" ? doc.items! : [doc];
  });
  after(async () => {
    await kube.stop();
    await rm(dir, { recursive: true, force: true });
  });

  for (const file of MANIFESTS) {
    it(`${file} passes the real kubectl apply --dry-run=client, sending nothing`, async () => {
      const r = await run("kubectl", ["apply", "--dry-run=client", "-f", join(TEKTON_DIR, file)], env);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /\(dry run\)$/m);
      assert.deepEqual(kube.writes(), [], "a client-side dry run writes nothing");
    });
  }

  it("holds the namespace, both ServiceAccounts, the Pipeline, the runner's RBAC and its guard", () => {
    const names = objects.map((o) => `${o.kind}/${o.metadata.namespace ? `${o.metadata.namespace}/` : ""}${o.metadata.name}`).sort();
    assert.deepEqual(names, [
      "ClusterRole/unidesk-ci-runner",
      "ClusterRoleBinding/unidesk-ci-runner",
      `Namespace/${CI_NAMESPACE}`,
      `Pipeline/${CI_NAMESPACE}/${PIPELINE_NAME}`,
      `Role/${CI_NAMESPACE}/unidesk-ci-runner`,
      `RoleBinding/${CI_NAMESPACE}/unidesk-ci-runner`,
      `Secret/${CI_NAMESPACE}/unidesk-ci-runner-token`,
      `ServiceAccount/${CI_NAMESPACE}/${PIPELINE_SERVICE_ACCOUNT}`,
      `ServiceAccount/${CI_NAMESPACE}/unidesk-ci-runner`,
      "ValidatingAdmissionPolicy/unidesk-ci-runner-guard",
      "ValidatingAdmissionPolicyBinding/unidesk-ci-runner-guard",
    ]);
  });

  /** The rules the runner's ServiceAccount holds in `namespace` ("" cluster-wide): ClusterRoles bound cluster-wide, Roles bound there. */
  function runnerRules(namespace: string): Rule[] {
    const isRunner = (o: Obj) => o.subjects?.some((s) => `system:serviceaccount:${s.namespace}:${s.name}` === RUNNER) ?? false;
    const out: Rule[] = [];
    for (const b of objects.filter((o) => (o.kind === "ClusterRoleBinding" || (o.kind === "RoleBinding" && namespace !== "" && o.metadata.namespace === namespace)) && isRunner(o))) {
      const role = objects.find((o) => o.kind === b.roleRef!.kind && o.metadata.name === b.roleRef!.name && (o.kind === "ClusterRole" || o.metadata.namespace === b.metadata.namespace));
      assert.ok(role, `${b.kind} ${b.metadata.name} binds a role that is not in the manifests`);
      out.push(...role.rules!);
    }
    return out;
  }

  it("the runner may do everything doctor asks about (and the runner does)", () => {
    for (const need of NEEDS) {
      assert.ok(runnerRules(need.namespace).some((r) => grants(r, need)), `not granted: ${JSON.stringify(need)}`);
    }
  });

  it("least privilege: every rule is needed, no wildcard, no escalation verb, and nothing in the production namespaces beyond the cluster-wide reads", () => {
    for (const role of objects.filter((o) => o.kind === "ClusterRole" || o.kind === "Role")) {
      for (const rule of role.rules!) {
        for (const verb of rule.verbs) {
          for (const resource of rule.resources) {
            for (const group of rule.apiGroups) {
              const used = NEEDS.some((n) => n.verb === verb && n.resource === resource && n.group === group && (rule.resourceNames === undefined || rule.resourceNames.includes(n.name ?? "")));
              assert.ok(used, `${role.kind} ${role.metadata.name} grants ${verb} ${group}/${resource} that nothing uses`);
            }
          }
        }
        assert.ok(![...rule.verbs, ...rule.resources, ...rule.apiGroups].includes("*"), `${role.metadata.name}: a wildcard`);
        assert.ok(!rule.verbs.some((v) => ["escalate", "impersonate", "update", "deletecollection"].includes(v)), `${role.metadata.name}: ${rule.verbs}`);
      }
    }
    const binds = runnerRules("").filter((r) => r.verbs.includes("bind"));
    assert.deepEqual(binds.map((r) => r.resourceNames), [["edit"]], "bind only on ClusterRole edit");
    const prod = runnerRules("unidesk").filter((r) => r.verbs.some((v) => v !== "get" && v !== "list") && !r.resources.includes("namespaces") && !r.resources.includes("rolebindings") && !r.resources.includes("clusterroles"));
    assert.deepEqual(prod, [], "no write in other namespaces except what runner-guard.yaml confines to unidesk-ci-*");
  });

  it("the Pipeline's ServiceAccount has no standing permission: only the per-run RoleBinding to edit", () => {
    const bound = objects.filter((o) => o.subjects?.some((s) => s.name === PIPELINE_SERVICE_ACCOUNT));
    assert.deepEqual(bound, []);
  });

  it("runner-guard.yaml applies to the runner alone and confines namespaces and RoleBindings to unidesk-ci-*", () => {
    const policy = objects.find((o) => o.kind === "ValidatingAdmissionPolicy")!;
    const spec = policy["spec"] as { matchConditions: { expression: string }[]; variables: { expression: string }[]; failurePolicy: string };
    assert.equal(spec.failurePolicy, "Fail");
    assert.deepEqual(spec.matchConditions.map((m) => m.expression), [`request.userInfo.username == '${RUNNER}'`]);
    assert.ok(spec.variables.some((v) => v.expression.includes("startsWith('unidesk-ci-')") && v.expression.includes("'app.kubernetes.io/managed-by'")));
    const binding = objects.find((o) => o.kind === "ValidatingAdmissionPolicyBinding")!;
    assert.deepEqual(binding["spec"], { policyName: policy.metadata.name, validationActions: ["Deny"] });
  });

  it("passes @ibm/tekton-lint, offline", async () => {
    let lint: string;
    try {
      lint = createRequire(import.meta.url).resolve("@ibm/tekton-lint/dist/lint.js");
    } catch (error) {
      assert.fail(`@ibm/tekton-lint is not installed: add "@ibm/tekton-lint": "1.1.0" to devDependencies and run npm ci (${String(error)})`);
    }
    // No proxy variables and a dead registry: the linter must not need the network.
    const r = await run(process.execPath, [lint, "--format", "json", ...MANIFESTS.map((f) => join(TEKTON_DIR, f))], { PATH: env.PATH!, HOME: dir, npm_config_registry: "http://127.0.0.1:9" });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), [], "no lint problem");
  });
});
