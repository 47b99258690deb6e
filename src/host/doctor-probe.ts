/** The fixed read-only doctor probe (doctor-probe.sh): the checks it runs on the host, its renderer and the parser of its answer. */
import { untrustedLine } from "../redact.ts";
import { UsageError } from "../errors.ts";
import { CI_NAMESPACE, DOCTOR_MIN_FREE_BYTES, PIPELINE_NAME, PIPELINE_SERVICE_ACCOUNT, checkAbsolutePath, checkProxyUrl, checkRepoUrl, checkStringSetting } from "../rules.ts";
import template from "./doctor-probe.sh";
import { decodeField, lenientText, malformed, readerRecords } from "./records.ts";
import { fillTemplate, withIncludes } from "./template.ts";

/** One check's outcome, as `doctor` reports it (`--json`: id, ok, detail, hint when it failed). */
export interface DoctorCheck {
  id: string;
  ok: boolean;
  detail: string;
  /** How to fix it; only on a failed (or not checked) check. */
  hint?: string;
}

/** The tools the launcher and the runner call, checked in this order. */
export const PROBE_TOOLS = ["bash", "git", "kubectl", "jq", "setsid", "timeout"] as const;

/** The packages that ship each tool on Ubuntu (D601). */
const TOOL_PACKAGES: Record<(typeof PROBE_TOOLS)[number], string> = {
  bash: "apt-get install -y bash",
  git: "apt-get install -y git",
  kubectl: "k3s ships it: ln -s /usr/local/bin/k3s /usr/local/bin/kubectl (or install kubectl)",
  jq: "apt-get install -y jq",
  setsid: "apt-get install -y util-linux",
  timeout: "apt-get install -y coreutils",
};

/** A namespace name of the kind the runner creates (unidesk-ci-<runId>), for the access reviews aimed at temporary namespaces. */
export const SAMPLE_TEMP_NAMESPACE = `${CI_NAMESPACE}-doctor`;

/** One thing the runner does in the cluster, asked with `kubectl auth can-i`. */
export interface AccessCheck {
  /** Check id after `host.can-i.`. */
  id: string;
  verb: string;
  /** Plural resource with its group, e.g. `pipelineruns.tekton.dev`. */
  resource: string;
  /** The namespace asked about; undefined for a cluster-wide question. */
  namespace?: string;
  subresource?: string;
  /** What the runner needs it for. */
  why: string;
}

/** What the runner does in the cluster (scripts/ci/dev-e2e.sh), one access review each; scripts/ci/tekton/runner-rbac.yaml grants exactly these. */
export const ACCESS_CHECKS: readonly AccessCheck[] = [
  { id: "create-namespaces", verb: "create", resource: "namespaces", why: "it creates each run's temporary namespace" },
  { id: "delete-namespaces", verb: "delete", resource: "namespaces", why: "it deletes the temporary namespace after the run" },
  { id: "list-namespaces", verb: "list", resource: "namespaces", why: "it finds what dead runs left behind by label" },
  { id: "create-rolebindings", verb: "create", resource: "rolebindings.rbac.authorization.k8s.io", namespace: SAMPLE_TEMP_NAMESPACE, why: `it binds ${PIPELINE_SERVICE_ACCOUNT} to ClusterRole edit in the temporary namespace` },
  { id: "bind-edit", verb: "bind", resource: "clusterroles.rbac.authorization.k8s.io/edit", namespace: SAMPLE_TEMP_NAMESPACE, why: "a RoleBinding to ClusterRole edit needs bind on it (or every permission of edit)" },
  { id: "create-pipelineruns", verb: "create", resource: "pipelineruns.tekton.dev", namespace: CI_NAMESPACE, why: "it starts the run's PipelineRun" },
  { id: "get-pipelineruns", verb: "get", resource: "pipelineruns.tekton.dev", namespace: CI_NAMESPACE, why: "it polls the PipelineRun's condition" },
  { id: "list-pipelineruns", verb: "list", resource: "pipelineruns.tekton.dev", namespace: CI_NAMESPACE, why: "it finds dead runs' PipelineRuns by label" },
  { id: "patch-pipelineruns", verb: "patch", resource: "pipelineruns.tekton.dev", namespace: CI_NAMESPACE, why: "it cancels the PipelineRun on timeout or cancel" },
  { id: "list-taskruns", verb: "list", resource: "taskruns.tekton.dev", namespace: CI_NAMESPACE, why: "it saves the run's TaskRuns" },
  { id: "list-pods", verb: "list", resource: "pods", namespace: CI_NAMESPACE, why: "it finds the run's pods" },
  { id: "read-pod-logs", verb: "get", resource: "pods", namespace: CI_NAMESPACE, subresource: "log", why: "it saves every pod's log" },
];

