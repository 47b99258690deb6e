import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ManifestError, ExitCode, UsageError } from "../../src/errors.ts";
import { loadFromFile, loadFromOrigin, parseManifestText, unpushedManifestWarning } from "../../src/manifest/load.ts";
import { fakeEnv } from "../../src/env.ts";
import { makeReadFile } from "../../src/read-file.ts";
import { MANIFEST_MAX_BYTES, MANIFEST_MAX_DEPTH, SERVICES_MAX, SPAWN_STDOUT_MAX_BYTES } from "../../src/rules.ts";
import { createGitFixture, goodManifest, MANIFEST_REPO, ORIGIN_URL, type GitFixture } from "./git-fixture.ts";

const fixtures: GitFixture[] = [];
after(async () => {
  await Promise.all(fixtures.map((f) => f.cleanup()));
});

async function fixture(...args: Parameters<typeof createGitFixture>): Promise<GitFixture> {
  const f = await createGitFixture(...args);
  fixtures.push(f);
  return f;
}

/** Expects a one-line ManifestError (exit 2) whose message matches `pattern`. */
async function rejectsWith(promise: Promise<unknown>, pattern: RegExp, path?: string): Promise<ManifestError> {
  const error = await promise.then(
    () => assert.fail("expected a ManifestError"),
    (e: unknown) => e,
  );
  assert.ok(error instanceof ManifestError, `expected ManifestError, got ${String(error)}`);
  assert.equal(error.exitCode, ExitCode.usage);
  assert.ok(!error.message.includes("\n"), `one line: ${error.message}`);
  assert.match(error.message, pattern);
  if (path !== undefined) assert.equal(error.issues?.[0]?.path, path);
  return error;
}

const SCRIPT = "#!/bin/bash\necho runner\n";
const manifestText = (overrides: Record<string, unknown> = {}) => JSON.stringify(goodManifest(overrides));

describe("parseManifestText", () => {
  it("returns the manifest, keeping other environments", () => {
    const m = parseManifestText(manifestText(), "deploy.json");
    assert.equal(m.environments.dev.ci.scriptPath, "scripts/ci/dev-e2e.sh");
    assert.deepEqual((m.environments as Record<string, unknown>).prod, { untouched: true });
  });

  it("accepts a UTF-8 BOM", () => {
    assert.equal(parseManifestText(`\uFEFF${manifestText()}`, "deploy.json").schemaVersion, 2);
  });

  it("invalid JSON → (root) issue naming the source", () => {
    assert.throws(
      () => parseManifestText("{ schemaVersion: 2 ", "deploy.json"),
      (e: unknown) => e instanceof ManifestError && /^deploy\.json: \(root\): is not valid JSON( at line \d+, column \d+)?; fix the syntax$/.test(e.message) && e.issues?.length === 1 && e.source === "deploy.json",
    );
  });

  it("reports the first issue on one line, all of them in issues", () => {
    const text = JSON.stringify({ schemaVersion: 1, environments: { dev: { ci: { repo: "http://x", scriptPath: "run.sh", timeoutMs: 5 }, services: [] } } });
    assert.throws(
      () => parseManifestText(text, "f.json"),
      (e: unknown) => {
        assert.ok(e instanceof ManifestError);
        assert.match(e.message, /^f\.json: schemaVersion: .* \(and 3 more\)$/);
        assert.deepEqual(e.issues?.map((i) => i.path), ["schemaVersion", "environments.dev.ci.repo", "environments.dev.ci.scriptPath", "environments.dev.ci.timeoutMs"]);
        return true;
      },
    );
  });
});

