import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ManifestError } from "../../src/errors.ts";
import { parseManifestText } from "../../src/manifest/load.ts";
import { manifestSchema } from "../../src/manifest/schema.ts";
import { MANIFEST_MAX_DEPTH, SERVICES_MAX, TIMEOUT_MS_MAX, TIMEOUT_MS_MIN } from "../../src/rules.ts";

const SHA = "0123456789abcdef0123456789abcdef01234567";
const REPO = "https://github.com/pikasTech/unidesk";

type Json = Record<string, unknown>;

/** A valid manifest, changed by `edit` (which may mutate it freely). */
function manifest(edit: (m: { schemaVersion: unknown; environments: { dev: { ci: Json; services: Json[] } & Json } & Json } & Json) => void = () => {}): unknown {
  const m = {
    schemaVersion: 2 as unknown,
    environments: {
      dev: {
        ci: { repo: REPO, scriptPath: "scripts/ci/dev-e2e.sh", timeoutMs: 1_800_000 } as Json,
        services: [{ id: "backend-core", repo: "https://github.com/pikasTech/backend-core", commitId: SHA }] as Json[],
      },
    },
  };
  edit(m as never);
  return m;
}

/** `levels` objects nested in one another: `nest(1)` is `{}`, `nest(2)` is `{"x":{}}`. */
const nest = (levels: number): Json => {
  let value: Json = {};
  for (let i = 1; i < levels; i++) value = { x: value };
  return value;
};
/** A manifest whose deepest point, in `environments.prod` (a key the runner never reads), is `depth` levels down. */
const deepManifest = (depth: number) => manifest((m) => Object.assign(m.environments, { prod: nest(depth - 2) }));
/** A manifest listing `count` distinct services. */
const manyServices = (count: number) =>
  manifest((m) => (m.environments.dev.services = Array.from({ length: count }, (_, i) => ({ id: `svc-${i}`, repo: REPO, commitId: SHA }))));

const ci = (patch: Json) => manifest((m) => Object.assign(m.environments.dev.ci, patch));
const service = (patch: Json) => manifest((m) => Object.assign(m.environments.dev.services[0] as Json, patch));

interface BadCase {
  name: string;
  /** A manifest value, or raw text when a string. */
  input: unknown;
  /** Path of the (first) issue. */
  path: string;
  /** The message must match this. */
  says?: RegExp;
}

const CI = "environments.dev.ci";
const S0 = "environments.dev.services[0]";

