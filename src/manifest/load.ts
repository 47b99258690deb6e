/** Reads deploy.json from `origin/master` of the operator's clone and checks it (SPEC §3, docs/manifest.md). */
import { decodeText, FileReadError, isStdinPath, type Env, type SpawnResult } from "../env.ts";
import { ManifestError, UsageError } from "../errors.ts";
import { parseJson } from "../json-text.ts";
import { manifestIssuesError, ROOT_PATH, toManifestIssues } from "./issues.ts";
import { sameRepository } from "./repo-url.ts";
import { redactUserinfo, untrustedLine } from "../redact.ts";
import { FULL_SHA, MANIFEST_MAX_BYTES } from "../rules.ts";
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

/** How `validate` names standard input (`-` or `/dev/stdin`). */
export const STDIN_SOURCE = "(stdin)";

/** A `(root)` ManifestError about the document as a whole. */
const rootError = (source: string, message: string) => manifestIssuesError(source, [{ path: ROOT_PATH, message }]);

/** The bound every reader of deploy.json applies (validate FILE, origin/master's, the runner on D601). */
const tooLarge = (source: string) => rootError(source, `is larger than ${MANIFEST_MAX_BYTES} bytes, the most deploy.json may have; shrink it`);

/** A `(root)` issue for bytes that are not UTF-8 (`error` is decodeText's EILSEQ). */
const notUtf8 = (source: string, error: FileReadError) => rootError(source, `${error.reason}; save it as UTF-8`);

/** Decodes deploy.json bytes: UTF-8 only, a leading BOM dropped (the rule of every file this CLI reads). */
function decodeManifest(bytes: Uint8Array, source: string): string {
  try {
    return decodeText(bytes, source);
  } catch (error) {
    if (!(error instanceof FileReadError)) throw error;
    throw notUtf8(source, error);
  }
}

/** Parses deploy.json text (a leading BOM is dropped); throws a ManifestError whose `issues` list every problem. */
export function parseManifestText(text: string, source: string): Manifest {
  // The runtime's parse error is not quoted: it shows text around the error, which only confuses.
  const json = parseJson(text.replace(/^\uFEFF/, ""));
  if (!json.ok) throw rootError(source, `is not valid JSON${json.where}; fix the syntax`);
  const result = manifestSchema.safeParse(json.value);
  if (!result.success) throw manifestIssuesError(source, toManifestIssues(result.error.issues), { cause: result.error });
  return result.data;
}

/**
 * Reads and checks a deploy.json file for `validate FILE`: a regular file (or standard input for `-` and
 * `/dev/stdin`) of at most MANIFEST_MAX_BYTES, UTF-8, then {@link parseManifestText}. An unreadable file is a
 * UsageError (a FIFO is refused at once); anything about its content a ManifestError, both exit 2.
 */
export async function loadFromFile(file: string, env: Env): Promise<{ source: string; manifest: Manifest }> {
  const source = isStdinPath(file) ? STDIN_SOURCE : file;
  let text: string;
  try {
    text = await env.readFile(file, { maxBytes: MANIFEST_MAX_BYTES, stdin: true });
  } catch (error) {
    if (env.signal.aborted || !(error instanceof FileReadError)) throw error;
    if (error.code === "EFBIG") throw tooLarge(source);
    if (error.code === "EILSEQ") throw notUtf8(source, error);
    throw new UsageError(`cannot read ${file}: it ${error.reason}; pass a deploy.json file, or - to read standard input`);
  }
  return { source, manifest: parseManifestText(text, source) };
}

// Never prompt: no terminal prompt for https credentials, no GUI credential manager dialog.
const GIT_ENV = { GIT_TERMINAL_PROMPT: "0", GCM_INTERACTIVE: "never" } as const;

/** A one-issue ManifestError `<path>: <message>` about a git ref or a field checked against git. */
function refError(path: string, message: string, cause?: unknown): ManifestError {
  return new ManifestError(`${path}: ${message}`, { issues: [{ path, message }], source: MANIFEST_SOURCE, cause });
}

/** One `git ls-tree -l` entry. */
interface TreeEntry {
  mode: string;
  type: string;
  /** Bytes of a blob; -1 for a tree or a submodule. */
  size: number;
  path: string;
}