describe("loadFromOrigin against real git", () => {
  let shared: GitFixture;
  let firstCommit: string;
  before(async () => {
    shared = await fixture();
    firstCommit = (await shared.git(shared.seed, "rev-parse", "HEAD")).trim();
  });

  it("happy path: full commit, manifest, configured origin URL, top level", async () => {
    const env = shared.env();
    const loaded = await loadFromOrigin(shared.operator, env, { fetch: true });
    assert.match(loaded.commit, /^[0-9a-f]{40}$/);
    assert.equal(loaded.commit, firstCommit);
    assert.equal(loaded.manifest.environments.dev.ci.repo, MANIFEST_REPO);
    assert.equal(loaded.repoDir, shared.operator);
    // insteadOf rewrites the fetch URL to a local path; the configured https URL is what is compared and returned.
    assert.equal(loaded.originUrl, ORIGIN_URL);
  });

  it("runs only git, never prompting (GIT_TERMINAL_PROMPT=0), and fetches only with fetch: true", async () => {
    const env = shared.env();
    await loadFromOrigin(shared.operator, env, { fetch: false });
    assert.ok(env.calls.length > 0);
    for (const call of env.calls) {
      assert.equal(call.cmd, "git");
      assert.equal(call.env?.GIT_TERMINAL_PROMPT, "0");
    }
    assert.ok(!env.calls.some((c) => c.args.includes("fetch")), "no fetch in a dry run");
    const fetching = shared.env();
    await loadFromOrigin(shared.operator, fetching, { fetch: true });
    const fetch = fetching.calls.find((c) => c.args.includes("fetch"));
    assert.ok(fetch, "fetched");
    assert.equal(fetch.env?.GIT_SSH_COMMAND, "ssh -o BatchMode=yes");
  });

  it("works from a subdirectory of the clone", async () => {
    await mkdir(join(shared.operator, "sub", "dir"), { recursive: true });
    const sub = join(shared.operator, "sub", "dir");
    const loaded = await loadFromOrigin(sub, shared.env(), { fetch: false });
    assert.equal(loaded.repoDir, sub, "the clone as named: git log and messages work from inside it");
    assert.equal(loaded.commit, (await loadFromOrigin(shared.operator, shared.env(), { fetch: false })).commit);
  });

  it("never reads the working tree's deploy.json, nor unpushed local commits", async () => {
    const f = await fixture();
    await f.git(f.operator, "checkout", "-q", "-B", "master", "origin/master");
    await writeFile(join(f.operator, "deploy.json"), "{}");
    await f.git(f.operator, "commit", "-q", "-am", "local only");
    await writeFile(join(f.operator, "deploy.json"), "this is not json");
    const loaded = await loadFromOrigin(f.operator, f.env(), { fetch: true });
    assert.equal(loaded.manifest.environments.dev.ci.repo, MANIFEST_REPO);
    assert.notEqual(loaded.commit, (await f.git(f.operator, "rev-parse", "HEAD")).trim());
  });

  it("fetch: true picks up a new push; fetch: false keeps the last fetched commit", async () => {
    const f = await fixture();
    const before = await loadFromOrigin(f.operator, f.env(), { fetch: true });
    const pushed = await f.push({ "deploy.json": manifestText({ timeoutMs: 600_000 }) });
    const offline = await loadFromOrigin(f.operator, f.env(), { fetch: false });
    assert.equal(offline.commit, before.commit);
    const fetched = await loadFromOrigin(f.operator, f.env(), { fetch: true });
    assert.equal(fetched.commit, pushed);
    assert.equal(fetched.manifest.environments.dev.ci.timeoutMs, 600_000);
  });

  it("an ssh-form origin names the same repository as the https manifest repo", async () => {
    const f = await fixture();
    await f.git(f.operator, "remote", "set-url", "origin", "git@git.example.test:pikasTech/unidesk.git");
    await f.git(f.operator, "config", `url.file://${f.origin}.insteadOf`, "git@git.example.test:pikasTech/unidesk.git");
    const loaded = await loadFromOrigin(f.operator, f.env(), { fetch: true });
    assert.equal(loaded.originUrl, "git@git.example.test:pikasTech/unidesk.git");
  });

  it("not a git work tree → names the directory and says how to fix", async () => {
    const f = await fixture();
    const plain = join(f.root, "plain");
    await mkdir(plain);
    await rejectsWith(loadFromOrigin(plain, f.env(), { fetch: false }), /not a git work tree .*pass --repo-dir/, plain);
    await rejectsWith(loadFromOrigin(plain, f.env(), { fetch: true }), /not a git work tree \(not a git repository \(or any of the parent directories\): \.git\); run in your clone/, plain);
    await rejectsWith(loadFromOrigin(f.origin, f.env(), { fetch: false }), /not a git work tree \(a bare repository\)/);
  });

  it("core.bare in any of git's spellings of true (yes, On, 1, a key without a value) → a bare repository", async () => {
    const f = await fixture();
    for (const spelling of ["yes", "On", "1", null]) {
      const config = join(f.operator, ".git", "config");
      const text = await readFile(config, "utf8");
      await writeFile(config, text.replace(/^\s*bare = .*$/m, spelling === null ? "\tbare" : `\tbare = ${spelling}`));
      await rejectsWith(loadFromOrigin(f.operator, f.env(), { fetch: false }), /not a git work tree \(a bare repository\)/, f.operator);
      await writeFile(config, text);
    }
    assert.ok((await loadFromOrigin(f.operator, f.env(), { fetch: false })).commit);
  });

  it("a clone owned by another user is refused as git refuses it (no safe.directory from global config), fetch or not", async () => {
    const f = await fixture();
    execFileSync("chown", ["-R", "65534:65534", f.operator]);
    try {
      for (const fetch of [false, true]) await rejectsWith(loadFromOrigin(f.operator, f.env(), { fetch }), /not a git work tree \(detected dubious ownership in repository at '.*'\); run in your clone/, f.operator);
    } finally {
      execFileSync("chown", ["-R", `${process.getuid!()}:${process.getgid!()}`, f.operator]);
    }
  });

  it("origin's URL is the clone's config, outside text: a newline, a control or the token in it never reaches the message raw", async () => {
    const f = await fixture();
    const token = "tok-in-config-5c1e";
    await f.git(f.operator, "config", "remote.origin.url", `https://elsewhere.example.test/a\n\x1b]52;c;SGk=\x07forged line ${token}`);
    const env = f.env();
    env.secrets.add(token);
    const error = await rejectsWith(loadFromOrigin(f.operator, env, { fetch: false }), /not the repository of origin \(https:\/\/elsewhere\.example\.test\/a \x1b\]52;c;SGk=\x07forged line \*\*\*\)/, "environments.dev.ci.repo");
    assert.ok(!error.message.includes(token));
  });

  it("a FIFO in .git/config's includes: each read of the clone ends at its bound with the fix, git killed, fetch or not", async () => {
    const f = await fixture();
    const fifo = join(f.root, "config.fifo");
    execFileSync("mkfifo", [fifo]);
    await f.git(f.operator, "config", "include.path", fifo);
    const env = f.env();
    for (const fetch of [false, true]) {
      await rejectsWith(loadFromOrigin(f.operator, env, { fetch, readBoundMs: 300 }), /: git did not answer within 300 ms reading this clone .*check \.git\/config and the files it includes/, f.operator);
    }
    assert.ok(!env.calls.some((c) => c.args.includes("fetch")), "nothing fetched");
    assert.ok(!env.signal.aborted);
  });

  it("several remote.origin.url values → the last, as git config --get answers", async () => {
    const f = await fixture();
    await f.git(f.operator, "config", "--add", "remote.origin.url", "https://elsewhere.example.test/other/repo.git");
    await rejectsWith(loadFromOrigin(f.operator, f.env(), { fetch: false }), /elsewhere\.example\.test\/other\/repo\.git\)/, "environments.dev.ci.repo");
  });

  it("no origin remote → remote.origin.url", async () => {
    const f = await fixture();
    await f.git(f.operator, "remote", "remove", "origin");
    await rejectsWith(loadFromOrigin(f.operator, f.env(), { fetch: true }), /^remote\.origin\.url: not set in .*git remote add origin/, "remote.origin.url");
  });

  it("origin/master missing (not fetched yet) → origin/master, says to fetch", async () => {
    const f = await fixture({ pushFirst: false });
    await rejectsWith(loadFromOrigin(f.operator, f.env(), { fetch: false }), /^origin\/master: no such commit .*git fetch origin master/, "origin/master");
  });

  it("origin has no master → the fetch fails naming the ref", async () => {
    const f = await fixture({ pushFirst: false });
    await rejectsWith(loadFromOrigin(f.operator, f.env(), { fetch: true }), /^git fetch origin master: failed \(.*master.*\); check that https:\/\/git\.example\.test/, "git fetch origin master");
  });

  it("fetch failure (origin unreachable) → names the ref and how to fix, redacting credentials", async () => {
    const f = await fixture();
    const secretUrl = "https://user:s3cret@git.example.test/pikasTech/unidesk.git";
    await f.git(f.operator, "remote", "set-url", "origin", secretUrl);
    await f.git(f.operator, "config", `url.file://${f.root}/missing.git.insteadOf`, "https://user:s3cret@git.example.test/");
    const error = await rejectsWith(loadFromOrigin(f.operator, f.env(), { fetch: true }), /^git fetch origin master: failed .*reachable/);
    assert.ok(!error.message.includes("s3cret"), error.message);
  });

  it("deploy.json missing at the commit → origin/master:deploy.json", async () => {
    const f = await fixture({ files: { "README.md": "hi", "scripts/ci/dev-e2e.sh": SCRIPT } });
    await rejectsWith(loadFromOrigin(f.operator, f.env(), { fetch: true }), /^origin\/master:deploy\.json: not found at origin\/master \([0-9a-f]{12}\); commit deploy\.json/, "origin/master:deploy.json");
  });

  it("malformed deploy.json → parse error naming origin/master:deploy.json", async () => {
    const f = await fixture({ files: { "deploy.json": "{ nope", "scripts/ci/dev-e2e.sh": SCRIPT } });
    await rejectsWith(loadFromOrigin(f.operator, f.env(), { fetch: true }), /^origin\/master:deploy\.json: \(root\): is not valid JSON/, "(root)");
  });

  it("schema-invalid deploy.json → the field path", async () => {
    const f = await fixture({ files: { "deploy.json": manifestText({ scriptPath: "deploy/run.sh" }), "scripts/ci/dev-e2e.sh": SCRIPT } });
    const error = await rejectsWith(loadFromOrigin(f.operator, f.env(), { fetch: true }), /^origin\/master:deploy\.json: environments\.dev\.ci\.scriptPath: must be scripts\/ci\/<name>\.sh/);
    assert.equal(error.issues?.[0]?.path, "environments.dev.ci.scriptPath");
  });

  it("repository mismatch → environments.dev.ci.repo", async () => {
    const f = await fixture({ files: { "deploy.json": manifestText({ repo: "https://github.com/someone/else" }), "scripts/ci/dev-e2e.sh": SCRIPT } });
    await rejectsWith(
      loadFromOrigin(f.operator, f.env(), { fetch: true }),
      /^environments\.dev\.ci\.repo: https:\/\/github\.com\/someone\/else is not the repository of origin \(https:\/\/git\.example\.test\/pikasTech\/unidesk\.git\); run from a clone/,
      "environments.dev.ci.repo",
    );
  });

  it("scriptPath missing at the commit → environments.dev.ci.scriptPath", async () => {
    const f = await fixture({ files: { "deploy.json": manifestText() } });
    await rejectsWith(loadFromOrigin(f.operator, f.env(), { fetch: true }), /^environments\.dev\.ci\.scriptPath: scripts\/ci\/dev-e2e\.sh does not exist at origin\/master/, "environments.dev.ci.scriptPath");
  });

  it("scriptPath present only in the working tree → still missing", async () => {
    const f = await fixture({ files: { "deploy.json": manifestText() } });
    await mkdir(join(f.operator, "scripts", "ci"), { recursive: true });
    await writeFile(join(f.operator, "scripts", "ci", "dev-e2e.sh"), SCRIPT);
    await rejectsWith(loadFromOrigin(f.operator, f.env(), { fetch: false }), /does not exist at origin\/master/);
  });

  it("scriptPath that is a directory or a symlink → not a regular file", async () => {
    const dir = await fixture({ files: { "deploy.json": manifestText(), "scripts/ci/dev-e2e.sh/inner": SCRIPT } });
    await rejectsWith(loadFromOrigin(dir.operator, dir.env(), { fetch: true }), /scriptPath: scripts\/ci\/dev-e2e\.sh is a directory \(git tree\) .*not a regular file/);
    const link = await fixture({ files: { "deploy.json": manifestText(), "scripts/ci/real.sh": SCRIPT } });
    await link.push({}, { symlinks: { "scripts/ci/dev-e2e.sh": "real.sh" } });
    await rejectsWith(loadFromOrigin(link.operator, link.env(), { fetch: true }), /is a symbolic link .*not a regular file/);
  });
});

