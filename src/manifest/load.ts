/** Reads deploy.json from `origin/master` of the operator's clone and checks it (docs/manifest.md). */
import { anySignal, decodeText, FileReadError, isStdinPath, SpawnOutputError, type Env, type SpawnResult } from "../env.ts";
import { ManifestError, UsageError } from "../errors.ts";
import { findDuplicateKey, parseJson } from "../json-text.ts";
import { formatIssuePath, manifestIssuesError, ROOT_PATH, toManifestIssues } from "./issues.ts";
import { sameRepository } from "./repo-url.ts";
import { untrustedLine } from "../redact.ts";
import { FULL_SHA, MANIFEST_MAX_BYTES } from "../rules.ts";
import { manifestSchema, type Manifest } from "./schema.ts";

/** A manifest read from the fetched `origin/master` commit. */
export interface LoadedManifest {
  /** Full 40-hex commit of `origin/master` that supplied deploy.json. */
  commit: string;
  manifest: Manifest;
  /** `remote.origin.url` as configured (before `insteadOf` rewriting). */
  originUrl: string;
  /** The operator's clone as named (--repo-dir, else the current directory): its top level or a directory inside it. */
  repoDir: string;
  /** The blob id of deploy.json at {@link commit}. */
  manifestId: string;
  /** The object id of deploy.json on the clone's local `master`; undefined without one (for {@link unpushedManifestWarning}). */
  localManifestId?: string;
}

/** Options for {@link loadFromOrigin}. */
export interface LoadOptions {
  /** Run `git fetch origin master` first; false for `--dry-run` (offline). */
  fetch: boolean;
  /** The bound of each read of the clone; default {@link CLONE_READ_MS} (tests shorten it). */
  readBoundMs?: number;
}

/**
 * How long one read of the operator's clone (its settings, the object batch, `git log`) may take: reading a few
 * objects is instant, so only a hang ends here (a FIFO or a dead mount in .git/config's includes), with a definite
 * error instead of a command that never ends. The fetch and `ls-remote` go over the network and are not bounded.
 */
export const CLONE_READ_MS = 30_000;

/** A bound on one git process: `ms`, and what the error says it was doing and how to fix it. */
export interface GitBound {
  ms: number;
  what: string;
}

/** {@link CLONE_READ_MS} for a read of the clone. */
export const CLONE_READ: GitBound = { ms: CLONE_READ_MS, what: "reading this clone (it is instant); check .git/config and the files it includes (a FIFO, a dead mount)" };

/** The ref the manifest is read from. */
export const MANIFEST_REF = "origin/master";
/** The manifest's path inside the commit. */
export const MANIFEST_PATH = "deploy.json";

/** The full name of {@link MANIFEST_REF}. */
const MANIFEST_REF_FULL = "refs/remotes/origin/master";
/** The commit origin/master names. */
const ORIGIN_MASTER = `${MANIFEST_REF_FULL}^{commit}`;
/** The root tree of the clone's local master: its deploy.json is compared with origin's for the unpushed-change warning. */
const LOCAL_ROOT = "refs/heads/master^{tree}";

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

/** Segments of a duplicate key's path shown (a hostile file may nest it hundreds deep). */
const DUPLICATE_PATH_SHOWN = 16;

