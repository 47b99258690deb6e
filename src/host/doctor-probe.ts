/** The fixed read-only doctor probe (doctor-probe.sh): the checks it runs on the host, its renderer and the parser of its answer. */
import { untrustedLine } from "../redact.ts";
import { UsageError } from "../errors.ts";
import { CI_NAMESPACE, DOCTOR_MIN_FREE_BYTES, PIPELINE_NAME, PIPELINE_SERVICE_ACCOUNT, checkAbsolutePath, checkProxyUrl, checkRepoUrl, checkStringSetting } from "../rules.ts";
import template from "./doctor-probe.sh";
import { decodeField, lenientText, malformed, readerRecords } from "./records.ts";
import { fillTemplate, prepared } from "./template.ts";

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

/** A namespace name of the kind the runner creates (unidesk-ci-<runId>), for the access reviews aimed at temporary namespaces. */
export const SAMPLE_TEMP_NAMESPACE = `${CI_NAMESPACE}-doctor`;

/** One thing the runner does in the cluster, asked as a SelfSubjectAccessReview (what `kubectl auth can-i` sends). */
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

/** The attributes of a review as the probe's template prints them back, in this order (`|` between). */
const REVIEW_FIELDS = ["verb", "group", "resource", "subresource", "name", "namespace"] as const;
type ReviewAttributes = Record<(typeof REVIEW_FIELDS)[number], string>;

/** A check as a SelfSubjectAccessReview's resourceAttributes: `clusterroles.rbac.authorization.k8s.io/edit` is resource, group and name. */
function reviewAttributes(c: AccessCheck): ReviewAttributes {
  const [typed = "", name = ""] = c.resource.split("/");
  const dot = typed.indexOf(".");
  return {
    verb: c.verb,
    group: dot < 0 ? "" : typed.slice(dot + 1),
    resource: dot < 0 ? typed : typed.slice(0, dot),
    subresource: c.subresource ?? "",
    name,
    namespace: c.namespace ?? "",
  };
}

const reviewKey = (a: ReviewAttributes) => REVIEW_FIELDS.map((f) => a[f]).join("|");

/** What a check asks, in words: `get pods/log in unidesk-ci`, `create namespaces cluster-wide`. */
const accessWords = (c: AccessCheck) => `${c.verb} ${c.resource}${c.subresource ? `/${c.subresource}` : ""} ${c.namespace ? `in ${c.namespace}` : "cluster-wide"}`;

/** The probe script; throws a UsageError naming a bad field. */
export function renderDoctorProbe(settings: DoctorProbeSettings): string {
  checkStringSetting("runsRoot", settings.runsRoot, checkAbsolutePath);
  checkStringSetting("workRoot", settings.workRoot, checkAbsolutePath);
  checkStringSetting("egressProxy", settings.egressProxy, checkProxyUrl);
  checkStringSetting("repo", settings.repo, (v) => (v === "" ? undefined : checkRepoUrl(v)));
  for (const c of ACCESS_CHECKS) {
    // Each line is split on blanks by the probe: only plain words may go in.
    if (![c.id, c.verb, c.resource, c.namespace ?? "", c.subresource ?? ""].every((w) => /^[a-z0-9./-]*$/.test(w))) throw new UsageError(`access check ${c.id} has a field that is not a plain word`);
  }
  return fillTemplate(
    prepared(template, "doctor-probe.sh"),
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
      ACCESS: ACCESS_CHECKS.map((c) => `${c.id} ${reviewKey(reviewAttributes(c))} ${accessWords(c)}`).join("\n"),
      ACCESS_REVIEWS: JSON.stringify({ apiVersion: "v1", kind: "List", items: ACCESS_CHECKS.map((c) => ({ apiVersion: "authorization.k8s.io/v1", kind: "SelfSubjectAccessReview", spec: { resourceAttributes: reviewAttributes(c) } })) }),
      REVIEW_TEMPLATE: `${REVIEW_FIELDS.map((f) => `{.spec.resourceAttributes.${f}}`).join("|")}|{.status.allowed}|{.status.reason}{"\\n"}`,
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

/** A failed check's hint from its id (without `host.`) and the probe's reason word: the words are src/io/doctor-hints.ts's. */
export type HostHint = (probeId: string, reason: string) => string;

const READER = "doctor probe";

/** Parses the probe's stdout into host checks (ids `host.…`, hints filled in by `hint`); DispatchError (exit 5) on a malformed answer. */
export function parseDoctorProbeOutput(stdout: string, hint: HostHint): DoctorCheck[] {
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
    byId.set(id, { id: hostCheckId(id), ok, detail, ...(ok ? {} : { hint: hint(id, reason) }) });
  }
  const missing = PROBE_CHECK_IDS.filter((id) => !byId.has(id));
  if (missing.length > 0) throw malformed(READER, `no answer for ${missing.join(", ")}`);
  return PROBE_CHECK_IDS.map((id) => byId.get(id)!);
}

/** The host checks, each not checked for `why` (the probe could not run). */
export function hostChecksNotRun(why: string): DoctorCheck[] {
  return PROBE_CHECK_IDS.map((id) => ({ id: hostCheckId(id), ok: false, detail: `not checked: ${why}`, hint: "fix the dispatch check first" }));
}
