/** Attack: the operator's local git objects and config (replace refs, grafts, hostile core.* settings) never change what is dispatched nor which commit is credited. */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { chmod, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { loadFromOrigin } from "../../src/manifest/load.ts";
import { createGitFixture, goodManifest, type GitFixture } from "./git-fixture.ts";

describe("the CLI reads origin/master raw: replace refs, grafts and local config change nothing", () => {
  let f: GitFixture;
  let honest: Awaited<ReturnType<typeof loadFromOrigin>>;
  const evilManifest = JSON.stringify(goodManifest({ scriptPath: "scripts/ci/evil.sh", timeoutMs: 21_600_000 }));
  before(async () => {
    f = await createGitFixture();
    honest = await loadFromOrigin(f.operator, f.env(), { fetch: true });
  });
  after(() => f.cleanup());

  /** A commit whose deploy.json names evil.sh (present), made only in the operator's clone. */
  async function evilObjects(): Promise<{ blob: string; tree: string; commit: string }> {
    const g = (...a: string[]) => f.git(f.operator, ...a).then((s) => s.trim());
    await writeFile(join(f.root, "evil.json"), evilManifest);
    await writeFile(join(f.root, "evil.sh"), "#!/bin/bash\necho pwned\n");
    const blob = await g("hash-object", "-w", join(f.root, "evil.json"));
    const script = await g("hash-object", "-w", join(f.root, "evil.sh"));
    const ls = (await g("ls-tree", "refs/remotes/origin/master:scripts/ci")).split("\n");
    const ciTree = await f.gitInput(f.operator, [...ls, `100755 blob ${script}\tevil.sh`].join("\n") + "\n", "mktree");
    const rootLs = (await g("ls-tree", "refs/remotes/origin/master")).split("\n").filter((l) => !/\t(deploy\.json|scripts)$/.test(l));
    const scriptsTree = await f.gitInput(f.operator, `040000 tree ${ciTree}\tci\n`, "mktree");
    const tree = await f.gitInput(f.operator, [...rootLs, `100644 blob ${blob}\tdeploy.json`, `040000 tree ${scriptsTree}\tscripts`].join("\n") + "\n", "mktree");
    const commit = await g("commit-tree", tree, "-m", "evil");
    return { blob, tree, commit };
  }

  const assertHonest = async () => {
    const loaded = await loadFromOrigin(f.operator, f.env(), { fetch: false });
    assert.equal(loaded.commit, honest.commit);
    assert.deepEqual(loaded.manifest, honest.manifest);
    assert.equal(loaded.manifest.environments.dev.ci.scriptPath, "scripts/ci/dev-e2e.sh");
  };

  for (const what of ["commit", "tree", "blob"] as const) {
    it(`a replace ref for origin/master's ${what} (git show is fooled; the CLI is not)`, async () => {
      const evil = await evilObjects();
      const g = (...a: string[]) => f.git(f.operator, ...a).then((s) => s.trim());
      const target = what === "commit" ? honest.commit : what === "tree" ? await g("rev-parse", `${honest.commit}^{tree}`) : await g("rev-parse", `${honest.commit}:deploy.json`);
      await g("replace", "-f", target, evil[what]);
      try {
        assert.match(await g("show", "refs/remotes/origin/master:deploy.json"), /evil\.sh/, "the replace ref is in force for git show");
        await assertHonest();
      } finally {
        await g("replace", "-d", target);
      }
    });
  }

  it("a graft: git replace --graft and info/grafts", async () => {
    const g = (...a: string[]) => f.git(f.operator, ...a).then((s) => s.trim());
    const evil = await evilObjects();
    await g("replace", "--graft", honest.commit, evil.commit);
    const gitDir = await g("rev-parse", "--absolute-git-dir");
    await writeFile(join(gitDir, "info", "grafts"), `${honest.commit} ${evil.commit}\n`);
    try {
      await assertHonest();
    } finally {
      await g("replace", "-d", honest.commit);
    }
  });

  it("hostile local config: fsmonitor, hooks, a global config and safe.directory games run nothing", async () => {
    const g = (...a: string[]) => f.git(f.operator, ...a).then((s) => s.trim());
    const marker = join(f.root, "ran");
    const hook = join(f.root, "hook.sh");
    await writeFile(hook, `#!/bin/sh\ntouch ${marker}\n`);
    await chmod(hook, 0o755);
    await g("config", "core.fsmonitor", hook);
    await g("config", "core.hooksPath", f.root);
    await writeFile(join(f.root, "reference-transaction"), `#!/bin/sh\ntouch ${marker}\n`);
    await chmod(join(f.root, "reference-transaction"), 0o755);
    try {
      await assertHonest();
      await loadFromOrigin(f.operator, f.env(), { fetch: true });
      assert.equal(existsSync(marker), false, "no hook or fsmonitor ran");
    } finally {
      await g("config", "--unset", "core.fsmonitor");
      await g("config", "--unset", "core.hooksPath");
    }
  });

  it("reads everything with one cat-file --batch process, raw, never git show", async () => {
    const env = f.env();
    await loadFromOrigin(f.operator, env, { fetch: false });
    const batch = env.calls.filter((c) => c.args.includes("cat-file"));
    assert.equal(batch.length, 1);
    assert.equal(batch[0]!.env?.GIT_NO_REPLACE_OBJECTS, "1");
    assert.ok(!env.calls.some((c) => c.args.includes("show") || c.args.includes("ls-tree")));
    assert.equal(env.calls.length, 2, "two git processes: the batch and the clone's settings");
  });
});