/** deploy.json text in UTF-16LE with a BOM, as some Windows editors save it. */
const utf16 = (text: string) => new Uint8Array([0xff, 0xfe, ...[...text].flatMap((c) => [c.charCodeAt(0) & 0xff, c.charCodeAt(0) >> 8])]);

describe("smaller ones: what deploy.json is at the commit", () => {
  const kinds: { name: string; make: (f: GitFixture) => Promise<unknown>; says: RegExp }[] = [
    { name: "a symlink", make: (f) => f.push({ "deploy.json": null, "real.json": manifestText() }, { symlinks: { "deploy.json": "real.json" } }), says: /is a symbolic link, not a file/ },
    { name: "a tree", make: (f) => f.push({ "deploy.json": null, "deploy.json/inner.json": manifestText() }), says: /is a directory \(git tree\), not a file/ },
    { name: "a gitlink", make: async (f) => f.push({ "deploy.json": null }, { gitlinks: { "deploy.json": (await f.git(f.seed, "rev-parse", "HEAD")).trim() } }), says: /is a submodule \(gitlink\), not a file/ },
  ];
  for (const k of kinds) {
    it(`deploy.json that is ${k.name} at the commit → says so, not "is not valid JSON"`, async () => {
      const f = await fixture();
      await k.make(f);
      const error = await rejectsWith(loadFromOrigin(f.operator, f.env(), { fetch: true }), new RegExp(`^origin/master:deploy\\.json: deploy\\.json at origin/master \\([0-9a-f]{12}\\) ${k.says.source}; commit deploy\\.json itself as a regular file$`));
      assert.ok(!/valid JSON/.test(error.message));
    });
  }

  it("a UTF-16 deploy.json at the commit → (root): not UTF-8, no mojibake", async () => {
    const f = await fixture({ files: { "deploy.json": utf16(manifestText()), "scripts/ci/dev-e2e.sh": SCRIPT } });
    await rejectsWith(loadFromOrigin(f.operator, f.env(), { fetch: true }), /^origin\/master:deploy\.json: \(root\): is not UTF-8 text \(it looks like UTF-16\); save it as UTF-8$/, "(root)");
  });

  it("a UTF-8 BOM at the commit is accepted", async () => {
    const f = await fixture({ files: { "deploy.json": `\uFEFF${manifestText()}`, "scripts/ci/dev-e2e.sh": SCRIPT } });
    assert.equal((await loadFromOrigin(f.operator, f.env(), { fetch: true })).manifest.schemaVersion, 2);
  });
});

