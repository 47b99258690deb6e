/**
 * A fake Kubernetes API server (plus a fake Tekton controller) that the real `kubectl` talks to.
 *
 * Usage (tests and the end-to-end sandbox):
 *
 *   const kube = await startFakeKube({ defaultOutcome: { kind: "succeed", delayMs: 200 } });
 *   const kubeconfig = await kube.writeKubeconfig(join(tmp, "kubeconfig"), "test-a");
 *   kube.setOutcome("my-run-id", { kind: "fail", reason: "Failed", message: "e2e assertion failed" });
 *   const before = kube.snapshot();            // production objects → resourceVersion
 *   …run kubectl / the runner with KUBECONFIG=kubeconfig and KUBECACHEDIR=<tmp>…
 *   assert.deepEqual(kube.snapshot(), before);
 *   kube.writes({ client: "test-a" });         // every POST/PUT/PATCH/DELETE received
 *   await kube.stop();
 *
 * Exports: `startFakeKube(options?): Promise<FakeKube>`, `PRODUCTION_NAMESPACES`, and the types `FakeKube`, `FakeKubeOptions`,
 * `WriteRecord`, `Outcome` (from fake-tekton.ts), `KubeObject` (from store.ts).
 *
 * - Listens on 127.0.0.1, port 0. A kubeconfig's server URL is `http://127.0.0.1:<port>/c/<client>`:
 *   client-go sends no credentials over plain http, so the path prefix tells callers apart
 *   (`client` is recorded with every write). Requests without a prefix are served too.
 * - Serves `/version` (v1.32), legacy discovery for `v1`, `apps/v1`, `rbac.authorization.k8s.io/v1`
 *   and `tekton.dev/v1`, a minimal `/openapi/v3`, and for every type in resources.ts: get, list
 *   (labelSelector, fieldSelector=metadata.name), watch, create (JSON), replace, patch (merge and
 *   strategic merge treated as JSON merge patch), delete, deletecollection; `pods/<name>/log`.
 *   Deleting a namespace removes its contents at once. Errors are `Status` objects. Protobuf bodies
 *   (e.g. `kubectl create namespace`) are refused with 415.
 * - Starts with namespaces default, kube-system, unidesk, unidesk-dev (Deployments, Services, a
 *   PostgreSQL StatefulSet: the "production" objects), unidesk-ci (ServiceAccount, Pipeline).
 * - PipelineRun outcomes: `setOutcome(key, o)` for one run (key = runId label or PipelineRun name)
 *   wins over `setDefaultOutcome(o)`; the default default is `{ kind: "succeed", delayMs: 300 }`.
 *   A PipelineRun whose `spec.pipelineRef.name` has no Pipeline in its namespace fails with
 *   CouldntGetPipeline whatever the outcome (the seed has unidesk-ci/unidesk-dev-namespace-e2e).
 *   `spec.status: Cancelled` (patch) ends a running PipelineRun with reason Cancelled.
 * - `kubectl auth can-i` works: SelfSubjectAccessReviews are answered allowed unless a rule given to
 *   `setDeniedAccess(rules)` matches; they change nothing, so they are not writes (`accessReviews()`
 *   lists them). The fake enforces no RBAC on other requests. `requests()` logs every request.
 *   `{ kind: "tasks", tasks: scriptedTasks({ … }) }` runs tasks in sequence with logs growing over time.
 * - `pods/<name>/log?follow=true` (`kubectl logs -f`) streams: what the log holds, then each append as it
 *   happens (chunked, kept open), closed once the container has terminated (or the pod is gone).
 *   `podLog(ns, pod, container)` is the whole log as the fake holds it, for comparing with saved files.
 */
import { writeFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { FakeTekton, type Outcome } from "./fake-tekton.ts";
import { PRODUCTION_NAMESPACES, seedObjects } from "./production.ts";
import { coreVersions, findType, groupList, groupVersion, openApiGroupVersion, openApiRoot, RESOURCE_TYPES, resourceList, VERSION_INFO, type ResourceType } from "./resources.ts";
import { matchesLabels, Store, type KubeObject, type StoreEvent } from "./store.ts";

export type { Outcome, StepScript, TaskScript } from "./fake-tekton.ts";
export { BINARY_CHUNK, scriptedTasks } from "./fake-tekton.ts";
export { PRODUCTION_NAMESPACES } from "./production.ts";
export type { KubeObject } from "./store.ts";

/** One write request the fake received. */
export interface WriteRecord {
  /** The kubeconfig's client name (path prefix), "" without one. */
  client: string;
  method: string;
  /** Request path without the client prefix and query. */
  path: string;
  /** e.g. "pipelineruns", "namespaces". */
  resource: string;
  /** The namespace written to; for a namespace object, its own name. */
  namespace: string | undefined;
  name: string | undefined;
  /** HTTP status answered. */
  code: number;
}

/** What a SelfSubjectAccessReview asked (its spec.resourceAttributes), or a rule matching such questions. */
export interface AccessAttributes {
  verb: string;
  /** Plural resource, e.g. "namespaces", "pipelineruns". */
  resource: string;
  /** "" for the core group. */
  group?: string;
  subresource?: string;
  namespace?: string;
  name?: string;
}

/** Options of {@link startFakeKube}. */
export interface FakeKubeOptions {
  /** Outcome of PipelineRuns without an override. @default { kind: "succeed", delayMs: 300 } */
  defaultOutcome?: Outcome;
  /** Pipeline task names the controller creates TaskRuns for. @default DEFAULT_TASKS */
  tasks?: string[];
}

/**
 * A fault switch of the API itself (the soak's Kubernetes faults): requests matching `methods` (default all) and
 * `resources` (plural names, default all; discovery and /version match only without `resources`) are answered
 * `status` (a `Status` body; 409 as a Conflict) and/or delayed `delayMs` first. `count` limits how many
 * requests it hits (default: until cleared). Access reviews are never hit.
 */
export interface ApiFault {
  status?: number;
  delayMs?: number;
  methods?: string[];
  resources?: string[];
  count?: number;
}

/** A running fake cluster. */
export interface FakeKube {
  /** The TCP port on 127.0.0.1. */
  readonly port: number;
  /** `http://127.0.0.1:<port>/c/<client>` (no prefix when client is ""). */
  serverUrl(client?: string): string;
  /** Writes a kubeconfig pointing at this server for `client` (default "default"); returns the path. */
  writeKubeconfig(path: string, client?: string): Promise<string>;
  /** Outcome for PipelineRuns without an override. */
  setDefaultOutcome(outcome: Outcome): void;
  /** Outcome for one run: key is its runId (label unidesk.ci/run-id) or PipelineRun name. */
  setOutcome(key: string, outcome: Outcome): void;
  /** Writes received (POST/PUT/PATCH/DELETE), oldest first, optionally of one client. */
  writes(filter?: { client?: string }): WriteRecord[];
  /** `<apiVersion>/<resource>/<namespace>/<name>` → resourceVersion of every object in `namespaces`, namespaces included. */
  snapshot(namespaces?: readonly string[]): Record<string, string>;
  /** A copy of one object (namespace undefined for cluster-scoped), or undefined. */
  getObject(apiVersion: string, resource: string, namespace: string | undefined, name: string): KubeObject | undefined;
  /** Copies of objects of a type, optionally in one namespace and by label selector. */
  listObjects(apiVersion: string, resource: string, namespace?: string, labelSelector?: string): KubeObject[];
  /** Stores an object directly (not recorded as a write), e.g. a pre-existing namespace. */
  createObject(object: KubeObject): KubeObject;
  /** Access reviews answered "no" from now on: each rule matches a review whose given fields all equal it ([] allows all). */
  setDeniedAccess(rules: AccessAttributes[], reason?: string): void;
  /** Every request received (reads, writes and access reviews), oldest first. */
  requests(): { client: string; method: string; path: string }[];
  /** Every SelfSubjectAccessReview asked so far, with its answer. */
  accessReviews(): (AccessAttributes & { allowed: boolean })[];
  /** Removes an object directly (not recorded as a write), e.g. the Pipeline; true when it existed. */
  deleteObject(apiVersion: string, resource: string, namespace: string | undefined, name: string): boolean;
  /** Breaks every open `logs -f` stream (its connection is destroyed mid-response); returns how many. */
  dropLogStreams(): number;
  /** Sets (or with `null` clears) the API fault switch; see {@link ApiFault}. */
  setApiFault(fault: ApiFault | null): void;
  /** How many requests the fault switch has hit so far. */
  apiFaultHits(): number;
  /** Breaks every open watch stream and `logs -f` stream (connections destroyed mid-response); returns how many. */
  dropWatches(): number;
  /** How many watch and `logs -f` streams are open now. */
  openWatches(): number;
  /** Cancels a PipelineRun from outside (someone's `tkn pr cancel`): spec.status Cancelled, not recorded as a write of ours. */
  cancelFromOutside(namespace: string, name: string): boolean;
  /** A container's whole log (bytes), or undefined when the fake holds none (e.g. its namespace is gone). */
  podLog(namespace: string, pod: string, container: string): Buffer | undefined;
  /** Closes watches, connections and timers. */
  stop(): Promise<void>;
}

function splitApiVersion(apiVersion: string): [string, string] {
  const i = apiVersion.indexOf("/");
  return i < 0 ? ["", apiVersion] : [apiVersion.slice(0, i), apiVersion.slice(i + 1)];
}

function typeOf(apiVersion: string, resource: string): ResourceType {
  const [g, v] = splitApiVersion(apiVersion);
  const t = findType(g, v, resource);
  if (!t) throw new Error(`fake kube does not serve ${apiVersion} ${resource}`);
  return t;
}

const DENIED_REASON = "denied by the fake cluster's setDeniedAccess";
const PROTOBUF_MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

function isProtobuf(body: Buffer): boolean {
  return body.subarray(0, 4).equals(PROTOBUF_MAGIC);
}

/** The length-delimited fields of one protobuf message, by field number (varint fields are skipped). */
function protobufFields(bytes: Buffer): Map<number, Buffer> {
  const out = new Map<number, Buffer>();
  let i = 0;
  const varint = () => {
    let value = 0;
    for (let shift = 0; ; shift += 7) {
      const b = bytes[i++]!;
      value += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return value;
    }
  };
  while (i < bytes.length) {
    const key = varint();
    const wire = key & 7;
    if (wire === 0) varint();
    else if (wire === 2) {
      const length = varint();
      out.set(Math.floor(key / 8), bytes.subarray(i, i + length));
      i += length;
    } else if (wire === 1) i += 8;
    else if (wire === 5) i += 4;
    else throw new SyntaxError(`protobuf wire type ${wire} is not handled`);
  }
  return out;
}

/** spec.resourceAttributes of a protobuf SelfSubjectAccessReview (runtime.Unknown → raw → spec → resourceAttributes). */
function accessAttributesFromProtobuf(body: Buffer): Record<string, string> {
  const raw = protobufFields(body.subarray(4)).get(2) ?? Buffer.alloc(0);
  const spec = protobufFields(raw).get(2) ?? Buffer.alloc(0);
  const attributes = protobufFields(protobufFields(spec).get(1) ?? Buffer.alloc(0));
  const names = ["", "namespace", "verb", "group", "version", "resource", "subresource", "name"];
  const out: Record<string, string> = {};
  for (const [n, v] of attributes) if (names[n]) out[names[n]!] = v.toString("utf8");
  return out;
}

/** RFC 7386 JSON merge patch. */
function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== "object" || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> = target !== null && typeof target === "object" && !Array.isArray(target) ? { ...(target as object) } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

function status(code: number, reason: string, message: string, details?: object): object {
  return { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason, details, code };
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

/** Starts a fake cluster on 127.0.0.1 (free port). */
export async function startFakeKube(options: FakeKubeOptions = {}): Promise<FakeKube> {
  const store = new Store();
  for (const o of seedObjects()) store.create(RESOURCE_TYPES.find((t) => groupVersion(t) === o.apiVersion && t.kind === o.kind)!, o as KubeObject);
  const tekton = new FakeTekton(store, options.defaultOutcome ?? { kind: "succeed", delayMs: 300 }, options.tasks);
  const writes: WriteRecord[] = [];
  let denied: AccessAttributes[] = [];
  let deniedReason = DENIED_REASON;
  const reviews: (AccessAttributes & { allowed: boolean })[] = [];
  const received: { client: string; method: string; path: string }[] = [];
  const watches = new Set<ServerResponse>();
  const followers = new Set<ServerResponse>();
  let port = 0;
  let apiFault: (ApiFault & { left: number }) | null = null;
  let apiFaultHits = 0;

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const delayMs = faultDelay(req);
      if (delayMs === "status") return;
      if (delayMs > 0) return void setTimeout(() => !res.destroyed && serve(), delayMs);
      serve();
    });
    const serve = () => {
      try {
        handle(req, res, Buffer.concat(chunks));
      } catch (err) {
        if (err instanceof SyntaxError) send(res, 400, status(400, "BadRequest", `the request body is not JSON: ${err.message}`));
        else send(res, 500, status(500, "InternalError", `fake kube: ${String(err)}`));
      }
    };

    /** Applies the API fault switch: "status" when it answered, else the delay before serving. */
    function faultDelay(r: IncomingMessage): number | "status" {
      const f = apiFault;
      if (!f || f.left <= 0) return 0;
      const path = new URL(r.url ?? "/", "http://fake").pathname;
      if (path.endsWith("/selfsubjectaccessreviews")) return 0;
      if (f.methods && !f.methods.includes(r.method ?? "GET")) return 0;
      if (f.resources && !f.resources.some((res) => path.split("/").includes(res))) return 0;
      f.left--;
      apiFaultHits++;
      if (f.status === undefined) return f.delayMs ?? 0;
      const code = f.status;
      const answer = () => send(res, code, code === 409 ? status(409, "Conflict", "Operation cannot be fulfilled: the object has been modified (fake fault switch)") : status(code, code === 503 ? "ServiceUnavailable" : "InternalError", `fake kube fault switch: ${code}`));
      if (f.delayMs) setTimeout(answer, f.delayMs);
      else answer();
      return "status";
    }
  });

  function send(res: ServerResponse, code: number, body: object | string, contentType = "application/json"): void {
    if (res.headersSent) return;
    res.writeHead(code, { "content-type": contentType });
    // Logs travel as latin1 strings so their bytes (binary chunks included) reach the client unchanged.
    res.end(typeof body === "string" ? Buffer.from(body, contentType === "text/plain" ? "latin1" : "utf8") : JSON.stringify(body));
  }

  function handle(req: IncomingMessage, res: ServerResponse, body: Buffer): void {
    const url = new URL(req.url ?? "/", "http://fake");
    const m = /^\/c\/([^/]+)(\/.*)?$/.exec(url.pathname);
    const client = m ? m[1]! : "";
    const prefix = m ? `/c/${client}` : "";
    const path = m ? (m[2] ?? "/") : url.pathname;
    const method = req.method ?? "GET";
    const parts = path.split("/").filter(Boolean);
    received.push({ client, method, path });

    if (method === "GET") {
      if (path === "/version") return send(res, 200, VERSION_INFO);
      if (path === "/api") return send(res, 200, coreVersions(`127.0.0.1:${port}`));
      if (path === "/apis") return send(res, 200, groupList());
      if (path === "/openapi/v3") return send(res, 200, openApiRoot(prefix));
      if (parts[0] === "openapi" && parts[1] === "v3") {
        const doc = parts[2] === "api" ? openApiGroupVersion("", parts[3] ?? "") : openApiGroupVersion(parts[3] ?? "", parts[4] ?? "");
        return doc ? send(res, 200, doc) : send(res, 404, status(404, "NotFound", "openapi document not found"));
      }
      if (parts[0] === "api" && parts.length === 2) {
        const list = resourceList("", parts[1]!);
        if (list) return send(res, 200, list);
      }
      if (parts[0] === "apis" && parts.length === 3) {
        const list = resourceList(parts[1]!, parts[2]!);
        if (list) return send(res, 200, list);
      }
    }

    if (method === "POST" && path === "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews") return accessReview(res, body);

    // /api/v1/... or /apis/<group>/<version>/...
    const [group, version, rest] = parts[0] === "api" ? ["", parts[1] ?? "", parts.slice(2)] : parts[0] === "apis" ? [parts[1] ?? "", parts[2] ?? "", parts.slice(3)] : ["", "", []];
    let namespace: string | undefined;
    let segs = rest;
    if (segs[0] === "namespaces" && segs.length >= 3 && findType(group, version, segs[2]!)?.namespaced) {
      namespace = segs[1];
      segs = segs.slice(2);
    }
    const type = segs[0] ? findType(group, version, segs[0]) : undefined;
    if (!type) return send(res, 404, status(404, "NotFound", `the server could not find the requested resource (${method} ${path})`));
    const name = segs[1];
    const sub = segs[2];
    const isWrite = method !== "GET";
    let writtenName = name; // a POST names its object in the body
    const record = (code: number) => {
      if (isWrite) writes.push({ client, method, path, resource: type.resource, namespace: type.resource === "namespaces" ? writtenName : namespace, name: writtenName, code });
    };
    const reply = (code: number, payload: object | string, contentType?: string) => {
      record(code);
      send(res, code, payload, contentType);
    };
    const qualified = type.group ? `${type.resource}.${type.group}` : type.resource;
    const notFound = (n: string) => reply(404, status(404, "NotFound", `${qualified} "${n}" not found`, { name: n, group: type.group, kind: type.resource }));
    const ct = req.headers["content-type"] ?? "";
    if (isWrite && body.length > 0 && !ct.includes("json")) {
      return reply(415, status(415, "UnsupportedMediaType", `the fake API accepts JSON bodies only, got ${ct}`));
    }
    const json = (): KubeObject => JSON.parse(body.toString("utf8") || "{}") as KubeObject;
    const nsMissing = () => namespace !== undefined && !store.get(typeOf("v1", "namespaces"), undefined, namespace);

    if (method === "GET" && name && sub === "log" && type.resource === "pods") {
      const pod = store.get(type, namespace, name);
      if (!pod) return notFound(name);
      const containers = [...((pod.spec?.["initContainers"] ?? []) as { name: string }[]), ...((pod.spec?.["containers"] ?? []) as { name: string }[])].map((c) => c.name);
      const wanted = url.searchParams.get("container") ?? (containers.length === 1 ? containers[0] : undefined);
      if (!wanted) return reply(400, status(400, "BadRequest", `a container name must be specified for pod ${name}, choose one of: [${containers.join(" ")}]`));
      if (!containers.includes(wanted)) return reply(400, status(400, "BadRequest", `container ${wanted} is not valid for pod ${name}`));
      const key = `${namespace}/${name}/${wanted}`;
      const follow = url.searchParams.get("follow");
      // limitBytes (kubectl logs --limit-bytes): at most that many bytes, then the answer or the stream ends, as the kubelet does.
      const limit = Number(url.searchParams.get("limitBytes") ?? Infinity);
      if (follow === "true" || follow === "1") return followLog(res, type, namespace!, name, wanted, key, limit);
      return reply(200, (store.logs.get(key) ?? Buffer.alloc(0)).subarray(0, limit).toString("latin1"), "text/plain");
    }
    if (sub) return reply(404, status(404, "NotFound", `subresource ${sub} is not served`));

    if (method === "GET" && !name) {
      const labelSelector = url.searchParams.get("labelSelector");
      const field = /^metadata\.name=(.+)$/.exec(url.searchParams.get("fieldSelector") ?? "");
      const pick = (o: KubeObject) => matchesLabels(o.metadata.labels, labelSelector) && (!field || o.metadata.name === field[1]);
      const watch = url.searchParams.get("watch");
      if (watch === "1" || watch === "true") return startWatch(res, type, namespace, pick);
      const items = store.list(type, namespace).filter(pick);
      return reply(200, { kind: `${type.kind}List`, apiVersion: groupVersion(type), metadata: { resourceVersion: store.resourceVersion }, items });
    }
    if (method === "GET") {
      const obj = store.get(type, namespace, name!);
      return obj ? reply(200, obj) : notFound(name!);
    }
    if (method === "POST" && !name) {
      const obj = json();
      if (obj.kind !== type.kind) return reply(400, status(400, "BadRequest", `expected kind ${type.kind}, got ${obj.kind}`));
      obj.metadata ??= { name: "" };
      if (!obj.metadata.name && typeof obj.metadata["generateName"] === "string") obj.metadata.name = `${obj.metadata["generateName"]}${Math.random().toString(36).slice(2, 7)}`;
      const n = obj.metadata.name;
      writtenName = n;
      const pattern = type.resource === "namespaces" ? DNS_LABEL : DNS_SUBDOMAIN;
      const max = type.resource === "namespaces" ? 63 : 253;
      if (!n || !pattern.test(n) || n.length > max) {
        return reply(422, status(422, "Invalid", `${type.kind} "${n}" is invalid: metadata.name: Invalid value: "${n}": must be a lowercase RFC 1123 name of at most ${max} characters`, { name: n, kind: type.kind }));
      }
      if (type.namespaced) {
        if (obj.metadata.namespace && obj.metadata.namespace !== namespace) return reply(400, status(400, "BadRequest", "the namespace of the provided object does not match the namespace sent on the request"));
        obj.metadata.namespace = namespace;
        if (nsMissing()) return reply(404, status(404, "NotFound", `namespaces "${namespace}" not found`, { name: namespace, kind: "namespaces" }));
      }
      if (store.get(type, namespace, n)) return reply(409, status(409, "AlreadyExists", `${qualified} "${n}" already exists`, { name: n, group: type.group, kind: type.resource }));
      if (type.resource === "namespaces") {
        obj.metadata.labels = { ...(obj.metadata.labels ?? {}), "kubernetes.io/metadata.name": n };
        obj.spec = { finalizers: ["kubernetes"] };
        obj.status = { phase: "Active" };
      }
      if (url.searchParams.get("dryRun") === "All") return reply(201, obj);
      const created = store.create(type, obj);
      reply(201, created);
      if (type.resource === "pipelineruns") tekton.onCreate(created);
      return;
    }
    if ((method === "PUT" || method === "PATCH") && name) {
      const current = store.get(type, namespace, name);
      if (!current) return notFound(name);
      let next: KubeObject;
      if (method === "PUT") {
        next = json();
        const rv = next.metadata?.resourceVersion;
        if (rv && rv !== current.metadata.resourceVersion) return reply(409, status(409, "Conflict", `Operation cannot be fulfilled on ${qualified} "${name}": the object has been modified; please apply your changes to the latest version and try again`));
      } else {
        if (!ct.includes("merge-patch")) return reply(415, status(415, "UnsupportedMediaType", `the fake API supports merge and strategic-merge patches only, got ${ct}`));
        next = mergePatch(current, json()) as KubeObject;
      }
      next.metadata = { ...next.metadata, name, ...(type.namespaced ? { namespace } : {}) };
      const updated = store.update(type, next);
      reply(200, updated);
      if (type.resource === "pipelineruns") tekton.onUpdate(updated);
      return;
    }
    if (method === "DELETE" && name) {
      const gone = store.delete(type, namespace, name);
      if (!gone) return notFound(name);
      if (type.resource === "namespaces") gone.status = { phase: "Terminating" };
      return reply(200, gone);
    }
    if (method === "DELETE") {
      const labelSelector = url.searchParams.get("labelSelector");
      const items = store.list(type, namespace, labelSelector);
      for (const o of items) store.delete(type, o.metadata.namespace, o.metadata.name);
      return reply(200, { kind: `${type.kind}List`, apiVersion: groupVersion(type), metadata: {}, items });
    }
    return reply(405, status(405, "MethodNotAllowed", `${method} is not supported on ${path}`));
  }

  function accessReview(res: ServerResponse, body: Buffer): void {
    // kubectl sends built-in types as protobuf ("k8s\0" + runtime.Unknown); JSON is accepted too.
    const review = (isProtobuf(body) ? { spec: { resourceAttributes: accessAttributesFromProtobuf(body) } } : JSON.parse(body.toString("utf8") || "{}")) as { spec?: { resourceAttributes?: Record<string, string | undefined> } };
    const a = review.spec?.resourceAttributes ?? {};
    const asked: AccessAttributes = { verb: a["verb"] ?? "", resource: a["resource"] ?? "", group: a["group"] ?? "", subresource: a["subresource"] ?? "", namespace: a["namespace"] ?? "", name: a["name"] ?? "" };
    const matches = (rule: AccessAttributes) => (Object.keys(rule) as (keyof AccessAttributes)[]).every((k) => rule[k] === undefined || rule[k] === asked[k]);
    const allowed = !denied.some(matches);
    reviews.push({ ...asked, allowed });
    send(res, 201, { kind: "SelfSubjectAccessReview", apiVersion: "authorization.k8s.io/v1", metadata: {}, spec: review.spec ?? {}, status: { allowed, ...(allowed ? {} : { reason: deniedReason }) } });
  }

  function startWatch(res: ServerResponse, type: ResourceType, namespace: string | undefined, pick: (o: KubeObject) => boolean): void {
    // kubectl blocks until the response headers arrive, so flush them before any event.
    res.writeHead(200, { "content-type": "application/json", "transfer-encoding": "chunked" });
    res.flushHeaders();
    watches.add(res);
    const emit = (e: { type: string; object: KubeObject }) => res.write(`${JSON.stringify(e)}\n`);
    for (const o of store.list(type, namespace).filter(pick)) emit({ type: "ADDED", object: o });
    const unsubscribe = store.subscribe((e: StoreEvent) => {
      if (e.resourceType !== type) return;
      if (namespace !== undefined && e.object.metadata.namespace !== namespace) return;
      if (pick(e.object)) emit(e);
    });
    res.on("close", () => {
      unsubscribe();
      watches.delete(res);
    });
  }

  /** `kubectl logs -f`: the log so far, then every append, until the container terminated or the pod is gone. */
  function followLog(res: ServerResponse, podType: ResourceType, namespace: string, pod: string, container: string, key: string, limit: number): void {
    res.writeHead(200, { "content-type": "text/plain", "transfer-encoding": "chunked" });
    res.flushHeaders();
    watches.add(res);
    followers.add(res);
    let sent = 0;
    const flush = () => {
      const log = store.logs.get(key);
      if (log && log.length > sent && sent < limit) {
        const end = Math.min(log.length, limit);
        res.write(log.subarray(sent, end));
        sent = end;
        if (sent >= limit) queueMicrotask(close);
      }
    };
    const close = () => {
      flush();
      unsubscribeLogs();
      unsubscribe();
      watches.delete(res);
      followers.delete(res);
      res.end();
    };
    const isTerminated = (p: KubeObject | undefined) => {
      if (!p) return true;
      const statuses = [...((p.status?.["initContainerStatuses"] ?? []) as object[]), ...((p.status?.["containerStatuses"] ?? []) as object[])] as { name: string; state?: { terminated?: object } }[];
      return statuses.some((s) => s.name === container && s.state?.terminated !== undefined);
    };
    const unsubscribeLogs = store.subscribeLogs((k) => k === key && flush());
    const unsubscribe = store.subscribe((e: StoreEvent) => {
      if (e.resourceType !== podType || e.object.metadata.namespace !== namespace || e.object.metadata.name !== pod) return;
      if (e.type === "DELETED" || isTerminated(e.object)) close();
    });
    res.on("close", () => {
      unsubscribeLogs();
      unsubscribe();
      watches.delete(res);
      followers.delete(res);
    });
    flush();
    if (isTerminated(store.get(podType, namespace, pod))) close();
  }

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;

  const kube: FakeKube = {
    port,
    serverUrl: (client = "default") => `http://127.0.0.1:${port}${client ? `/c/${client}` : ""}`,
    async writeKubeconfig(path, client = "default") {
      const yaml = [
        "apiVersion: v1",
        "kind: Config",
        "clusters:",
        `- name: fake`,
        `  cluster:`,
        `    server: ${kube.serverUrl(client)}`,
        "users:",
        "- name: fake",
        "  user: {}",
        "contexts:",
        "- name: fake",
        "  context:",
        "    cluster: fake",
        "    user: fake",
        "current-context: fake",
        "",
      ].join("\n");
      await writeFile(path, yaml, { mode: 0o600 });
      return path;
    },
    setDefaultOutcome: (o) => tekton.setDefaultOutcome(o),
    setOutcome: (k, o) => tekton.setOutcome(k, o),
    writes: (filter = {}) => writes.filter((w) => filter.client === undefined || w.client === filter.client).map((w) => ({ ...w })),
    snapshot(namespaces = PRODUCTION_NAMESPACES) {
      const out: Record<string, string> = {};
      for (const { type, object } of store.all()) {
        const ns = type.resource === "namespaces" ? object.metadata.name : object.metadata.namespace;
        if (ns === undefined || !namespaces.includes(ns)) continue;
        out[`${groupVersion(type)}/${type.resource}/${object.metadata.namespace ?? ""}/${object.metadata.name}`] = object.metadata.resourceVersion ?? "";
      }
      return out;
    },
    getObject: (apiVersion, resource, namespace, name) => store.get(typeOf(apiVersion, resource), namespace, name),
    listObjects: (apiVersion, resource, namespace, labelSelector) => store.list(typeOf(apiVersion, resource), namespace, labelSelector),
    createObject(object) {
      const t = RESOURCE_TYPES.find((r) => groupVersion(r) === object.apiVersion && r.kind === object.kind);
      if (!t) throw new Error(`fake kube does not serve ${object.apiVersion} ${object.kind}`);
      return store.create(t, object);
    },
    setDeniedAccess: (rules, reason = DENIED_REASON) => {
      denied = rules.map((r) => ({ ...r }));
      deniedReason = reason;
    },
    requests: () => received.map((r) => ({ ...r })),
    accessReviews: () => reviews.map((r) => ({ ...r })),
    deleteObject: (apiVersion, resource, namespace, name) => store.delete(typeOf(apiVersion, resource), namespace, name) !== undefined,
    dropLogStreams() {
      const n = followers.size;
      for (const res of followers) res.socket?.destroy();
      return n;
    },
    setApiFault: (fault) => void (apiFault = fault ? { ...fault, left: fault.count ?? Number.POSITIVE_INFINITY } : null),
    apiFaultHits: () => apiFaultHits,
    dropWatches() {
      const n = watches.size;
      for (const res of watches) res.socket?.destroy();
      return n;
    },
    openWatches: () => watches.size,
    cancelFromOutside(namespace, name) {
      const t = typeOf("tekton.dev/v1", "pipelineruns");
      const pr = store.get(t, namespace, name);
      if (!pr) return false;
      pr.spec = { ...pr.spec, status: "Cancelled" };
      tekton.onUpdate(store.update(t, pr));
      return true;
    },
    podLog: (namespace, pod, container) => store.logs.get(`${namespace}/${pod}/${container}`),
    async stop() {
      tekton.stop();
      for (const w of watches) w.end();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return kube;
}
