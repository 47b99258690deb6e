/** Reads deploy.json from `origin/master` of the operator's clone and checks it (SPEC §3, docs/manifest.md). */
import type { Env, SpawnResult } from "../env.ts";
import { ManifestError } from "../errors.ts";
import { manifestIssuesError, ROOT_PATH, toManifestIssues } from "./issues.ts";
import { redactUrl, sameRepository } from "./repo-url.ts";
import { FULL_SHA } from "../rules.ts";
import { manifestSchema, type Manifest } from "./schema.ts";

/** A manifest read from the fetched `origin/master` commit. */
export interface LoadedManifest {
  /** Full 40-hex commit of `origin/master` that supplied deploy.json. */
  commit: string;
  manifest: Manifest;
  /** `remote.origin.url` as configured (before `insteadOf` rewriting). */
  originUrl: string;
  /** Top level of the operator's clone (absolute). */
  repoDir: string;
}

/** Options for {@link loadFromOrigin}. */
export interface LoadOptions {
  /** Run `git fetch origin master` first; false for `--dry-run` (offline). */
  fetch: boolean;
}

/** The ref the manifest is read from. */
export const MANIFEST_REF = "origin/master";
/** The manifest's path inside the commit. */
export const MANIFEST_PATH = "deploy.json";

/** The commit origin/master names. */
const ORIGIN_MASTER = "refs/remotes/origin/master^{commit}";

/** Where scriptPath must live (one level, see SCRIPT_PATH in schema.ts). */
export const SCRIPT_DIR = "scripts/ci/";

/** How errors name the manifest read from origin. */
export const MANIFEST_SOURCE = `${MANIFEST_REF}:${MANIFEST_PATH}`;

/** Parses deploy.json text; throws a ManifestError whose `issues` list every problem. */
export function parseManifestText(text: string, source: string): Manifest {
  let data: unknown;
  try {
    // A UTF-8 BOM is invisible in editors and harmless; JSON.parse would reject it.
    data = JSON.parse(text.replace(/^\uFEFF/, ""));
  } catch (error) {
    const detail = error instanceof Error ? error.message.split("\n")[0] : String(error);
    throw manifestIssuesError(source, [{ path: ROOT_PATH, message: `is not valid JSON (${detail}); fix the syntax` }], { cause: error });
  }
  const result = manifestSchema.safeParse(data);
  if (!result.success) throw manifestIssuesError(source, toManifestIssues(result.error.issues), { cause: result.error });
  return result.data;
}

// Never prompt: no terminal prompt for https credentials, no GUI credential manager dialog.
const GIT_ENV = { GIT_TERMINAL_PROMPT: "0", GCM_INTERACTIVE: "never" } as const;

/** A one-issue ManifestError `<path>: <message>` about a git ref or a field checked against git. */
function refError(path: string, message: string, cause?: unknown): ManifestError {
  return new ManifestError(`${path}: ${message}`, { issues: [{ path, message }], source: MANIFEST_SOURCE, cause });
}

/** Runs git in one clone, never prompting. */
export type Git = (args: readonly string[], extraEnv?: Record<string, string>) => Promise<SpawnResult>;

function firstLine(text: string): string {
  const line = text.split("\n").map((l) => l.trim()).find((l) => l !== "") ?? "";
  return redactUrl(line.replace(/^(fatal|error): /, ""));
}

/** A {@link Git} for the clone at `repoDir`; a git that cannot start is a ManifestError naming it. */
export function makeGit(repoDir: string, env: Env): Git {
  return async (args, extraEnv = {}) => {
    try {
      return await env.spawn("git", ["-C", repoDir, ...args], { env: { ...GIT_ENV, ...extraEnv }, signal: env.signal });
    } catch (error) {
      if (env.signal.aborted) throw error;
      throw refError("git", `cannot run git (${error instanceof Error ? error.message : String(error)}); install git and make sure it is on PATH`, error);
    }
  };
}

/** ssh must fail instead of asking for a passphrase or a host key, unless the operator chose their own ssh command. */
export async function sshEnv(git: Git, env: Env): Promise<Record<string, string>> {
  if (env.vars.GIT_SSH_COMMAND || env.vars.GIT_SSH) return {};
  const configured = await git(["config", "--get", "core.sshCommand"]);
  if (configured.code === 0 && configured.stdout.trim() !== "") return {};
  return { GIT_SSH_COMMAND: "ssh -o BatchMode=yes" };
}

