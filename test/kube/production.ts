/** The "production" objects every fake cluster starts with; a run must never change them. */

/** Namespaces a run must never write to. */
export const PRODUCTION_NAMESPACES = ["unidesk", "unidesk-dev"] as const;

/** A seed object: apiVersion/kind/metadata/spec, without server-set fields. */
export interface SeedObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [key: string]: unknown;
}

function deployment(namespace: string, name: string, image: string): SeedObject {
  const labels = { app: name };
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace, labels },
    spec: { replicas: 1, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name, image }] } } },
  };
}

function service(namespace: string, name: string, port: number): SeedObject {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name, namespace, labels: { app: name } },
    spec: { selector: { app: name }, ports: [{ port, targetPort: port }] },
  };
}

function postgres(namespace: string): SeedObject {
  const labels = { app: "postgres" };
  return {
    apiVersion: "apps/v1",
    kind: "StatefulSet",
    metadata: { name: "postgres", namespace, labels },
    spec: {
      serviceName: "postgres",
      replicas: 1,
      selector: { matchLabels: labels },
      template: { metadata: { labels }, spec: { containers: [{ name: "postgres", image: "postgres:16" }] } },
    },
  };
}

/** Namespaces and objects present at start: production, dev, and the CI namespace with its Pipeline. */
export function seedObjects(): SeedObject[] {
  const objects: SeedObject[] = [];
  for (const ns of ["default", "kube-system", ...PRODUCTION_NAMESPACES, "unidesk-ci"]) {
    objects.push({ apiVersion: "v1", kind: "Namespace", metadata: { name: ns } });
  }
  for (const ns of PRODUCTION_NAMESPACES) {
    objects.push(deployment(ns, "backend-core", "unidesk/backend-core:prod"));
    objects.push(deployment(ns, "frontend", "unidesk/frontend:prod"));
    objects.push(service(ns, "backend-core", 8080));
    objects.push(service(ns, "frontend", 80));
    objects.push(service(ns, "postgres", 5432));
    objects.push(postgres(ns));
  }
  objects.push({ apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "unidesk-ci-e2e", namespace: "unidesk-ci" } });
  objects.push({
    apiVersion: "tekton.dev/v1",
    kind: "Pipeline",
    metadata: { name: "unidesk-dev-namespace-e2e", namespace: "unidesk-ci" },
    spec: { tasks: [] },
  });
  return objects;
}
