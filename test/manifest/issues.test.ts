import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ManifestError } from "../../src/errors.ts";
import { formatIssue, formatIssuePath, manifestIssuesError, summarizeIssues, toManifestIssues } from "../../src/manifest/issues.ts";

describe("formatIssuePath", () => {
  const cases: [PropertyKey[], string][] = [
    [[], "(root)"],
    [["schemaVersion"], "schemaVersion"],
    [["environments", "dev", "ci", "scriptPath"], "environments.dev.ci.scriptPath"],
    [["environments", "dev", "services", 0, "commitId"], "environments.dev.services[0].commitId"],
    [[3], "[3]"],
    [["a b", "c"], '["a b"].c'],
    [["x", "dotted.key"], 'x["dotted.key"]'],
    [["backend-core"], "backend-core"],
  ];
  for (const [path, text] of cases) it(`${JSON.stringify(path)} → ${text}`, () => assert.equal(formatIssuePath(path), text));
});

describe("issues", () => {
  const issues = toManifestIssues([
    { path: ["environments", "dev", "ci", "timeoutMs"], message: "must be at least 60000 (1 minute)" },
    { path: [], message: "deploy.json must be a JSON object" },
  ]);

  it("converts zod-shaped issues", () => {
    assert.deepEqual(issues, [
      { path: "environments.dev.ci.timeoutMs", message: "must be at least 60000 (1 minute)" },
      { path: "(root)", message: "deploy.json must be a JSON object" },
    ]);
  });

  it("formats one line per issue and a summary of the first", () => {
    assert.equal(formatIssue(issues[0]!), "environments.dev.ci.timeoutMs: must be at least 60000 (1 minute)");
    assert.equal(summarizeIssues("deploy.json", issues), "deploy.json: environments.dev.ci.timeoutMs: must be at least 60000 (1 minute) (and 1 more)");
    assert.equal(summarizeIssues("deploy.json", issues.slice(0, 1)), "deploy.json: environments.dev.ci.timeoutMs: must be at least 60000 (1 minute)");
  });

  it("builds a ManifestError carrying every issue and the source", () => {
    const error = manifestIssuesError("origin/master:deploy.json", issues);
    assert.ok(error instanceof ManifestError);
    assert.equal(error.exitCode, 2);
    assert.deepEqual(error.issues, issues);
    assert.equal(error.source, "origin/master:deploy.json");
    assert.match(error.message, /^origin\/master:deploy\.json: environments\.dev\.ci\.timeoutMs: .* \(and 1 more\)$/);
  });
});
