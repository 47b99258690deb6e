/** The words of `doctor`'s host hints: how to fix a failed host check, from its id and the probe's reason (src/host/doctor-probe.ts keeps the ids and reasons). */
import { ACCESS_CHECKS, PROBE_BUDGET_S, PROBE_TOOLS, type HostHint } from "../host/doctor-probe.ts";
import { CI_NAMESPACE, PIPELINE_NAME } from "../rules.ts";

/** The packages that ship each tool on Ubuntu (D601). */
const TOOL_PACKAGES: Record<(typeof PROBE_TOOLS)[number], string> = {
  bash: "apt-get install -y bash",
  git: "apt-get install -y git",
  kubectl: "k3s ships it: ln -s /usr/local/bin/k3s /usr/local/bin/kubectl (or install kubectl)",
  jq: "apt-get install -y jq",
  setsid: "apt-get install -y util-linux",
  timeout: "apt-get install -y coreutils",
};

const SETUP = "docs/setup-d601.md";

/** Settings the hints name. */
export interface HintContext {
  providerId: string;
  runsRoot: string;
  workRoot: string;
  egressProxy: string;
}

/** How to fix a failed host check, from its id and the probe's reason. */
export function hostHint(probeId: string, reason: string, ctx: HintContext): string {
  if (reason === "budget") return `${ctx.providerId} did not finish this check within the probe's ${PROBE_BUDGET_S} s; run unidesk-ci doctor again`;
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
      if (reason === "foreign-run") return `remove that run directory on ${ctx.providerId} (nothing in it can be trusted); until then every reader refuses ${dir} (docs/security.md#readers-believe-only-this-users-runs)`;
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

/** {@link hostHint} for one setting of the hints' context, as the probe's parser takes it. */
export function hostHints(ctx: HintContext): HostHint {
  return (probeId, reason) => hostHint(probeId, reason, ctx);
}
