/** The fake cluster's object store: typed objects with resourceVersions, label selectors, change events. */
import { randomUUID } from "node:crypto";
import { groupVersion, type ResourceType } from "./resources.ts";

/** A Kubernetes object as JSON. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    resourceVersion?: string;
    uid?: string;
    creationTimestamp?: string;
    generation?: number;
    [key: string]: unknown;
  };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
  [key: string]: unknown;
}

/** A store change, as sent to watchers. */
export interface StoreEvent {
  type: "ADDED" | "MODIFIED" | "DELETED";
  resourceType: ResourceType;
  object: KubeObject;
}

/** Does a label set satisfy a selector such as `a=b,c!=d,e,!f`? */
export function matchesLabels(labels: Record<string, string> | undefined, selector: string | null | undefined): boolean {
  if (!selector) return true;
  const have = labels ?? {};
  return selector.split(",").every((raw) => {
    const term = raw.trim();
    if (term === "") return true;
    let m = /^([^!=\s]+)\s*!=\s*(.*)$/.exec(term);
    if (m) return have[m[1]!] !== m[2];
    m = /^([^!=\s]+)\s*==?\s*(.*)$/.exec(term);
    if (m) return have[m[1]!] === m[2];
    if (term.startsWith("!")) return !(term.slice(1) in have);
    return term in have;
  });
}

function keyOf(t: ResourceType, namespace: string | undefined, name: string): string {
  return `${groupVersion(t)}/${t.resource}/${namespace ?? ""}/${name}`;
}

/** Objects by type, namespace and name; every change bumps one global resourceVersion. */
export class Store {
  #objects = new Map<string, { type: ResourceType; object: KubeObject }>();
  #version = 100;
  #listeners = new Set<(e: StoreEvent) => void>();
  /** Pod logs by `namespace/pod/container` (bytes: a log may hold binary chunks). */
  readonly logs = new Map<string, Buffer>();
  #logListeners = new Set<(key: string) => void>();

  /** The current global resourceVersion. */
  get resourceVersion(): string {
    return String(this.#version);
  }

  /** Subscribes to changes; returns the unsubscribe function. */
  subscribe(listener: (e: StoreEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Appends to a container's log and tells the log followers. */
  appendLog(key: string, chunk: string | Uint8Array): void {
    this.logs.set(key, Buffer.concat([this.logs.get(key) ?? Buffer.alloc(0), typeof chunk === "string" ? Buffer.from(chunk) : chunk]));
    for (const l of this.#logListeners) l(key);
  }

  /** Subscribes to log appends (called with the `namespace/pod/container` key); returns the unsubscribe function. */
  subscribeLogs(listener: (key: string) => void): () => void {
    this.#logListeners.add(listener);
    return () => this.#logListeners.delete(listener);
  }

  #emit(type: StoreEvent["type"], resourceType: ResourceType, object: KubeObject): void {
    for (const l of this.#listeners) l({ type, resourceType, object: structuredClone(object) });
  }

  /** A copy of one object, or undefined. */
  get(t: ResourceType, namespace: string | undefined, name: string): KubeObject | undefined {
    const hit = this.#objects.get(keyOf(t, t.namespaced ? namespace : undefined, name));
    return hit ? structuredClone(hit.object) : undefined;
  }

  /** Copies of the objects of a type, optionally in one namespace and matching a label selector. */
  list(t: ResourceType, namespace?: string, labelSelector?: string | null): KubeObject[] {
    const out: KubeObject[] = [];
    for (const { type, object } of this.#objects.values()) {
      if (type !== t) continue;
      if (namespace !== undefined && t.namespaced && object.metadata.namespace !== namespace) continue;
      if (!matchesLabels(object.metadata.labels, labelSelector)) continue;
      out.push(structuredClone(object));
    }
    return out.sort((a, b) => `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`));
  }

  /** Every stored object with its type (copies). */
  all(): { type: ResourceType; object: KubeObject }[] {
    return [...this.#objects.values()].map(({ type, object }) => ({ type, object: structuredClone(object) }));
  }

  /** Inserts a new object, filling server-set metadata; the caller checked it does not exist. */
  create(t: ResourceType, object: KubeObject): KubeObject {
    const obj = structuredClone(object);
    obj.metadata.uid = randomUUID();
    obj.metadata.creationTimestamp = new Date().toISOString().replace(/\.\d+Z$/, "Z");
    obj.metadata.generation = 1;
    obj.metadata.resourceVersion = String(++this.#version);
    if (!t.namespaced) delete obj.metadata.namespace;
    this.#objects.set(keyOf(t, obj.metadata.namespace, obj.metadata.name), { type: t, object: obj });
    this.#emit("ADDED", t, obj);
    return structuredClone(obj);
  }

  /** Replaces an existing object, bumping its resourceVersion (and generation when spec changed). */
  update(t: ResourceType, object: KubeObject): KubeObject {
    const key = keyOf(t, t.namespaced ? object.metadata.namespace : undefined, object.metadata.name);
    const old = this.#objects.get(key);
    if (!old) throw new Error(`update of missing object ${key}`);
    const obj = structuredClone(object);
    for (const f of ["uid", "creationTimestamp"] as const) obj.metadata[f] = old.object.metadata[f];
    const specChanged = JSON.stringify(obj.spec) !== JSON.stringify(old.object.spec);
    obj.metadata.generation = (old.object.metadata.generation ?? 1) + (specChanged ? 1 : 0);
    obj.metadata.resourceVersion = String(++this.#version);
    this.#objects.set(key, { type: t, object: obj });
    this.#emit("MODIFIED", t, obj);
    return structuredClone(obj);
  }

  /** Removes an object (a namespace takes its contents along); returns the removed object. */
  delete(t: ResourceType, namespace: string | undefined, name: string): KubeObject | undefined {
    const key = keyOf(t, t.namespaced ? namespace : undefined, name);
    const hit = this.#objects.get(key);
    if (!hit) return undefined;
    if (t.resource === "namespaces" && t.group === "") {
      for (const [k, v] of this.#objects) {
        if (v.type.namespaced && v.object.metadata.namespace === name) {
          this.#objects.delete(k);
          this.#emit("DELETED", v.type, v.object);
        }
      }
      for (const k of this.logs.keys()) if (k.startsWith(`${name}/`)) this.logs.delete(k);
    }
    this.#objects.delete(key);
    this.#version++;
    this.#emit("DELETED", t, hit.object);
    return structuredClone(hit.object);
  }
}
