/** Real git repositories for loadFromOrigin tests: a bare origin, a seed clone that pushes, an operator clone. */
import { makeSpawn } from "../../src/spawn.ts";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fakeEnv, type Env, type Spawn, type SpawnOptions, type SpawnResult } from "../../src/env.ts";

/** Configured URL of the operator clone's origin; `insteadOf` maps it to the local bare repo. */
export const ORIGIN_URL = "https://git.example.test/pikasTech/unidesk.git";
/** What a good manifest names as environments.dev.ci.repo. */
export const MANIFEST_REPO = "https://git.example.test/pikasTech/unidesk";

/** A good deploy.json. */
export function goodManifest(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    schemaVersion: 2,
    environments: {
      dev: { ci: { repo: MANIFEST_REPO, scriptPath: "scripts/ci/dev-e2e.sh", timeoutMs: 1_800_000, ...overrides }, services: [] },
      prod: { untouched: true },
    },
  };
}

/** An isolated git environment: no global/system config, no $HOME, never above the temp root. */
function isolatedEnv(root: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: join(root, "home"),
    GIT_CONFIG_GLOBAL: join(root, "home", "gitconfig"),
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CEILING_DIRECTORIES: dirname(root),
    GIT_AUTHOR_NAME: "Test",
    GIT_AUTHOR_EMAIL: "test@example.test",
    GIT_COMMITTER_NAME: "Test",
    GIT_COMMITTER_EMAIL: "test@example.test",
    LANG: "C",
  };
}

/** Runs through main.ts's spawn (src/spawn.ts) in `env`: what git inherits, its bounds, its stdout as text and bytes. */
function run(cmd: string, args: readonly string[], env: NodeJS.ProcessEnv, options: SpawnOptions = {}): Promise<SpawnResult> {
  return makeSpawn(env, new Set(), [])(cmd, args, options);
}

/** One spawn call as loadFromOrigin made it. */
export interface SpawnCall {
  cmd: string;
  args: readonly string[];
  env: Record<string, string> | undefined;
  stdin: string | undefined;
}

/** The repositories of one test. */
export interface GitFixture {
  root: string;
  origin: string;
  seed: string;
  operator: string;
  /** Runs git in `dir` (throws on failure). */
  git(dir: string, ...args: string[]): Promise<string>;
  /** Runs git in `dir` with `stdin` as its input; returns its trimmed stdout (throws on failure). */
  gitInput(dir: string, stdin: string, ...args: string[]): Promise<string>;
  /** Writes files (null: delete) in the seed clone, commits and pushes them to origin master; `gitlinks` are submodule entries (path → commit). */
  push(files: Record<string, string | Uint8Array | null>, options?: { symlinks?: Record<string, string>; gitlinks?: Record<string, string> }): Promise<string>;
  /** A fakeEnv whose spawn runs real git in the isolated environment (plus `vars`), recording every call. */
  env(vars?: NodeJS.ProcessEnv): Env & { calls: SpawnCall[] };
  cleanup(): Promise<void>;
}

/** Options for {@link createGitFixture}. */
export interface FixtureOptions {
  /** Files of the first commit on master. @default a good deploy.json and scripts/ci/dev-e2e.sh */
  files?: Record<string, string | Uint8Array | null>;
  /** Push the first commit at all (false: an empty origin). @default true */
  pushFirst?: boolean;
}

/** Creates origin.git, pushes a first commit from seed/, and clones operator/ with origin = {@link ORIGIN_URL} via insteadOf. */
export async function createGitFixture(options: FixtureOptions = {}): Promise<GitFixture> {
  const root = await mkdtemp(join(tmpdir(), "unidesk-ci-load-"));
  await mkdir(join(root, "home"));
  await writeFile(join(root, "home", "gitconfig"), "");
  const env = isolatedEnv(root);
  const origin = join(root, "origin.git");
  const seed = join(root, "seed");
  const operator = join(root, "operator");
  const git = async (dir: string, ...args: string[]) => {
    const r = await run("git", ["-C", dir, ...args], env);
    if (r.code !== 0) throw new Error(`git ${args.join(" ")} failed: ${r.stderr}`);
    return r.stdout;
  };
  await run("git", ["init", "--bare", "-q", "-b", "master", origin], env);
  await run("git", ["init", "-q", "-b", "master", seed], env);
  await git(seed, "remote", "add", "origin", origin);

  const push = async (files: Record<string, string | Uint8Array | null>, extra: { symlinks?: Record<string, string>; gitlinks?: Record<string, string> } = {}) => {
    for (const [path, text] of Object.entries(files)) {
      const full = join(seed, path);
      if (text === null) await rm(full, { recursive: true, force: true });
      else {
        await mkdir(dirname(full), { recursive: true });
        await writeFile(full, text);
      }
    }
    for (const [path, target] of Object.entries(extra.symlinks ?? {})) {
      await mkdir(dirname(join(seed, path)), { recursive: true });
      await symlink(target, join(seed, path));
    }
    await git(seed, "add", "-A");
    for (const [path, commit] of Object.entries(extra.gitlinks ?? {})) await git(seed, "update-index", "--add", "--cacheinfo", `160000,${commit},${path}`);
    await git(seed, "commit", "-q", "--allow-empty", "-m", "change");
    await git(seed, "push", "-q", "origin", "HEAD:master");
    return (await git(seed, "rev-parse", "HEAD")).trim();
  };

  if (options.pushFirst !== false) {
    await push(options.files ?? { "deploy.json": JSON.stringify(goodManifest(), null, 2), "scripts/ci/dev-e2e.sh": "#!/bin/bash\necho runner\n" });
  }
  await run("git", ["init", "-q", "-b", "master", operator], env);
  await git(operator, "remote", "add", "origin", ORIGIN_URL);
  // Fetches go to the local bare repo, while remote.origin.url stays the https URL an operator would have.
  await git(operator, "config", `url.file://${origin}.insteadOf`, ORIGIN_URL);
  if (options.pushFirst !== false) await git(operator, "fetch", "-q", "origin");

  return {
    root,
    origin,
    seed,
    operator,
    git,
    gitInput: async (dir, stdin, ...args) => {
      const r = await run("git", ["-C", dir, ...args], env, { stdin });
      if (r.code !== 0) throw new Error(`git ${args.join(" ")} failed: ${r.stderr}`);
      return r.stdout.trim();
    },
    push,
    env: (vars = {}) => {
      const calls: SpawnCall[] = [];
      const spawnGit: Spawn = (cmd, args, opts = {}) => {
        calls.push({ cmd, args, env: opts.env, stdin: opts.stdin });
        return run(cmd, args, { ...env, ...vars }, opts);
      };
      return Object.assign(fakeEnv({ spawn: spawnGit, cwd: operator }), { calls });
    },
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
}
