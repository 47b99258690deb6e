/** The resource types the fake Kubernetes API serves, and its discovery and OpenAPI v3 documents. */

/** One served resource type. */
export interface ResourceType {
  /** "" for the core group. */
  group: string;
  version: string;
  /** Plural, as in URLs. */
  resource: string;
  kind: string;
  namespaced: boolean;
  shortNames?: string[];
  /** Subresources served, e.g. ["log"]. */
  subresources?: string[];
  /** The verbs discovery lists. @default every verb of a stored resource */
  verbs?: readonly string[];
}

/** Every resource type the fake serves. */
export const RESOURCE_TYPES: readonly ResourceType[] = [
  { group: "", version: "v1", resource: "namespaces", kind: "Namespace", namespaced: false, shortNames: ["ns"] },
  { group: "", version: "v1", resource: "pods", kind: "Pod", namespaced: true, shortNames: ["po"], subresources: ["log"] },
  { group: "", version: "v1", resource: "services", kind: "Service", namespaced: true, shortNames: ["svc"] },
  { group: "", version: "v1", resource: "configmaps", kind: "ConfigMap", namespaced: true, shortNames: ["cm"] },
  { group: "", version: "v1", resource: "serviceaccounts", kind: "ServiceAccount", namespaced: true, shortNames: ["sa"] },
  { group: "", version: "v1", resource: "secrets", kind: "Secret", namespaced: true },
  { group: "apps", version: "v1", resource: "deployments", kind: "Deployment", namespaced: true, shortNames: ["deploy"] },
  { group: "apps", version: "v1", resource: "statefulsets", kind: "StatefulSet", namespaced: true, shortNames: ["sts"] },
  { group: "rbac.authorization.k8s.io", version: "v1", resource: "rolebindings", kind: "RoleBinding", namespaced: true },
  { group: "rbac.authorization.k8s.io", version: "v1", resource: "roles", kind: "Role", namespaced: true },
  { group: "rbac.authorization.k8s.io", version: "v1", resource: "clusterroles", kind: "ClusterRole", namespaced: false },
  { group: "rbac.authorization.k8s.io", version: "v1", resource: "clusterrolebindings", kind: "ClusterRoleBinding", namespaced: false },
  { group: "admissionregistration.k8s.io", version: "v1", resource: "validatingadmissionpolicies", kind: "ValidatingAdmissionPolicy", namespaced: false },
  { group: "admissionregistration.k8s.io", version: "v1", resource: "validatingadmissionpolicybindings", kind: "ValidatingAdmissionPolicyBinding", namespaced: false },
  // Access reviews are answered, never stored (fake-api.ts: accessReview); `kubectl create -f` of a list of them is
  // how the doctor probe asks all its questions in one kubectl.
  { group: "authorization.k8s.io", version: "v1", resource: "selfsubjectaccessreviews", kind: "SelfSubjectAccessReview", namespaced: false, verbs: ["create"] },
  { group: "tekton.dev", version: "v1", resource: "pipelines", kind: "Pipeline", namespaced: true },
  { group: "tekton.dev", version: "v1", resource: "tasks", kind: "Task", namespaced: true },
  { group: "tekton.dev", version: "v1", resource: "pipelineruns", kind: "PipelineRun", namespaced: true, shortNames: ["pr", "prs"] },
  { group: "tekton.dev", version: "v1", resource: "taskruns", kind: "TaskRun", namespaced: true, shortNames: ["tr", "trs"] },
];

/** "v1" or "group/version". */
export function groupVersion(t: { group: string; version: string }): string {
  return t.group === "" ? t.version : `${t.group}/${t.version}`;
}

/** Finds a resource type by group, version and plural. */
export function findType(group: string, version: string, resource: string): ResourceType | undefined {
  return RESOURCE_TYPES.find((t) => t.group === group && t.version === version && t.resource === resource);
}

const VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];

/** `/api`: the legacy core versions. */
export function coreVersions(serverAddress: string): object {
  return { kind: "APIVersions", versions: ["v1"], serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress }] };
}

