// The pure diff of environments.dev.services between two deploy.json copies, and the changes a reader's files give.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { changesFromFiles, countServiceChanges, diffServices, serviceCommits } from "../../src/runs/changes.ts";

const A = "a".repeat(40);
const B = "b".repeat(40);
const deploy = (services: Record<string, string>) =>
  JSON.stringify({ schemaVersion: 2, environments: { dev: { ci: {}, services: Object.entries(services).map(([id, commitId]) => ({ id, repo: "https://x/y", commitId })) } } });
const result = (runId: string, manifestCommit: string) => JSON.stringify({ ok: true, status: "succeeded", runId, manifestCommit, pipelineRun: null, temporaryNamespace: null, finishedAt: "2026-11-27T16:30:00Z" });

describe("diffServices", () => {
  const cases = [
    { name: "nothing changed", from: { api: A }, to: { api: A }, want: { added: [], removed: [], changed: [] } },
    { name: "a commit changed", from: { api: A, web: A }, to: { api: B, web: A }, want: { added: [], removed: [], changed: [{ id: "api", from: A, to: B }] } },
    { name: "added and removed", from: { api: A, old: B }, to: { api: A, db: B }, want: { added: [{ id: "db", commitId: B }], removed: [{ id: "old", commitId: B }], changed: [] } },
    { name: "from nothing", from: {}, to: { api: A }, want: { added: [{ id: "api", commitId: A }], removed: [], changed: [] } },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const got = diffServices(new Map(Object.entries(c.from)), new Map(Object.entries(c.to)));
      assert.deepEqual(got, c.want);
      assert.equal(countServiceChanges(got), c.want.added.length + c.want.removed.length + c.want.changed.length);
    });
  }
});

describe("serviceCommits", () => {
  it("reads environments.dev.services (a BOM too), and is null for what is no manifest", () => {
    assert.deepEqual([...serviceCommits("\uFEFF" + deploy({ api: A }))!], [["api", A]]);
    assert.equal(serviceCommits("{not json"), null);
    assert.equal(serviceCommits(JSON.stringify({ environments: { dev: {} } })), null);
    assert.deepEqual([...serviceCommits(JSON.stringify({ environments: { dev: { services: [{ id: 1 }, { id: "ok", commitId: A }] } } }))!], [["ok", A]]);
  });
});

describe("changesFromFiles", () => {
  it("names the green run and its manifest commit, and diffs both deploy.json copies", () => {
    const got = changesFromFiles({ green: { runId: "r-ok", resultJson: result("r-ok", A), deployJson: deploy({ api: A }) }, deployJson: deploy({ api: B }) });
    assert.deepEqual(got, { since: { runId: "r-ok", manifestCommit: A }, services: { added: [], removed: [], changed: [{ id: "api", from: A, to: B }] }, commits: null });
  });

  it("no green run: since null, no services; an unreadable copy: no services, the run still named", () => {
    assert.deepEqual(changesFromFiles({ green: null, deployJson: deploy({ api: A }) }), { since: null, services: { added: [], removed: [], changed: [] }, commits: null });
    const got = changesFromFiles({ green: { runId: "r-ok", resultJson: "{", deployJson: null }, deployJson: deploy({ api: B }) });
    assert.deepEqual(got, { since: { runId: "r-ok", manifestCommit: null }, services: { added: [], removed: [], changed: [] }, commits: null });
  });
});