/**
 * Reads and checks `origin/master:deploy.json` of the clone at `repoDir`, never the working tree's copy:
 * optional `git fetch origin master`, the full commit, the manifest, origin ↔ `environments.dev.ci.repo`,
 * and `scriptPath` present at that commit. Every failure is a one-line {@link ManifestError}.
 */
export async function loadFromOrigin(repoDir: string, env: Env, options: LoadOptions): Promise<LoadedManifest> {
  const git = makeGit(repoDir, env);

  // Independent reads run side by side, and without a fetch one rev-parse answers two questions:
  // startup time is dominated by git process spawns.
  const [located, origin] = await Promise.all([
    git(["rev-parse", "--show-toplevel", ...(options.fetch ? [] : [ORIGIN_MASTER])]),
    git(["config", "--get", "remote.origin.url"]),
  ]);
  let [topLevel = "", commit = ""] = located.code === 0 ? located.stdout.trim().split("\n") : [];
  if (topLevel === "") {
    // Not a work tree, or (combined call) no origin/master: the top level alone tells which.
    const top = options.fetch ? located : await git(["rev-parse", "--show-toplevel"]);
    topLevel = top.code === 0 ? top.stdout.trim() : "";
    if (topLevel === "") {
      throw refError(repoDir, `not a git work tree (${firstLine(top.stderr) || "no top level"}); run in your clone of the repository or pass --repo-dir <clone>`);
    }
  }

  const originUrl = origin.stdout.trim();
  if (origin.code !== 0 || originUrl === "") {
    throw refError("remote.origin.url", `not set in ${topLevel}; add the remote with \`git remote add origin <repository URL>\``);
  }

  if (options.fetch) {
    // An explicit refspec updates origin/master even when remote.origin.fetch is narrowed.
    const fetched = await git(["fetch", "--quiet", "--no-tags", "origin", "+refs/heads/master:refs/remotes/origin/master"], await sshEnv(git, env));
    if (fetched.code !== 0) {
      throw refError(
        "git fetch origin master",
        `failed (${firstLine(fetched.stderr) || `exit ${fetched.code}`}); check that ${redactUrl(originUrl)} is reachable, your git credentials work without a prompt, and master exists there`,
      );
    }
    const rev = await git(["rev-parse", "--verify", "--quiet", ORIGIN_MASTER]);
    commit = rev.code === 0 ? rev.stdout.trim() : "";
  }
  if (!FULL_SHA.test(commit)) {
    const how = options.fetch ? "push master to origin" : "run `git fetch origin master` first (a dry run does not fetch)";
    throw refError(MANIFEST_REF, `no such commit in ${topLevel}; ${how}`);
  }
  const at = `${MANIFEST_REF} (${commit.slice(0, 12)})`;

  // The schema pins scriptPath to scripts/ci/<name>.sh, so listing scripts/ci/ can run beside git show.
  // ls-tree gives existence, type and mode in one call; --full-tree because repoDir may be a subdirectory.
  const [shown, listed] = await Promise.all([git(["show", `${commit}:${MANIFEST_PATH}`]), git(["ls-tree", "--full-tree", "-z", commit, "--", SCRIPT_DIR])]);
  if (shown.code !== 0) {
    throw refError(MANIFEST_SOURCE, `not found at ${at}; commit deploy.json at the repository root and push it to master`);
  }
  const manifest = parseManifestText(shown.stdout, MANIFEST_SOURCE);

  const { repo, scriptPath } = manifest.environments.dev.ci;
  if (!sameRepository(originUrl, repo)) {
    throw refError(
      "environments.dev.ci.repo",
      `${repo} is not the repository of origin (${redactUrl(originUrl)}); run from a clone of ${repo} (or pass --repo-dir), or fix environments.dev.ci.repo`,
    );
  }

  const entry = listed.code === 0 ? listed.stdout.split("\0").map((e) => /^(\d{6}) (\w+) [0-9a-f]+\t(.*)$/s.exec(e)).find((m) => m?.[3] === scriptPath) : undefined;
  if (!entry) {
    throw refError("environments.dev.ci.scriptPath", `${scriptPath} does not exist at ${at}; commit and push it to master, or fix scriptPath`);
  }
  if (entry[2] !== "blob" || entry[1] === "120000") {
    const kind = entry[1] === "120000" ? "a symbolic link" : `a ${entry[2]}`;
    throw refError("environments.dev.ci.scriptPath", `${scriptPath} is ${kind} at ${at}, not a regular file; commit the script itself there`);
  }

  return { commit, manifest, originUrl, repoDir: topLevel };
}