describe("validate says ok, D601 says no: the bounds hold at the commit too", () => {
  it(`deploy.json over ${MANIFEST_MAX_BYTES} bytes at the commit → (root) issue, read from ls-tree before parsing`, async () => {
    const big = JSON.stringify({ ...goodManifest(), padding: "x".repeat(MANIFEST_MAX_BYTES) });
    const f = await fixture({ files: { "deploy.json": big, "scripts/ci/dev-e2e.sh": SCRIPT } });
    await rejectsWith(loadFromOrigin(f.operator, f.env(), { fetch: true }), new RegExp(`^origin/master:deploy\\.json: \\(root\\): is larger than ${MANIFEST_MAX_BYTES} bytes`), "(root)");
  });

  it(`a deploy.json larger than git may answer (${SPAWN_STDOUT_MAX_BYTES} bytes) → one ManifestError, git killed, nothing buffered past the bound`, async () => {
    // Uniform text packs to almost nothing, so pushing it is cheap; reading it whole once crashed the CLI (a string
    // too long for the runtime, a stack trace, exit 1).
    const huge = JSON.stringify({ ...goodManifest(), padding: "a".repeat(SPAWN_STDOUT_MAX_BYTES + 1024) });
    const f = await fixture({ files: { "deploy.json": huge, "scripts/ci/dev-e2e.sh": SCRIPT } });
    for (const fetch of [false, true]) {
      const e = await rejectsWith(loadFromOrigin(f.operator, f.env(), { fetch }), new RegExp(`git answered more than ${SPAWN_STDOUT_MAX_BYTES} bytes \\(git cat-file\\); an object that large is no deploy\\.json \\(at most ${MANIFEST_MAX_BYTES} bytes\\): shrink it at origin/master`));
      assert.equal(e.exitCode, ExitCode.usage);
    }
  });

  it("GIT_DIR (or another repository-selecting GIT_* variable) inherited from a hook or script does not choose what is read", async () => {
    const f = await fixture();
    const other = await fixture({ files: { "deploy.json": manifestText({ timeoutMs: 1_799_999 }), "scripts/ci/dev-e2e.sh": SCRIPT } });
    const mine = await loadFromOrigin(f.operator, f.env(), { fetch: false });
    for (const vars of [{ GIT_DIR: join(other.operator, ".git") }, { GIT_OBJECT_DIRECTORY: join(other.operator, ".git", "objects"), GIT_COMMON_DIR: join(other.operator, ".git") }, { GIT_CONFIG_COUNT: "1", GIT_CONFIG_KEY_0: "core.useReplaceRefs", GIT_CONFIG_VALUE_0: "true" }]) {
      const loaded = await loadFromOrigin(f.operator, f.env(vars), { fetch: false });
      assert.equal(loaded.commit, mine.commit, JSON.stringify(vars));
      assert.equal(loaded.manifest.environments.dev.ci.timeoutMs, mine.manifest.environments.dev.ci.timeoutMs);
    }
  });

  it("nesting 300 deep in a key the runner never reads, and 2000 services → refused at the commit", async () => {
    let deep: unknown = {};
    for (let i = 0; i < 300; i++) deep = { x: deep };
    const f = await fixture({ files: { "deploy.json": JSON.stringify({ ...goodManifest(), unread: deep }), "scripts/ci/dev-e2e.sh": SCRIPT } });
    await rejectsWith(loadFromOrigin(f.operator, f.env(), { fetch: true }), new RegExp(`unread\\.x\\.x: must not nest arrays and objects more than ${MANIFEST_MAX_DEPTH} levels deep`));
    const services = Array.from({ length: 2000 }, (_, i) => ({ id: `s${i}`, repo: MANIFEST_REPO, commitId: "0".repeat(40) }));
    const many = goodManifest();
    (many.environments as { dev: { services: unknown[] } }).dev.services = services;
    await f.push({ "deploy.json": JSON.stringify(many) });
    await rejectsWith(loadFromOrigin(f.operator, f.env(), { fetch: true }), new RegExp(`environments\\.dev\\.services: lists 2000 services; at most ${SERVICES_MAX}`));
  });
});