/** Parses deploy.json text (a leading BOM is dropped); throws a ManifestError whose `issues` list every problem. */
export function parseManifestText(text: string, source: string): Manifest {
  // The runtime's parse error is not quoted: it shows text around the error, which only confuses.
  const json = parseJson(text.replace(/^\uFEFF/, ""));
  if (!json.ok) throw rootError(source, `is not valid JSON${json.where}; fix the syntax`);
  // JSON.parse keeps the last of two equal keys: refused, so every reader (the runner too) sees one document.
  const duplicate = findDuplicateKey(text);
  if (duplicate !== undefined) {
    const shown = formatIssuePath(duplicate.path.slice(0, DUPLICATE_PATH_SHOWN)) + (duplicate.path.length > DUPLICATE_PATH_SHOWN ? "…" : "");
    const key = JSON.stringify(duplicate.key.length > 64 ? `${duplicate.key.slice(0, 64)}…` : duplicate.key);
    throw rootError(source, `duplicate key ${key} at ${shown}; keep one of them (JSON readers disagree on which one counts)`);
  }
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

/**
 * How every read of the clone runs (docs/security.md): objects raw, as origin sent them. Replace refs
 * (`git replace`, `--graft`) and an `info/grafts` file are ignored, system and global config are not read
 * (nothing there may change what a read returns; a clone owned by another user is refused, as git does without
 * `safe.directory`), and no hook or fsmonitor runs. `cat-file --batch` applies no textconv or filter.
 */
export const GIT_READ_ENV = { ...GIT_ENV, GIT_NO_REPLACE_OBJECTS: "1", GIT_GRAFT_FILE: "/dev/null", GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null", GIT_ATTR_NOSYSTEM: "1" } as const;

/**
 * Variables that make git read another repository, object store, index or config than `-C <clone>` names (git's
 * own list, `git rev-parse --local-env-vars`, and the ones that set config): never inherited, so a GIT_DIR a hook
 * or a script exported cannot have the CLI read and credit a repository the operator did not name, past git's
 * ownership check. The ones the CLI sets itself ({@link GIT_READ_ENV}) are set again. Any case: Windows reads
 * `Git_Dir` as GIT_DIR.
 */
export const GIT_REPO_ENV = /^GIT_(DIR|WORK_TREE|IMPLICIT_WORK_TREE|INDEX_FILE|OBJECT_DIRECTORY|ALTERNATE_OBJECT_DIRECTORIES|COMMON_DIR|NAMESPACE|PREFIX|INTERNAL_SUPER_PREFIX|SHALLOW_FILE|GRAFT_FILE|NO_REPLACE_OBJECTS|REPLACE_REF_BASE|CEILING_DIRECTORIES|DISCOVERY_ACROSS_FILESYSTEM|CONFIG|CONFIG_PARAMETERS|CONFIG_COUNT|CONFIG_KEY_\d+|CONFIG_VALUE_\d+)$/i;

/** `-c` settings put before every git command: no hook, no fsmonitor, no replace objects whatever the clone's config says. */
export const GIT_SAFE_ARGS = ["-c", "core.hooksPath=/dev/null", "-c", "core.fsmonitor=false", "-c", "core.useReplaceRefs=false"] as const;

/** A one-issue ManifestError `<path>: <message>` about a git ref or a field checked against git. */
function refError(path: string, message: string, cause?: unknown): ManifestError {
  return new ManifestError(`${path}: ${message}`, { issues: [{ path, message }], source: MANIFEST_SOURCE, cause });
}

/** One entry of a git tree object. */
interface TreeEntry {
  /** Octal mode as git writes it in a tree (`100644`, `100755`, `120000`, `40000`, `160000`). */
  mode: string;
  /** Object id (hex). */
  id: string;
  name: string;
}

/** Parses a raw tree object (`<mode> <name>\0<id bytes>`…); `idBytes` is 20 (SHA-1) or 32 (SHA-256). */
function parseTree(bytes: Uint8Array, idBytes: number): TreeEntry[] {
  const entries: TreeEntry[] = [];
  const text = new TextDecoder();
  let at = 0;
  while (at < bytes.length) {
    const nul = bytes.indexOf(0, at);
    if (nul < 0 || nul + 1 + idBytes > bytes.length) break;
    const head = text.decode(bytes.subarray(at, nul));
    const space = head.indexOf(" ");
    const id = Array.from(bytes.subarray(nul + 1, nul + 1 + idBytes), (b) => b.toString(16).padStart(2, "0")).join("");
    entries.push({ mode: head.slice(0, space), name: head.slice(space + 1), id });
    at = nul + 1 + idBytes;
  }
  return entries;
}

/** One answer of `git cat-file --batch`: the object, or undefined when the name does not resolve. */
interface BatchObject {
  id: string;
  type: string;
  content: Uint8Array;
}

/** Splits `git cat-file --batch` output (`<id> <type> <size>\n<content>\n` or `<name> missing\n`), one answer per input line. */
function parseBatch(bytes: Uint8Array, count: number): (BatchObject | undefined)[] {
  const out: (BatchObject | undefined)[] = [];
  const text = new TextDecoder();
  let at = 0;
  while (out.length < count && at < bytes.length) {
    const nl = bytes.indexOf(10, at);
    if (nl < 0) break;
    const header = text.decode(bytes.subarray(at, nl));
    const m = /^([0-9a-f]{40,64}) (\w+) (\d+)$/.exec(header);
    if (!m) {
      out.push(undefined); // "<name> missing", "<name> ambiguous"
      at = nl + 1;
      continue;
    }
    const size = Number(m[3]);
    out.push({ id: m[1]!, type: m[2]!, content: bytes.subarray(nl + 1, nl + 1 + size) });
    at = nl + 1 + size + 1;
  }
  while (out.length < count) out.push(undefined);
  return out;
}

/** What a tree entry is when it is not a regular file ("a directory (git tree)", …), else undefined. */
function notRegularKind(entry: TreeEntry): string | undefined {
  if (entry.mode === "120000") return "a symbolic link";
  if (entry.mode === "40000") return "a directory (git tree)";
  if (entry.mode === "160000") return "a submodule (gitlink)";
  if (entry.mode !== "100644" && entry.mode !== "100755") return `a git object of mode ${entry.mode}`;
  return undefined;
}

/** Runs git in one clone, never prompting, with {@link GIT_SAFE_ARGS}; `stdin` feeds `cat-file --batch`. */
export type Git = (args: readonly string[], extraEnv?: Record<string, string>, stdin?: string) => Promise<SpawnResult>;

/** git's first message line: outside text (a remote's or a hook's words), one clean redacted line. */
function firstLine(text: string, secrets: Iterable<string>): string {
  const line = text.split("\n").map((l) => l.trim()).find((l) => l !== "") ?? "";
  return untrustedLine(line.replace(/^(fatal|error): /, ""), secrets);
}

/**
 * A {@link Git} for the clone at `repoDir`; a git that cannot start is a ManifestError naming it, and so is one that
 * outlasts `limit` (when given; the child is killed).
 */
export function makeGit(repoDir: string, env: Env, limit?: GitBound): Git {
  return async (args, extraEnv = {}, stdin) => {
    const bound = limit === undefined ? undefined : AbortSignal.timeout(limit.ms);
    const { signal, dispose } = bound ? anySignal(env.signal, bound) : { signal: env.signal, dispose: () => undefined };
    const outlasted = () => !env.signal.aborted && bound?.aborted === true;
    const hung = () => refError(repoDir, `git did not answer within ${limit!.ms} ms ${limit!.what}`);
    try {
      const result = await env.spawn("git", ["-C", repoDir, ...GIT_SAFE_ARGS, ...args], { env: { ...GIT_ENV, ...extraEnv }, dropEnv: GIT_REPO_ENV, signal, ...(stdin === undefined ? {} : { stdin }) });
      if (outlasted()) throw hung();
      return result;
    } catch (error) {
      if (env.signal.aborted || error instanceof ManifestError) throw error;
      if (outlasted()) throw hung();
      if (error instanceof SpawnOutputError) {
        throw refError(repoDir, `git answered more than ${error.maxBytes} bytes (git ${args[0]}); an object that large is no deploy.json (at most ${MANIFEST_MAX_BYTES} bytes): shrink it at origin/master`, error);
      }
      throw refError("git", `cannot run git (${error instanceof Error ? error.message : String(error)}); install git and make sure it is on PATH`, error);
    } finally {
      dispose();
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

// A dry run's time beyond --help is mostly git processes (~3 ms each here) and Optique's first parse: two
// processes read everything. One `cat-file --batch` reads every object (the commits, trees, deploy.json), raw
// (GIT_READ_ENV).
const batchRead = (git: Git) => git(["cat-file", "--batch"], GIT_READ_ENV, BATCH_INPUT);
// The clone's own settings, NUL-separated: `--local` fails outside a repository (exit 128), so this one process
// also tells a directory that is no clone (docs/manifest.md#what-is-read-from-where).
const settingsRead = (git: Git) => git(["config", "--local", "-z", "--get-regexp", "^(remote\\.origin\\.url|core\\.bare)$"], GIT_READ_ENV);

/**
 * `remote.origin.url` (the last one, as `git config --get` answers) and `core.bare` from {@link settingsRead}'s
 * output (`key\nvalue\0`, or `key\0` for a key without a value, which git reads as true).
 */
function parseSettings(out: string): { originUrl: string; bare: boolean } {
  const values = new Map<string, string>();
  for (const entry of out.split("\0")) {
    const nl = entry.indexOf("\n");
    if (entry !== "") values.set(nl < 0 ? entry : entry.slice(0, nl), nl < 0 ? "true" : entry.slice(nl + 1));
  }
  return { originUrl: (values.get("remote.origin.url") ?? "").trim(), bare: /^(true|yes|on|1)$/i.test(values.get("core.bare") ?? "") };
}

/**
 * Reads and checks `origin/master:deploy.json` of the clone at `repoDir`, never the working tree's copy:
 * optional `git fetch origin master`, the full commit, the manifest, origin ↔ `environments.dev.ci.repo`,
 * and `scriptPath` present at that commit. Every failure is a one-line {@link ManifestError}.
 */
export async function loadFromOrigin(repoDir: string, env: Env, options: LoadOptions): Promise<LoadedManifest> {
  const git = makeGit(repoDir, env, { ...CLONE_READ, ms: options.readBoundMs ?? CLONE_READ_MS });
  const network = makeGit(repoDir, env);
  // Without a fetch both reads run side by side, the batch (the slower) started first.
  const [offlineBatch, settings] = options.fetch ? [undefined, await settingsRead(git)] : await Promise.all([batchRead(git), settingsRead(git)]);
  const notClone = (why: string) => refError(repoDir, `not a git work tree (${why}); run in your clone of the repository or pass --repo-dir <clone>`);
  if (settings.code !== 0 && settings.code !== 1) {
    // Why git sees no clone here, in its own words ("not a git repository …", "detected dubious ownership …"):
    // config's --local complaint hides them, so only this failure asks rev-parse.
    const probe = await git(["rev-parse", "--git-dir"], GIT_READ_ENV);
    throw notClone(firstLine(probe.code !== 0 ? probe.stderr : settings.stderr, env.secrets) || `git config exited ${settings.code}`);
  }
  const { originUrl, bare } = parseSettings(settings.stdout);
  if (bare) throw notClone("a bare repository");
  if (originUrl === "") {
    throw refError("remote.origin.url", `not set in ${repoDir}; add the remote with \`git remote add origin <repository URL>\``);
  }

  if (options.fetch) {
    // An explicit refspec updates origin/master even when remote.origin.fetch is narrowed.
    const fetched = await network(["fetch", "--quiet", "--no-tags", "origin", "+refs/heads/master:refs/remotes/origin/master"], await sshEnv(git, env));
    if (fetched.code !== 0) {
      throw refError(
        "git fetch origin master",
        `failed (${firstLine(fetched.stderr, env.secrets) || `exit ${fetched.code}`}); check that ${untrustedLine(originUrl, env.secrets)} is reachable, your git credentials work without a prompt, and master exists there`,
      );
    }
  }
  const batch = offlineBatch ?? (await batchRead(git));
  const objects = batch.code === 0 ? readObjects(batch.stdoutBytes ?? new TextEncoder().encode(batch.stdout)) : undefined;
  if (objects === "moved") throw refError(MANIFEST_REF, `changed while it was read (a fetch in another terminal?); run the command again`);
  if (objects === undefined) {
    const how = options.fetch ? "push master to origin" : "run `git fetch origin master` first (a dry run does not fetch)";
    throw refError(MANIFEST_REF, `no such commit in ${repoDir}; ${how}`);
  }
  const { commit, root, deployBytes, scripts, localManifestId } = objects;
  const at = `${MANIFEST_REF} (${commit.slice(0, 12)})`;

  const deploy = root.find((e) => e.name === MANIFEST_PATH);
  const notFound = () => refError(MANIFEST_SOURCE, `not found at ${at}; commit deploy.json at the repository root and push it to master`);
  if (deploy === undefined) throw notFound();
  const deployKind = notRegularKind(deploy);
  if (deployKind !== undefined) throw refError(MANIFEST_SOURCE, `deploy.json at ${at} is ${deployKind}, not a file; commit deploy.json itself as a regular file`);
  if (deployBytes === undefined) throw notFound();
  if (deployBytes.length > MANIFEST_MAX_BYTES) throw tooLarge(MANIFEST_SOURCE);
  const manifest = parseManifestText(decodeManifest(deployBytes, MANIFEST_SOURCE), MANIFEST_SOURCE);

  const { repo, scriptPath } = manifest.environments.dev.ci;
  if (!sameRepository(originUrl, repo)) {
    throw refError(
      "environments.dev.ci.repo",
      `${repo} is not the repository of origin (${untrustedLine(originUrl, env.secrets)}); run from a clone of ${repo} (or pass --repo-dir), or fix environments.dev.ci.repo`,
    );
  }

  const entry = scripts.find((e) => SCRIPT_DIR + e.name === scriptPath);
  if (!entry) {
    throw refError("environments.dev.ci.scriptPath", `${scriptPath} does not exist at ${at}; commit and push it to master, or fix scriptPath`);
  }
  const scriptKind = notRegularKind(entry);
  if (scriptKind !== undefined) {
    throw refError("environments.dev.ci.scriptPath", `${scriptPath} is ${scriptKind} at ${at}, not a regular file; commit the script itself there`);
  }

  return { commit, manifest, originUrl, repoDir, manifestId: deploy.id, ...(localManifestId ? { localManifestId } : {}) };
}

/**
 * What `cat-file --batch` is asked, one object per line: origin/master's by the ref (the answers are checked to chain
 * into one commit), then the local master's root tree (only deploy.json's entry id is taken from it).
 */
const BATCH_NAMES = [ORIGIN_MASTER, `${MANIFEST_REF_FULL}^{tree}`, `${MANIFEST_REF_FULL}:${MANIFEST_PATH}`, `${MANIFEST_REF_FULL}:scripts`, `${MANIFEST_REF_FULL}:${SCRIPT_DIR.slice(0, -1)}`, LOCAL_ROOT];
const BATCH_INPUT = BATCH_NAMES.join("\n") + "\n";

/** The objects of origin/master the CLI reads. */
interface OriginObjects {
  commit: string;
  /** The commit's root tree. */
  root: TreeEntry[];
  /** deploy.json's bytes when it is a blob at the root. */
  deployBytes?: Uint8Array;
  /** Entries of scripts/ci/ (empty when there is none). */
  scripts: TreeEntry[];
  /** The id of deploy.json on the local master, when it has one. */
  localManifestId?: string;
}

/**
 * The answers of {@link BATCH_NAMES}: undefined when origin/master names no commit; "moved" when the answers do
 * not chain (the commit's tree is the root, deploy.json, scripts and scripts/ci are its entries), i.e. the ref
 * changed between two lines.
 */
function readObjects(bytes: Uint8Array): OriginObjects | "moved" | undefined {
  const [commit, root, deploy, scriptsDir, ciDir, localRoot] = parseBatch(bytes, BATCH_NAMES.length);
  if (commit?.type !== "commit" || !FULL_SHA.test(commit.id)) return undefined;
  const treeId = /^tree ([0-9a-f]+)$/m.exec(new TextDecoder().decode(commit.content.subarray(0, 200)))?.[1];
  if (root?.type !== "tree" || root.id !== treeId) return "moved";
  const idBytes = commit.id.length / 2;
  const rootEntries = parseTree(root.content, idBytes);
  const chained = (object: BatchObject | undefined, entry: TreeEntry | undefined) => (object === undefined ? entry === undefined || entry.mode === "160000" : entry?.id === object.id);
  const deployEntry = rootEntries.find((e) => e.name === MANIFEST_PATH);
  const scriptsEntry = rootEntries.find((e) => e.name === "scripts");
  if (!chained(deploy, deployEntry) || !chained(scriptsDir, scriptsEntry)) return "moved";
  const scriptsEntries = scriptsDir?.type === "tree" ? parseTree(scriptsDir.content, idBytes) : [];
  const ciEntry = scriptsEntries.find((e) => e.name === SCRIPT_DIR.split("/")[1]);
  if (!chained(ciDir, ciEntry)) return "moved";
  return {
    commit: commit.id,
    root: rootEntries,
    ...(deploy?.type === "blob" ? { deployBytes: deploy.content } : {}),
    scripts: ciDir?.type === "tree" ? parseTree(ciDir.content, idBytes) : [],
    localManifestId: localRoot?.type === "tree" ? parseTree(localRoot.content, idBytes).find((e) => e.name === MANIFEST_PATH)?.id : undefined,
  };
}

/**
 * The one-line warning (docs/commands.md#unidesk-ci-run-dev-e2e) when the clone's local `master` holds a deploy.json
 * other than the one at the loaded commit (origin/master, what the run proves): a change committed but not pushed.
 * Null when they are equal or the clone has no local master with a deploy.json. Read by loadFromOrigin's one
 * `cat-file --batch`, so it costs no git process of its own.
 */
export function unpushedManifestWarning(loaded: LoadedManifest): string | null {
  if (loaded.localManifestId === undefined || loaded.localManifestId === loaded.manifestId) return null;
  return `warning: deploy.json on local master differs from origin/master (not pushed); this run proves origin/master (${loaded.commit.slice(0, 12)}): push master to test your change\n`;
}