/** The probe's own budget on the host, inside one host.ssh call. */
export const PROBE_BUDGET_S = 40;

/** What the probe is rendered from: the same workspace settings the launcher gets, and the manifest's repository. */
export interface DoctorProbeSettings {
  runsRoot: string;
  workRoot: string;
  egressProxy: string;
  /** `environments.dev.ci.repo`, tried through the proxy; "" when there is no valid one to try. */
  repo: string;
}

const SETUP = "docs/setup-d601.md";

/** The probe script; throws a UsageError naming a bad field. */
export function renderDoctorProbe(settings: DoctorProbeSettings): string {
  checkStringSetting("runsRoot", settings.runsRoot, checkAbsolutePath);
  checkStringSetting("workRoot", settings.workRoot, checkAbsolutePath);
  checkStringSetting("egressProxy", settings.egressProxy, checkProxyUrl);
  checkStringSetting("repo", settings.repo, (v) => (v === "" ? undefined : checkRepoUrl(v)));
  for (const c of ACCESS_CHECKS) {
    // Each line is split on blanks by the probe: only plain words may go in.
    if (![c.id, c.verb, c.resource, c.namespace ?? "-", c.subresource ?? ""].every((w) => /^[a-z0-9./-]*$/.test(w))) throw new UsageError(`access check ${c.id} has a field that is not a plain word`);
  }
  return fillTemplate(
    withIncludes(template, "doctor-probe.sh"),
    {
      RUNS_ROOT: settings.runsRoot,
      WORK_ROOT: settings.workRoot,
      EGRESS_PROXY: settings.egressProxy,
      REPO: settings.repo,
      CI_NAMESPACE,
      PIPELINE: PIPELINE_NAME,
      SERVICE_ACCOUNT: PIPELINE_SERVICE_ACCOUNT,
      MIN_FREE_KIB: String(DOCTOR_MIN_FREE_BYTES / 1024),
      BUDGET_S: String(PROBE_BUDGET_S),
      TOOLS: PROBE_TOOLS.join("\n"),
      ACCESS: ACCESS_CHECKS.map((c) => [c.id, c.verb, c.resource, c.namespace ?? "-", c.subresource ?? ""].join(" ").trimEnd()).join("\n"),
    },
    "doctor-probe.sh",
  );
}

/** Every check the probe answers, in its order (ids as the probe prints them, without `host.`). */
export const PROBE_CHECK_IDS: readonly string[] = [
  ...PROBE_TOOLS.map((t) => `tool.${t}`),
  "runs-root",
  "work-root",
  "kubeconfig",
  "kube-api",
  "namespace",
  "tekton-crds",
  "pipeline",
  "service-account",
  ...ACCESS_CHECKS.map((c) => `can-i.${c.id}`),
  "egress-proxy",
];

/** Where a host check is reported, e.g. `host.tool.jq`. */
export const hostCheckId = (probeId: string) => `host.${probeId}`;

/** Settings the hints name. */
export interface HintContext {
  providerId: string;
  runsRoot: string;
  workRoot: string;
  egressProxy: string;
}