describe("validate FILE: loadFromFile", () => {
  let dir: string;
  before(async () => {
    const f = await fixture();
    dir = f.root;
  });
  const realEnv = (stdin: Iterable<string> = [], signal?: AbortSignal) => {
    const env = fakeEnv(signal ? { signal } : {});
    return { ...env, readFile: makeReadFile({ signal: env.signal, stdin: () => stdin }) };
  };

  it("reads a regular file (with or without a BOM)", async () => {
    await writeFile(join(dir, "plain.json"), manifestText());
    await writeFile(join(dir, "bom.json"), `\uFEFF${manifestText()}`);
    assert.equal((await loadFromFile(join(dir, "plain.json"), realEnv())).manifest.schemaVersion, 2);
    assert.equal((await loadFromFile(join(dir, "bom.json"), realEnv())).source, join(dir, "bom.json"));
  });

  it("- and /dev/stdin read standard input, named (stdin)", async () => {
    for (const name of ["-", "/dev/stdin"]) {
      const loaded = await loadFromFile(name, realEnv([manifestText().slice(0, 10), manifestText().slice(10)]));
      assert.equal(loaded.source, "(stdin)");
      assert.equal(loaded.manifest.schemaVersion, 2);
    }
  });

  it("a read that never ends: a FIFO is refused at once with a UsageError (exit 2)", async () => {
    const fifo = join(dir, "deploy.fifo");
    execFileSync("mkfifo", [fifo]);
    const error = await loadFromFile(fifo, realEnv()).catch((e: unknown) => e);
    assert.ok(error instanceof UsageError, String(error));
    assert.equal(error.exitCode, ExitCode.usage);
    assert.match(error.message, /^cannot read .*deploy\.fifo: it is a FIFO \(named pipe\), not a regular file; pass a deploy\.json file, or - to read standard input$/);
  });

  it("a missing file or a directory → UsageError naming it", async () => {
    await assert.rejects(loadFromFile(join(dir, "missing.json"), realEnv()), (e: unknown) => e instanceof UsageError && /missing\.json: it does not exist; pass a deploy\.json file/.test(e.message));
    await assert.rejects(loadFromFile(dir, realEnv()), (e: unknown) => e instanceof UsageError && /it is a directory, not a regular file; pass/.test(e.message));
  });

  it(`over ${MANIFEST_MAX_BYTES} bytes (a file or standard input) → (root) issue, exit 2`, async () => {
    const big = `${manifestText().slice(0, -1)}, "pad": "${"x".repeat(MANIFEST_MAX_BYTES)}"}`;
    await writeFile(join(dir, "big.json"), big);
    await rejectsWith(loadFromFile(join(dir, "big.json"), realEnv()), new RegExp(`big\\.json: \\(root\\): is larger than ${MANIFEST_MAX_BYTES} bytes`), "(root)");
    await rejectsWith(loadFromFile("-", realEnv([big])), /^\(stdin\): \(root\): is larger than/, "(root)");
  });

  it("UTF-16 → (root): is not UTF-8 text", async () => {
    await writeFile(join(dir, "utf16.json"), utf16(manifestText()));
    await rejectsWith(loadFromFile(join(dir, "utf16.json"), realEnv()), /utf16\.json: \(root\): is not UTF-8 text \(it looks like UTF-16\); save it as UTF-8$/, "(root)");
  });

  it("an interrupted read of standard input rejects with the signal's reason", async () => {
    const controller = new AbortController();
    // A stream that never ends, like a terminal nobody types into.
    const child = spawn("sleep", ["30"], { stdio: ["ignore", "pipe", "ignore"] });
    try {
      const env = fakeEnv({ signal: controller.signal });
      const reading = loadFromFile("-", { ...env, readFile: makeReadFile({ signal: controller.signal, stdin: () => child.stdout }) });
      setImmediate(() => controller.abort(new Error("interrupted by SIGINT")));
      await assert.rejects(reading, /interrupted by SIGINT/);
    } finally {
      child.kill();
    }
  });
});