/** `/apis`: the named groups. */
export function groupList(): object {
  const groups = [...new Set(RESOURCE_TYPES.filter((t) => t.group !== "").map((t) => t.group))].map((name) => {
    const gv = { groupVersion: `${name}/v1`, version: "v1" };
    return { name, versions: [gv], preferredVersion: gv };
  });
  return { kind: "APIGroupList", apiVersion: "v1", groups };
}

/** `/api/v1` or `/apis/<group>/<version>`: the resources of one group version, or undefined. */
export function resourceList(group: string, version: string): object | undefined {
  const types = RESOURCE_TYPES.filter((t) => t.group === group && t.version === version);
  if (types.length === 0) return undefined;
  const resources = types.flatMap((t) => [
    {
      name: t.resource,
      singularName: t.kind.toLowerCase(),
      namespaced: t.namespaced,
      kind: t.kind,
      verbs: t.verbs ?? VERBS,
      ...(t.shortNames ? { shortNames: t.shortNames } : {}),
      ...(t.group === "tekton.dev" ? { categories: ["tekton", "tekton-pipelines"] } : {}),
    },
    ...(t.subresources ?? []).map((s) => ({ name: `${t.resource}/${s}`, singularName: "", namespaced: t.namespaced, kind: t.kind, verbs: ["get"] })),
  ]);
  return { kind: "APIResourceList", apiVersion: "v1", groupVersion: groupVersion({ group, version }), resources };
}

/** `/openapi/v3`: one entry per group version; URLs carry the client's path prefix. */
export function openApiRoot(prefix: string): object {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const gv of new Set(RESOURCE_TYPES.map((t) => groupVersion(t)))) {
    const key = gv === "v1" ? "api/v1" : `apis/${gv}`;
    paths[key] = { serverRelativeURL: `${prefix}/openapi/v3/${key}?hash=fake0001` };
  }
  return { paths };
}

/**
 * `/openapi/v3/<api/v1|apis/g/v>`: just enough for kubectl's field-validation probe
 * (a PATCH operation tagged with the GVK that accepts `fieldValidation`), so `create -f`
 * leaves validation to the server instead of refusing to run.
 */
export function openApiGroupVersion(group: string, version: string): object | undefined {
  const types = RESOURCE_TYPES.filter((t) => t.group === group && t.version === version);
  if (types.length === 0) return undefined;
  const paths: Record<string, object> = {};
  const schemas: Record<string, object> = {};
  for (const t of types) {
    const base = t.group === "" ? `/api/${t.version}` : `/apis/${t.group}/${t.version}`;
    const path = t.namespaced ? `${base}/namespaces/{namespace}/${t.resource}/{name}` : `${base}/${t.resource}/{name}`;
    const gvk = { group: t.group, version: t.version, kind: t.kind };
    const op = (action: string) => ({
      "x-kubernetes-action": action,
      "x-kubernetes-group-version-kind": gvk,
      parameters: [{ name: "fieldValidation", in: "query", schema: { type: "string", uniqueItems: true } }],
      responses: { "200": { description: "OK" } },
    });
    paths[path] = { get: { ...op("get"), parameters: [] }, put: op("put"), patch: op("patch"), delete: { ...op("delete"), parameters: [] } };
    schemas[`fake.${t.group || "core"}.${t.version}.${t.kind}`] = {
      type: "object",
      "x-kubernetes-group-version-kind": [gvk],
      "x-kubernetes-preserve-unknown-fields": true,
    };
  }
  return { openapi: "3.0.0", info: { title: "fake-kube", version: "v1.32.0" }, paths, components: { schemas } };
}

/** `/version`: a v1.32 server (this machine's kubectl picks its client version from it). */
export const VERSION_INFO = {
  major: "1",
  minor: "32",
  gitVersion: "v1.32.4+fake",
  gitCommit: "0000000000000000000000000000000000000000",
  gitTreeState: "clean",
  buildDate: "2025-01-01T00:00:00Z",
  goVersion: "go1.23.0",
  compiler: "gc",
  platform: "linux/amd64",
};