/** How to fix a failed host check, from its id and the probe's reason. */
export function hostHint(probeId: string, reason: string, ctx: HintContext): string {
  if (reason === "budget") return "the cluster answers slowly; run unidesk-ci doctor again, and check the API server's load";
  if (probeId.startsWith("tool.")) {
    const tool = probeId.slice(5) as (typeof PROBE_TOOLS)[number];
    return `install ${tool} on ${ctx.providerId} for the dispatch user (${TOOL_PACKAGES[tool] ?? `install ${tool}`})`;
  }
  if (probeId.startsWith("can-i.")) {
    const check = ACCESS_CHECKS.find((c) => `can-i.${c.id}` === probeId);
    if (reason === "kube-api" || reason === "no-kubectl") return "fix host.kube-api first";
    return `the runner needs this (${check?.why ?? "see the runner"}): apply scripts/ci/tekton/runner-rbac.yaml and point KUBECONFIG at the unidesk-ci-runner kubeconfig (${SETUP}#permissions)`;
  }
  if (reason === "kube-api" || reason === "no-kubectl") return reason === "no-kubectl" ? "install kubectl first (host.tool.kubectl)" : "fix host.kube-api first";
  switch (probeId) {
    case "runs-root":
    case "work-root": {
      const [dir, variable, key] = probeId === "runs-root" ? [ctx.runsRoot, "UNIDESK_CI_RUNS_ROOT", "runsRoot"] : [ctx.workRoot, "UNIDESK_CI_WORK_ROOT", "workRoot"];
      if (reason === "unsafe") {
        return `make ${dir} the dispatch user's alone on ${ctx.providerId}: no symlink or directory on its path owned by another user, ${dir} itself not writable by group or others (chmod 700), any shared parent sticky like /tmp; or set ${variable} (config: ${key}) to such a directory (docs/security.md)`;
      }
      if (reason === "low-disk" || reason === "no-df") return `free disk space on ${ctx.providerId} where ${dir} lives, or set ${variable} (config: ${key}) to a roomier place`;
      return `create ${dir} for the dispatch user on ${ctx.providerId} (mkdir -p ${dir}), or set ${variable} (config: ${key}) to a directory it can write (${SETUP}#workspace)`;
    }
    case "kubeconfig":
      return `make KUBECONFIG in the dispatch user's environment name a readable file: the unidesk-ci-runner kubeconfig of ${SETUP}#permissions`;
    case "kube-api":
      return "check that k3s runs on the host and that the kubeconfig's server address and credentials are current (kubectl version)";
    case "namespace":
      return `an admin applies it: kubectl apply -f scripts/ci/tekton/namespace.yaml (${SETUP}#one-time-setup)`;
    case "tekton-crds":
      return `install Tekton Pipelines (v0.50 or later, which serves tekton.dev/v1) on the cluster (${SETUP}#one-time-setup)`;
    case "pipeline":
      return reason === "missing" ? `an admin applies it: kubectl apply -f scripts/ci/tekton/${PIPELINE_NAME}.yaml (${SETUP}#one-time-setup)` : `let the runner read pipelines in ${CI_NAMESPACE}: apply scripts/ci/tekton/runner-rbac.yaml (${SETUP}#permissions)`;
    case "service-account":
      return reason === "missing" ? `an admin applies it: kubectl apply -f scripts/ci/tekton/pipeline-serviceaccount.yaml (${SETUP}#one-time-setup)` : `let the runner read serviceaccounts in ${CI_NAMESPACE}: apply scripts/ci/tekton/runner-rbac.yaml (${SETUP}#permissions)`;
    case "egress-proxy":
      if (reason === "proxy-down") return `start the egress proxy on ${ctx.providerId} (${ctx.egressProxy}), or set UNIDESK_CI_EGRESS_PROXY (config: egressProxy) to the one that runs; runs never fall back to a direct fetch`;
      if (reason === "no-master") return "push master to the repository named by environments.dev.ci.repo";
      if (reason === "no-git") return "install git first (host.tool.git)";
      return `let the egress proxy reach the repository (its allow list), and check the repository URL in environments.dev.ci.repo`;
    default:
      return `see ${SETUP}`;
  }
}

const READER = "doctor probe";

/** Parses the probe's stdout into host checks (ids `host.…`, hints filled in); DispatchError (exit 5) on a malformed answer. */
export function parseDoctorProbeOutput(stdout: string, ctx: HintContext): DoctorCheck[] {
  const records = readerRecords(stdout, "unidesk-ci-doctor", READER).filter((r) => r[0] === "check");
  const byId = new Map<string, DoctorCheck>();
  for (const [, id, state, reason, field] of records) {
    if (id === undefined || !PROBE_CHECK_IDS.includes(id)) throw malformed(READER, `unknown check ${JSON.stringify(untrustedLine(String(id)))}`);
    if (state !== "pass" && state !== "fail" && state !== "skip") throw malformed(READER, `check ${id} has state ${JSON.stringify(untrustedLine(String(state)))}`);
    if (reason === undefined || !/^(-|[a-z-]+)$/.test(reason)) throw malformed(READER, `check ${id} has reason ${JSON.stringify(untrustedLine(String(reason)))}`);
    const bytes = decodeField(field, READER);
    // The host's words: one bounded line, so a detail never draws a fake check line under it.
    const detail = bytes === null ? "" : untrustedLine(lenientText(bytes));
    const ok = state === "pass";
    byId.set(id, { id: hostCheckId(id), ok, detail, ...(ok ? {} : { hint: hostHint(id, reason, ctx) }) });
  }
  const missing = PROBE_CHECK_IDS.filter((id) => !byId.has(id));
  if (missing.length > 0) throw malformed(READER, `no answer for ${missing.join(", ")}`);
  return PROBE_CHECK_IDS.map((id) => byId.get(id)!);
}

/** The host checks, each not checked for `why` (the probe could not run). */
export function hostChecksNotRun(why: string): DoctorCheck[] {
  return PROBE_CHECK_IDS.map((id) => ({ id: hostCheckId(id), ok: false, detail: `not checked: ${why}`, hint: "fix the dispatch check first" }));
}
