/** zod schemas of deploy.json (docs/manifest.md). */
import { array, int, literal, looseObject, maxLength, maximum, minimum, refine, regex, string, strictObject, superRefine, type infer as Infer } from "zod/mini";
import "../zod-locale.ts";
import { FULL_SHA, HTTPS_REPO, MANIFEST_MAX_DEPTH, SCRIPT_PATH, SERVICE_ID, SERVICES_MAX, TIMEOUT_MS_MAX, TIMEOUT_MS_MIN, checkRepoUrl } from "../rules.ts";

/** An error message that says "is required" when the key is absent and "must be …" otherwise. */
function expect(what: string): (issue: { input?: unknown }) => string {
  return (issue) => (issue.input === undefined ? `is required: add ${what}` : `must be ${what}`);
}

const repoUrl = string({ error: expect("an https:// git URL, e.g. https://github.com/pikasTech/unidesk") }).check(
  regex(HTTPS_REPO, { error: (issue) => checkRepoUrl(String(issue.input)) }),
);

/** `environments.dev.ci`: where the runner lives and how long it may take. */
export const ciSchema = strictObject(
  {
    repo: repoUrl,
    scriptPath: string({ error: expect("a path of the form scripts/ci/<name>.sh") }).check(
      regex(SCRIPT_PATH, { error: "must be scripts/ci/<name>.sh with <name> of letters, digits, '.', '_' or '-' (no other directory, no inline shell)" }),
      refine((p) => !p.includes(".."), { error: "must not contain '..'" }),
    ),
    timeoutMs: int({ error: expect(`an integer number of milliseconds between ${TIMEOUT_MS_MIN} and ${TIMEOUT_MS_MAX}, e.g. 1800000`) }).check(
      minimum(TIMEOUT_MS_MIN, { error: `must be at least ${TIMEOUT_MS_MIN} (1 minute)` }),
      maximum(TIMEOUT_MS_MAX, { error: `must be at most ${TIMEOUT_MS_MAX} (6 hours)` }),
    ),
  },
  { error: (issue) => (issue.code === "unrecognized_keys" ? `unknown key(s) ${issue.keys.map((k) => `'${k}'`).join(", ")}: remove them; only repo, scriptPath and timeoutMs are allowed (no inline shell bodies)` : expect("an object { repo, scriptPath, timeoutMs }")(issue)) },
);

/** One dev service pinned to a full commit. */
export const serviceSchema = looseObject(
  {
    id: string({ error: expect("a service id string, e.g. backend-core") }).check(regex(SERVICE_ID, { error: "must be lowercase letters, digits and '-' (at most 40), e.g. backend-core" })),
    repo: repoUrl,
    commitId: string({ error: expect("a full 40-character commit SHA") }).check(
      regex(FULL_SHA, {
        error: "must be a full 40-character lowercase commit SHA (version determinism); resolve a short one with `git rev-parse <short>` in that repo",
      }),
    ),
  },
  { error: expect("an object { id, repo, commitId }") },
);

/** `environments.dev`: exactly one CI declaration and the pinned services. */
export const devEnvironmentSchema = strictObject(
  {
    ci: ciSchema,
    services: array(serviceSchema, { error: expect("an array of { id, repo, commitId } (may be empty: [])") }).check(
      maxLength(SERVICES_MAX, {
        error: (issue) => `lists ${Array.isArray(issue.input) ? issue.input.length : "too many"} services; at most ${SERVICES_MAX} are allowed (each becomes a PipelineRun param on D601)`,
      }),
      superRefine((list, ctx) => {
        const first = new Map<string, number>();
        list.forEach((service, index) => {
          const earlier = first.get(service.id);
          if (earlier === undefined) first.set(service.id, index);
          else ctx.addIssue({ code: "custom", path: [index, "id"], message: `duplicates services[${earlier}].id '${service.id}': list each service once` });
        });
      }),
    ),
  },
  { error: (issue) => (issue.code === "unrecognized_keys" ? `unknown key(s) ${issue.keys.map((k) => `'${k}'`).join(", ")}: remove them; dev holds only ci and services (no second CI manifest)` : expect("an object { ci, services }")(issue)) },
);

/**
 * The path of the first array or object nested deeper than `max` levels (the top-level value is level 1, so
 * `{"a":[{}]}` has 3), or undefined. Recursion stops at `max + 1`, so any depth is safe to check.
 */
export function findTooDeep(value: unknown, max: number): PropertyKey[] | undefined {
  const path: PropertyKey[] = [];
  const visit = (node: unknown, level: number): boolean => {
    if (typeof node !== "object" || node === null) return false;
    if (level > max) return true;
    for (const [key, child] of Array.isArray(node) ? node.entries() : Object.entries(node)) {
      path.push(key);
      if (visit(child, level + 1)) return true;
      path.pop();
    }
    return false;
  };
  return visit(value, 1) ? path : undefined;
}

/** Keys of a too-deep path shown in the issue (the whole path would be {@link MANIFEST_MAX_DEPTH} keys long). */
const DEEP_PATH_SHOWN = 3;

/** The whole deploy.json as far as this runner reads it; other environments pass through. */
export const manifestSchema = looseObject(
  {
    schemaVersion: literal(2, {
      error: (issue) => (issue.input === undefined ? 'is required: add "schemaVersion": 2' : "must be 2") + " (this runner reads deploy.json schema version 2)",
    }),
    environments: looseObject({ dev: devEnvironmentSchema }, { error: expect("an object { \"dev\": { ci, services } }") }),
  },
  { error: "deploy.json must be a JSON object" },
).check(
  // Anywhere, even in keys nobody reads: the runner on D601 parses the whole file and refuses deeper ones.
  superRefine(
    (data, ctx) => {
      const deep = findTooDeep(data, MANIFEST_MAX_DEPTH);
      if (deep === undefined) return;
      ctx.addIssue({
        code: "custom",
        path: deep.slice(0, DEEP_PATH_SHOWN),
        message: `must not nest arrays and objects more than ${MANIFEST_MAX_DEPTH} levels deep${deep.length > DEEP_PATH_SHOWN ? " (here or further down)" : ""}, anywhere in deploy.json (the top level is 1): flatten it`,
      });
    },
    { when: () => true },
  ),
);

/** A parsed deploy.json. */
export type Manifest = Infer<typeof manifestSchema>;
/** `environments.dev`. */
export type DevEnvironment = Infer<typeof devEnvironmentSchema>;
/** `environments.dev.ci`. */
export type CiDeclaration = Infer<typeof ciSchema>;
