/**
 * The whole sandbox (docs/sandbox.md) in one call: git over HTTPS with a private CA, the egress proxy,
 * D601 (ssh2 + real bash), backend-core (dispatch contract) and the fake Kubernetes API, all on
 * 127.0.0.1 with free ports, under one temp directory. See docs/sandbox.md.
 */
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { startFakeKube, type FakeKube, type FakeKubeOptions } from "../kube/fake-api.ts";
import { startBackendCore, type BackendCore } from "./backend-core.ts";
import { startD601, type D601 } from "./d601.ts";
import { startEgressProxy, type EgressProxy } from "./egress-proxy.ts";
import {
  createCertificates,
  createOperatorClone,
  createOriginRepo,
  pushCommit,
  startGitHttpsServer,
  type GitHttpsServer,
  type GitRequestRecord,
  type OriginRepo,
  type PushCommitOptions,
  type RepoFiles,
} from "./git-https.ts";
import { generateKeyPair } from "./ssh-exec.ts";
import { SANITY_MS, until } from "../support/until.ts";

/** The repo's own runner directory, copied into the origin as `scripts/ci/`. */
export const REPO_RUNNER_DIR = fileURLToPath(new URL("../../scripts/ci/", import.meta.url));
/** The placeholder runner for sandbox self-tests. */
export const PLACEHOLDER_RUNNER = fileURLToPath(new URL("./placeholder-runner.sh", import.meta.url));
/** Path of the origin repository below the git server, as on GitHub. */
export const ORIGIN_REPO_PATH = "pikasTech/unidesk.git";
/** A sample dev service pin for deploy.json (any full sha: the fake cluster does not build it). */
export const SAMPLE_SERVICE = { id: "backend-core", repo: "https://github.com/pikasTech/unidesk", commitId: "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c" };

/** Variables every sandbox D601 command gets: the runner polls the fake cluster quickly (its default is 5 s), not so
 * quickly that waiting runners, two kubectl and one jq a poll, take the CPU the tests beside them need. */
export const SANDBOX_D601_ENV: Readonly<Record<string, string>> = { UNIDESK_CI_RUNNER_POLL_MS: "400" };

/** `environments.dev.ci.timeoutMs` of the sandbox's deploy.json unless a test sets its own (see {@link SandboxOptions.timeoutMs}). */
export const SANDBOX_RUN_TIMEOUT_MS = 600_000;

/** Options for {@link startSandbox}. */
export interface SandboxOptions {
  /**
   * What goes to `scripts/ci/` in the origin: `repo` copies the real files from
   * {@link REPO_RUNNER_DIR} (fails if `dev-e2e.sh` is missing); `placeholder` puts
   * placeholder-runner.sh there as `dev-e2e.sh` (no Kubernetes work). @default "repo"
   */
  runner?: "repo" | "placeholder";
  /**
   * `environments.dev.ci.timeoutMs` in deploy.json: far beyond any test's own waits, so no run a test holds (a
   * hanging one, one whose tasks wait for the CLI) meets its deadline on a loaded machine; tests of the deadline
   * set their own. @default {@link SANDBOX_RUN_TIMEOUT_MS}
   */
  timeoutMs?: number;
  /** `environments.dev.services` in deploy.json. @default [SAMPLE_SERVICE] */
  services?: { id: string; repo: string; commitId: string }[];
  /** More files for the initial commit (path → text), written after deploy.json and scripts/ci. */
  extraFiles?: RepoFiles;
  /** Hard budget of one dispatch call in backend-core. @default 60000 */
  budgetMs?: number;
  /** Options for the fake Kubernetes API, or `false` to run without it (kubectl then fails fast). @default {} */
  kube?: FakeKubeOptions | false;
  /**
   * Extra variables for every D601 command (and so for the launcher and runner), merged over
   * {@link SANDBOX_D601_ENV}; proxy variables are refused. @default {}
   */
  d601Env?: Record<string, string>;
  /** Keep the temp directory after stop() (e.g. for the demo). @default false */
  keep?: boolean;
  /** Parent of the sandbox's temp directory. @default os.tmpdir() */
  parentDir?: string;
}