const bad: BadCase[] = [
  // The document itself.
  { name: "not JSON", input: "{ schemaVersion: 2", path: "(root)", says: /not valid JSON/ },
  { name: "empty file", input: "", path: "(root)", says: /not valid JSON/ },
  { name: "a JSON array", input: [], path: "(root)", says: /JSON object/ },
  { name: "JSON null", input: null, path: "(root)", says: /JSON object/ },
  { name: "a JSON string", input: '"deploy"', path: "(root)", says: /JSON object/ },
  // schemaVersion.
  { name: "schemaVersion missing", input: manifest((m) => delete m.schemaVersion), path: "schemaVersion", says: /is required: add "schemaVersion": 2/ },
  { name: "schemaVersion 1", input: manifest((m) => (m.schemaVersion = 1)), path: "schemaVersion", says: /must be.*2/ },
  { name: "schemaVersion as a string", input: manifest((m) => (m.schemaVersion = "2")), path: "schemaVersion" },
  // environments / dev.
  { name: "environments missing", input: manifest((m) => delete (m as Json).environments), path: "environments", says: /is required/ },
  { name: "environments an array", input: manifest((m) => ((m as Json).environments = [])), path: "environments", says: /must be an object/ },
  { name: "dev missing", input: manifest((m) => delete (m.environments as Json).dev), path: "environments.dev", says: /is required.*ci, services/ },
  { name: "dev a string", input: manifest((m) => ((m.environments as Json).dev = "scripts/ci/x.sh")), path: "environments.dev" },
  { name: "a second CI manifest beside ci", input: manifest((m) => (m.environments.dev.develop = { file: "develop.json" })), path: "environments.dev", says: /unknown key.*'develop'.*remove/ },
  // ci.
  { name: "ci missing", input: manifest((m) => delete (m.environments.dev as Json).ci), path: CI, says: /is required.*repo, scriptPath, timeoutMs/ },
  { name: "ci an array", input: manifest((m) => ((m.environments.dev as Json).ci = ["scripts/ci/a.sh"])), path: CI },
  { name: "inline shell body in ci", input: ci({ script: "kubectl apply -f x" }), path: CI, says: /unknown key.*'script'.*no inline shell/ },
  { name: "ci.command key", input: ci({ command: "bash -c 'rm -rf /'" }), path: CI, says: /'command'/ },
  // ci.repo.
  { name: "repo missing", input: manifest((m) => delete m.environments.dev.ci.repo), path: `${CI}.repo`, says: /is required.*https:\/\// },
  { name: "repo http://", input: ci({ repo: "http://github.com/pikasTech/unidesk" }), path: `${CI}.repo`, says: /https:\/\// },
  { name: "repo ssh form", input: ci({ repo: "git@github.com:pikasTech/unidesk.git" }), path: `${CI}.repo` },
  { name: "repo with credentials", input: ci({ repo: "https://user:tok@github.com/pikasTech/unidesk" }), path: `${CI}.repo`, says: /must not contain credentials/ },
  { name: "repo with a space", input: ci({ repo: "https://github.com/pikas Tech/unidesk" }), path: `${CI}.repo` },
  { name: "repo with a shell metacharacter", input: ci({ repo: "https://github.com/pikasTech/unidesk;reboot" }), path: `${CI}.repo` },
  { name: "repo host only", input: ci({ repo: "https://github.com" }), path: `${CI}.repo` },
  { name: "repo a number", input: ci({ repo: 42 }), path: `${CI}.repo`, says: /must be an https/ },
  // Two URLs judged the same repository: what D601 cannot fetch is refused here.
  { name: "repo ending in /.git", input: ci({ repo: "https://github.com/pikasTech/unidesk/.git" }), path: `${CI}.repo`, says: /must not have a path segment starting with '\.'/ },
  { name: "repo with a . segment", input: ci({ repo: "https://github.com/pikasTech/./unidesk" }), path: `${CI}.repo`, says: /path segment/ },
  { name: "repo with a .. segment", input: ci({ repo: "https://github.com/other/../pikasTech/unidesk" }), path: `${CI}.repo`, says: /path segment/ },
  { name: "repo with port 0", input: ci({ repo: "https://github.com:0/pikasTech/unidesk" }), path: `${CI}.repo`, says: /has port '0': a port must be 1-65535/ },
  { name: "repo with port 65536", input: ci({ repo: "https://github.com:65536/pikasTech/unidesk" }), path: `${CI}.repo`, says: /has port '65536'/ },
  { name: "repo with port 0443", input: ci({ repo: "https://github.com:0443/pikasTech/unidesk" }), path: `${CI}.repo`, says: /without leading zeros/ },
  // validate says ok, D601 says no: the bounds hold anywhere in the document.
  { name: `nesting 300 deep in a key the runner never reads`, input: deepManifest(300), path: "environments.prod.x", says: new RegExp(`must not nest arrays and objects more than ${MANIFEST_MAX_DEPTH} levels deep`) },
  { name: `nesting ${MANIFEST_MAX_DEPTH + 1} deep`, input: deepManifest(MANIFEST_MAX_DEPTH + 1), path: "environments.prod.x", says: /flatten it/ },
  { name: "nesting too deep inside an array", input: manifest((m) => Object.assign(m, { notes: [[[nest(MANIFEST_MAX_DEPTH)]]] })), path: "notes[0][0]" },
  { name: "2000 services", input: manyServices(2000), path: "environments.dev.services", says: new RegExp(`lists 2000 services; at most ${SERVICES_MAX} are allowed`) },
  { name: `${SERVICES_MAX + 1} services`, input: manyServices(SERVICES_MAX + 1), path: "environments.dev.services" },
  // ci.scriptPath.
  { name: "scriptPath missing", input: manifest((m) => delete m.environments.dev.ci.scriptPath), path: `${CI}.scriptPath`, says: /is required.*scripts\/ci\/<name>\.sh/ },
  { name: "scriptPath absolute", input: ci({ scriptPath: "/scripts/ci/dev-e2e.sh" }), path: `${CI}.scriptPath`, says: /scripts\/ci\/<name>\.sh/ },
  { name: "scriptPath outside scripts/ci", input: ci({ scriptPath: "deploy/dev-e2e.sh" }), path: `${CI}.scriptPath` },
  { name: "scriptPath in a subdirectory", input: ci({ scriptPath: "scripts/ci/sub/dev-e2e.sh" }), path: `${CI}.scriptPath`, says: /no other directory/ },
  { name: "scriptPath with ..", input: ci({ scriptPath: "scripts/ci/../../etc/x.sh" }), path: `${CI}.scriptPath` },
  { name: "scriptPath name '.'", input: ci({ scriptPath: "scripts/ci/..sh" }), path: `${CI}.scriptPath`, says: /'\.\.'/ },
  { name: "scriptPath not .sh", input: ci({ scriptPath: "scripts/ci/dev-e2e.py" }), path: `${CI}.scriptPath` },
  { name: "scriptPath with whitespace", input: ci({ scriptPath: "scripts/ci/dev e2e.sh" }), path: `${CI}.scriptPath` },
  { name: "scriptPath with $()", input: ci({ scriptPath: "scripts/ci/$(reboot).sh" }), path: `${CI}.scriptPath` },
  { name: "scriptPath an inline body", input: ci({ scriptPath: "echo hi; kubectl delete ns unidesk" }), path: `${CI}.scriptPath` },
  { name: "scriptPath with ./ prefix", input: ci({ scriptPath: "./scripts/ci/dev-e2e.sh" }), path: `${CI}.scriptPath` },
  { name: "scriptPath with a newline", input: ci({ scriptPath: "scripts/ci/a.sh\nrm -rf /" }), path: `${CI}.scriptPath` },
  { name: "scriptPath empty", input: ci({ scriptPath: "" }), path: `${CI}.scriptPath` },
  // ci.timeoutMs.
  { name: "timeoutMs missing", input: manifest((m) => delete m.environments.dev.ci.timeoutMs), path: `${CI}.timeoutMs`, says: /is required.*60000 and 21600000/ },
  { name: "timeoutMs zero", input: ci({ timeoutMs: 0 }), path: `${CI}.timeoutMs`, says: /at least 60000/ },
  { name: "timeoutMs negative", input: ci({ timeoutMs: -1 }), path: `${CI}.timeoutMs` },
  { name: "timeoutMs just below the minimum", input: ci({ timeoutMs: TIMEOUT_MS_MIN - 1 }), path: `${CI}.timeoutMs` },
  { name: "timeoutMs just above the maximum", input: ci({ timeoutMs: TIMEOUT_MS_MAX + 1 }), path: `${CI}.timeoutMs`, says: /at most 21600000/ },
  { name: "timeoutMs fractional", input: ci({ timeoutMs: 60000.5 }), path: `${CI}.timeoutMs`, says: /integer/ },
  { name: "timeoutMs a string", input: ci({ timeoutMs: "1800000" }), path: `${CI}.timeoutMs`, says: /integer/ },
  { name: "timeoutMs 1e400 (Infinity)", input: `{"schemaVersion":2,"environments":{"dev":{"ci":{"repo":"${REPO}","scriptPath":"scripts/ci/a.sh","timeoutMs":1e400},"services":[]}}}`, path: `${CI}.timeoutMs` },
  // services.
  { name: "services missing", input: manifest((m) => delete (m.environments.dev as Json).services), path: "environments.dev.services", says: /is required.*may be empty/ },
  { name: "services an object", input: manifest((m) => ((m.environments.dev as Json).services = { "backend-core": SHA })), path: "environments.dev.services" },
  { name: "service not an object", input: manifest((m) => (m.environments.dev.services = ["backend-core" as never])), path: S0 },
  { name: "service id missing", input: manifest((m) => delete m.environments.dev.services[0]?.id), path: `${S0}.id`, says: /is required/ },
  { name: "service id uppercase", input: service({ id: "Backend" }), path: `${S0}.id`, says: /lowercase/ },
  { name: "service id with a space", input: service({ id: "backend core" }), path: `${S0}.id` },
  { name: "service repo not https", input: service({ repo: "ssh://git@github.com/pikasTech/backend-core" }), path: `${S0}.repo` },
  { name: "service commitId short", input: service({ commitId: "0123456" }), path: `${S0}.commitId`, says: /full 40-character.*git rev-parse/ },
  { name: "service commitId uppercase", input: service({ commitId: SHA.toUpperCase() }), path: `${S0}.commitId` },
  { name: "service commitId a branch name", input: service({ commitId: "master" }), path: `${S0}.commitId` },
  { name: "service commitId 41 characters", input: service({ commitId: `${SHA}a` }), path: `${S0}.commitId` },
  { name: "service commitId missing", input: manifest((m) => delete m.environments.dev.services[0]?.commitId), path: `${S0}.commitId`, says: /is required/ },
  {
    name: "duplicate service ids",
    input: manifest((m) => m.environments.dev.services.push({ id: "backend-core", repo: REPO, commitId: SHA })),
    path: "environments.dev.services[1].id",
    says: /duplicates services\[0\]\.id 'backend-core'/,
  },
];

describe("manifest schema: bad manifests", () => {
  it("has a corpus of at least 30 cases", () => assert.ok(bad.length >= 30, `${bad.length} cases`));
  for (const c of bad) {
    it(c.name, () => {
      const text = typeof c.input === "string" ? c.input : JSON.stringify(c.input);
      assert.throws(
        () => parseManifestText(text, "deploy.json"),
        (e: unknown) => {
          assert.ok(e instanceof ManifestError, String(e));
          assert.ok(e.issues && e.issues.length > 0);
          assert.equal(e.issues[0]?.path, c.path, `issues: ${JSON.stringify(e.issues)}`);
          assert.ok(e.message.startsWith(`deploy.json: ${c.path}: `), e.message);
          assert.ok(!e.message.includes("\n"), "one line");
          if (c.says) assert.match(e.issues[0]?.message ?? "", c.says);
          // Every message says what to do, not only that something is wrong.
          assert.match(e.issues[0]?.message ?? "", /must|required|remove|fix|list|unknown/);
          return true;
        },
      );
    });
  }
});

describe("manifest schema: good manifests", () => {
  const good: { name: string; input: unknown }[] = [
    { name: "the seed example", input: { schemaVersion: 2, environments: { dev: { ci: { repo: REPO, scriptPath: "scripts/ci/dev-e2e.sh", timeoutMs: 1_800_000 }, services: [] } } } },
    { name: "with services", input: manifest() },
    { name: "timeoutMs at the minimum", input: ci({ timeoutMs: TIMEOUT_MS_MIN }) },
    { name: "timeoutMs at the maximum", input: ci({ timeoutMs: TIMEOUT_MS_MAX }) },
    { name: "repo with .git and trailing slash", input: ci({ repo: "https://github.com/pikasTech/unidesk.git/" }) },
    { name: "repo with a port", input: ci({ repo: "https://127.0.0.1:8443/pikasTech/unidesk.git" }) },
    { name: "repo with port 443 and 65535", input: manifest((m) => ((m.environments.dev.ci.repo = "https://github.com:443/pikasTech/unidesk"), (m.environments.dev.services[0]!.repo = "https://h.test:65535/a/b"))) },
    { name: "repo segments with dots inside (a.git, x..y)", input: ci({ repo: "https://github.com/a.b/x..y/a.git" }) },
    { name: `nesting exactly ${MANIFEST_MAX_DEPTH} deep`, input: deepManifest(MANIFEST_MAX_DEPTH) },
    { name: `exactly ${SERVICES_MAX} services`, input: manyServices(SERVICES_MAX) },
    { name: "script name with dots, dashes, underscores", input: ci({ scriptPath: "scripts/ci/dev_e2e.v2-smoke.sh" }) },
    { name: "other environments and top-level keys pass through", input: manifest((m) => Object.assign(m, { $comment: "x", environments: { ...m.environments, prod: { anything: [1, 2] } } })) },
    { name: "extra service fields are kept", input: service({ note: "pinned for e2e" }) },
  ];
  for (const c of good) {
    it(c.name, () => {
      const result = manifestSchema.safeParse(c.input);
      assert.ok(result.success, JSON.stringify(result.error?.issues));
      assert.doesNotThrow(() => parseManifestText(JSON.stringify(c.input), "deploy.json"));
    });
  }
});