/** Parses `git ls-tree -l -z` output (`<mode> <type> <object> <size>\t<path>`, NUL-separated). */
function parseTreeEntries(stdout: string): TreeEntry[] {
  return stdout.split("\0").flatMap((line) => {
    const m = /^(\d{6}) (\w+) [0-9a-f]+ +(\d+|-)\t(.*)$/s.exec(line);
    return m ? [{ mode: m[1]!, type: m[2]!, size: m[3] === "-" ? -1 : Number(m[3]), path: m[4]! }] : [];
  });
}

/** What a tree entry is when it is not a regular file ("a directory (git tree)", …), else undefined. */
function notRegularKind(entry: TreeEntry): string | undefined {
  if (entry.mode === "120000") return "a symbolic link";
  if (entry.type === "tree") return "a directory (git tree)";
  if (entry.type === "commit") return "a submodule (gitlink)";
  if (entry.type !== "blob") return `a git ${entry.type}`;
  return undefined;
}

/** Runs git in one clone, never prompting. */
export type Git = (args: readonly string[], extraEnv?: Record<string, string>) => Promise<SpawnResult>;

/** git's first message line: outside text (a remote's or a hook's words), one clean redacted line. */
function firstLine(text: string, secrets: Iterable<string>): string {
  const line = text.split("\n").map((l) => l.trim()).find((l) => l !== "") ?? "";
  return untrustedLine(line.replace(/^(fatal|error): /, ""), secrets);
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
      throw refError(repoDir, `not a git work tree (${firstLine(top.stderr, env.secrets) || "no top level"}); run in your clone of the repository or pass --repo-dir <clone>`);
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
        `failed (${firstLine(fetched.stderr, env.secrets) || `exit ${fetched.code}`}); check that ${redactUserinfo(originUrl)} is reachable, your git credentials work without a prompt, and master exists there`,
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
  // ls-tree gives existence, type, mode and size in one call; --full-tree because repoDir may be a subdirectory.
  const [shown, listed] = await Promise.all([git(["show", `${commit}:${MANIFEST_PATH}`]), git(["ls-tree", "--full-tree", "-l", "-z", commit, "--", MANIFEST_PATH, SCRIPT_DIR])]);
  const entries = listed.code === 0 ? parseTreeEntries(listed.stdout) : [];
  const deploy = entries.find((e) => e.path === MANIFEST_PATH);
  const notFound = () => refError(MANIFEST_SOURCE, `not found at ${at}; commit deploy.json at the repository root and push it to master`);
  if (deploy === undefined) throw notFound();
  // git show of a tree lists it and of a symlink prints its target: neither is the manifest.
  const deployKind = notRegularKind(deploy);
  if (deployKind !== undefined) throw refError(MANIFEST_SOURCE, `deploy.json at ${at} is ${deployKind}, not a file; commit deploy.json itself as a regular file`);
  if (deploy.size > MANIFEST_MAX_BYTES) throw tooLarge(MANIFEST_SOURCE);
  if (shown.code !== 0) throw notFound();
  const manifest = parseManifestText(shown.stdoutBytes ? decodeManifest(shown.stdoutBytes, MANIFEST_SOURCE) : shown.stdout, MANIFEST_SOURCE);

  const { repo, scriptPath } = manifest.environments.dev.ci;
  if (!sameRepository(originUrl, repo)) {
    throw refError(
      "environments.dev.ci.repo",
      `${repo} is not the repository of origin (${redactUserinfo(originUrl)}); run from a clone of ${repo} (or pass --repo-dir), or fix environments.dev.ci.repo`,
    );
  }

  const entry = entries.find((e) => e.path === scriptPath);
  if (!entry) {
    throw refError("environments.dev.ci.scriptPath", `${scriptPath} does not exist at ${at}; commit and push it to master, or fix scriptPath`);
  }
  const scriptKind = notRegularKind(entry);
  if (scriptKind !== undefined) {
    throw refError("environments.dev.ci.scriptPath", `${scriptPath} is ${scriptKind} at ${at}, not a regular file; commit the script itself there`);
  }

  return { commit, manifest, originUrl, repoDir: topLevel };
}