/** A running sandbox. */
export interface Sandbox {
  /** The temp directory holding everything. */
  root: string;
  /** backend-core, e.g. `http://127.0.0.1:41234`. */
  backendUrl: string;
  /** A token allowed for D601. */
  token: string;
  /** A valid token that is not allowed for D601 (403 forbidden). */
  forbiddenToken: string;
  /** `D601`. */
  providerId: string;
  /** The operator clone (origin = {@link Sandbox.originUrl}); run the CLI here or pass --repo-dir. */
  operatorRepoDir: string;
  /** `https://127.0.0.1:<port>/pikasTech/unidesk.git`, also deploy.json's `environments.dev.ci.repo`. */
  originUrl: string;
  /** Full sha of the initial commit on origin master. */
  initialCommit: string;
  /** `environments.dev.ci.timeoutMs` of the initial commit's deploy.json: what a launcher must be rendered with. */
  runTimeoutMs: number;
  /** The sandbox CA certificate (trusted by the operator clone and D601). */
  caCertPath: string;
  /** D601's HOME. */
  d601Home: string;
  /** UNIDESK_CI_RUNS_ROOT: `<d601Home>/.unidesk/runs`. */
  runsRoot: string;
  /** UNIDESK_CI_WORK_ROOT: `<root>/d601/tmp/unidesk-ci`. */
  workRoot: string;
  /** UNIDESK_CI_EGRESS_PROXY, e.g. `http://127.0.0.1:41235`. */
  proxyUrl: string;
  /** D601's KUBECONFIG. */
  kubeconfig: string;
  /** Only the variables a CLI process needs (merge over a clean base, see {@link Sandbox.cliEnv}). */
  env: Record<string, string>;
  /** A complete environment for spawning the CLI: PATH and LANG from this process, no proxy/GIT_/UNIDESK_ variables, plus `env` and `extra`. */
  cliEnv(extra?: Record<string, string>): Record<string, string>;
  git: GitHttpsServer;
  origin: OriginRepo;
  proxy: EgressProxy;
  d601: D601;
  backend: BackendCore;
  /** The fake cluster; undefined with `kube: false`. */
  kube?: FakeKube;
  /** Commits in the operator clone and pushes to origin master; returns the full sha. */
  commit(options: PushCommitOptions): Promise<string>;
  /** Git requests that came neither from the operator clone nor through the egress proxy (should stay empty). */
  requestsBypassingProxy(): GitRequestRecord[];
  /** Polls `<runsRoot>/<runId>/result.json` (every 100 ms) and returns it parsed; throws after `timeoutMs` (default 60000). */
  waitForResult(runId: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** Stops everything (D601 processes included) and removes the temp directory unless `keep`. */
  stop(): Promise<void>;
}

/** The deploy.json the sandbox origin starts with. */
export function sandboxManifest(originUrl: string, options: Pick<SandboxOptions, "timeoutMs" | "services"> = {}): object {
  return {
    schemaVersion: 2,
    environments: {
      dev: {
        ci: { repo: originUrl, scriptPath: "scripts/ci/dev-e2e.sh", timeoutMs: options.timeoutMs ?? SANDBOX_RUN_TIMEOUT_MS },
        services: options.services ?? [SAMPLE_SERVICE],
      },
    },
  };
}

/** Reads `scripts/ci/**` for the origin, per the `runner` option. */
export async function runnerFiles(runner: "repo" | "placeholder"): Promise<RepoFiles> {
  if (runner === "placeholder") return { "scripts/ci/dev-e2e.sh": await readFile(PLACEHOLDER_RUNNER, "utf8") };
  if (!existsSync(join(REPO_RUNNER_DIR, "dev-e2e.sh"))) {
    throw new Error(`startSandbox: ${join(REPO_RUNNER_DIR, "dev-e2e.sh")} does not exist yet; pass { runner: "placeholder" } to use the placeholder runner`);
  }
  const files: RepoFiles = {};
  const walk = async (dir: string) => {
    for (const name of await readdir(dir)) {
      const path = join(dir, name);
      if ((await stat(path)).isDirectory()) await walk(path);
      else files[`scripts/ci/${relative(REPO_RUNNER_DIR, path)}`] = await readFile(path, "utf8");
    }
  };
  await walk(REPO_RUNNER_DIR);
  return files;
}

/** Starts every part of the sandbox on free loopback ports; on failure stops what already started. */
export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const root = await mkdtemp(join(options.parentDir ?? tmpdir(), "unidesk-sandbox-"));
  const stops: (() => Promise<unknown>)[] = [];
  const stopAll = async () => {
    const errors: unknown[] = [];
    // Reverse start order: backend and D601 (and its processes) go before git, proxy and kube.
    for (const s of stops.reverse()) {
      try {
        await s();
      } catch (err) {
        errors.push(err);
      }
    }
    stops.length = 0;
    if (!options.keep) await rm(root, { recursive: true, force: true, maxRetries: 3 });
    if (errors.length > 0) throw new AggregateError(errors, "sandbox stop failed");
  };
  try {
    const files = await runnerFiles(options.runner ?? "repo");
    const certs = await createCertificates(join(root, "certs"));
    const git = await startGitHttpsServer({ projectRoot: join(root, "git"), certs });
    stops.push(() => git.stop());
    const proxy = await startEgressProxy();
    stops.push(() => proxy.stop());

    let kube: FakeKube | undefined;
    if (options.kube !== false) {
      kube = await startFakeKube(options.kube ?? {});
      stops.push(() => kube!.stop());
    }

    const originUrl = git.repoUrl(ORIGIN_REPO_PATH);
    const manifest = sandboxManifest(originUrl, options);
    const origin = await createOriginRepo(git, ORIGIN_REPO_PATH, {
      "deploy.json": `${JSON.stringify(manifest, null, 2)}\n`,
      ...files,
      ...options.extraFiles,
    });
    const operatorHome = join(root, "operator", "home");
    await mkdir(join(operatorHome, ".config"), { recursive: true });
    const operatorRepoDir = await createOperatorClone({ url: origin.url, dir: join(root, "operator", "unidesk"), caCertPath: certs.caCertPath });

    const d601Home = join(root, "d601", "home");
    const runsRoot = join(d601Home, ".unidesk", "runs");
    const workRoot = join(root, "d601", "tmp", "unidesk-ci");
    await mkdir(join(d601Home, ".kube"), { recursive: true });
    const kubeconfig = join(d601Home, ".kube", "config");
    if (kube) await kube.writeKubeconfig(kubeconfig, "d601");
    const backendKey = generateKeyPair("backend-core");
    const d601 = await startD601({
      home: d601Home,
      authorizedKeys: [backendKey.publicKey],
      kubeconfig: kube ? kubeconfig : undefined,
      caCertPath: certs.caCertPath,
      env: { ...SANDBOX_D601_ENV, ...options.d601Env },
    });
    stops.push(() => d601.stop());

    const token = `sbx-${randomBytes(16).toString("hex")}`;
    const forbiddenToken = `sbx-${randomBytes(16).toString("hex")}`;
    const backend = await startBackendCore({
      tokens: [
        { token, providers: ["D601"] },
        { token: forbiddenToken, providers: ["D602"] },
      ],
      providerId: "D601",
      ssh: { host: d601.host, port: d601.port, username: d601.username, privateKey: backendKey.privateKey, hostKey: d601.hostPublicKey },
      budgetMs: options.budgetMs,
    });
    stops.push(() => backend.stop());

    const env: Record<string, string> = {
      UNIDESK_BACKEND_URL: backend.url,
      UNIDESK_TOKEN: token,
      UNIDESK_CI_PROVIDER: "D601",
      UNIDESK_CI_RUNS_ROOT: runsRoot,
      UNIDESK_CI_WORK_ROOT: workRoot,
      UNIDESK_CI_EGRESS_PROXY: proxy.url,
      HOME: operatorHome,
      XDG_CONFIG_HOME: join(operatorHome, ".config"),
      GIT_TERMINAL_PROMPT: "0",
    };
    return {
      root,
      backendUrl: backend.url,
      token,
      forbiddenToken,
      providerId: "D601",
      operatorRepoDir,
      originUrl: origin.url,
      initialCommit: origin.initialCommit,
      runTimeoutMs: options.timeoutMs ?? SANDBOX_RUN_TIMEOUT_MS,
      caCertPath: certs.caCertPath,
      d601Home,
      runsRoot,
      workRoot,
      proxyUrl: proxy.url,
      kubeconfig: d601.commandEnv.KUBECONFIG ?? kubeconfig,
      env,
      cliEnv: (extra = {}) => ({ ...cleanBaseEnv(), ...env, ...extra }),
      git,
      origin,
      proxy,
      d601,
      backend,
      kube,
      commit: (o) => pushCommit(operatorRepoDir, o),
      requestsBypassingProxy: () => {
        const ports = proxy.outboundPorts();
        return git.requests.filter((r) => r.client !== "operator" && !ports.has(r.remotePort));
      },
      waitForResult: (runId, timeoutMs = SANITY_MS) => {
        const file = join(runsRoot, runId, "result.json");
        const parsed = async () => JSON.parse(await readFile(file, "utf8").catch(() => "null")) as Record<string, unknown> | null;
        return until(`a valid ${file}`, () => parsed().catch(() => null), { limitMs: timeoutMs, everyMs: 50 });
      },
      stop: stopAll,
    };
  } catch (err) {
    await stopAll().catch(() => {});
    throw err;
  }
}

/** PATH, LANG and TERM-ish basics of this process, without proxy, git or unidesk variables. */
function cleanBaseEnv(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of ["PATH", "LANG", "LC_ALL", "TZ"]) {
    const v = process.env[k];
    if (v !== undefined) out[k] = v;
  }
  return out;
}