describe("unpushedManifestWarning (real git)", () => {
  it("warns once local master's deploy.json differs from origin/master's, not before; silent without a local master", async () => {
    const f = await fixture();
    const env = f.env();
    const loaded = await loadFromOrigin(f.operator, env, { fetch: true });
    assert.equal(unpushedManifestWarning(loaded), null, "no local master yet");
    await f.git(f.operator, "checkout", "-q", "-b", "master", "origin/master");
    const same = await loadFromOrigin(f.operator, env, { fetch: false });
    assert.equal(same.localManifestId, same.manifestId);
    assert.equal(unpushedManifestWarning(same), null, "the same deploy.json");
    await writeFile(join(f.operator, "deploy.json"), manifestText({ timeoutMs: 600_000 }));
    await f.git(f.operator, "commit", "-q", "-am", "local change");
    const changed = await loadFromOrigin(f.operator, env, { fetch: false });
    const warning = unpushedManifestWarning(changed);
    assert.equal(warning, `warning: deploy.json on local master differs from origin/master (not pushed); this run proves origin/master (${loaded.commit.slice(0, 12)}): push master to test your change\n`);
    const again = await loadFromOrigin(f.operator, env, { fetch: true });
    assert.equal(again.commit, loaded.commit, "the run still proves origin/master");
  });
});
